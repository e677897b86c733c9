#include "store/csv_reader.hpp"

namespace npcl::store::detail {

std::optional<csv_reader::row> csv_reader::next() {
  if (!bom_checked_) {
    bom_checked_ = true;
    if (in_.peek() == 0xEF) {
      char bom[3];
      in_.read(bom, 3);
      if (std::string_view(bom, static_cast<std::size_t>(in_.gcount())) != "\xEF\xBB\xBF") {
        in_.clear();
        in_.seekg(0);
      }
    }
  }
  std::string line;
  while (std::getline(in_, line)) {
    ++line_;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;

    row r;
    r.line = line_;
    std::string field;
    bool quoted = false;      // inside a quoted field
    bool was_quoted = false;  // the current field started with a quote
    std::size_t i = 0;
    for (;;) {
      if (i == line.size()) {
        if (!quoted) break;
        // A quoted field continues on the next line; the newline is part of the value.
        if (!std::getline(in_, line)) {
          r.error = "unterminated quoted field";
          break;
        }
        ++line_;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        field.push_back('\n');
        i = 0;
        continue;
      }
      char c = line[i++];
      if (quoted) {
        if (c == '"') {
          if (i < line.size() && line[i] == '"') {
            field.push_back('"');
            ++i;
          } else {
            quoted = false;
          }
        } else {
          field.push_back(c);
        }
      } else if (c == ',') {
        r.fields.push_back(std::move(field));
        field.clear();
        was_quoted = false;
      } else if (c == '"' && field.empty() && !was_quoted) {
        quoted = was_quoted = true;
      } else if (c == '"') {
        r.error = "stray quote in column " + std::to_string(r.fields.size() + 1);
      } else {
        field.push_back(c);
      }
      if (field.size() > max_csv_field && r.error.empty()) {
        r.error = "cell longer than " + std::to_string(max_csv_field) + " bytes in column " +
                  std::to_string(r.fields.size() + 1);
      }
      if (field.size() > max_csv_field) field.resize(max_csv_field + 1);  // bounded memory for a runaway quote
    }
    r.fields.push_back(std::move(field));
    return r;
  }
  return std::nullopt;
}

}  // namespace npcl::store::detail
