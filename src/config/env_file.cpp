// parse_env_file: the `.env` syntax the old Python system (python-dotenv) read,
// so that existing files keep working unchanged.
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string_view>

#include "npcl/config/loader.hpp"

namespace npcl::config {
namespace {

bool is_blank(char c) { return c == ' ' || c == '\t'; }

std::string_view trim_left(std::string_view v) {
  while (!v.empty() && is_blank(v.front())) v.remove_prefix(1);
  return v;
}

std::string_view trim_right(std::string_view v) {
  while (!v.empty() && is_blank(v.back())) v.remove_suffix(1);
  return v;
}

bool is_variable_name(std::string_view key) {
  if (key.empty() || std::isdigit(static_cast<unsigned char>(key.front()))) return false;
  for (const char c : key) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

// One env-file line. The line text never goes into an error: it may be a
// malformed secret.
class line_parser {
 public:
  line_parser(const std::string& path, int number) : path_(path), number_(number) {}

  /// Adds the line's variable to `out`; blank and comment lines add nothing.
  void parse(std::string_view line, env_map& out) const {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);  // CRLF files
    line = trim_left(line);
    if (line.empty() || line.front() == '#') return;
    if (line.substr(0, 6) == "export" && line.size() > 6 && is_blank(line[6]))
      line = trim_left(line.substr(7));
    const auto eq = line.find('=');
    if (eq == std::string_view::npos) fail("expected KEY=VALUE");
    const auto key = trim_right(line.substr(0, eq));
    if (!is_variable_name(key)) fail("invalid variable name before '='");
    out[std::string(key)] = value(line.substr(eq + 1));
  }

 private:
  [[noreturn]] void fail(const std::string& reason) const {
    throw config_error(path_, "line " + std::to_string(number_), reason);
  }

  std::string value(std::string_view raw) const {
    const auto text = trim_left(raw);
    if (!text.empty() && (text.front() == '"' || text.front() == '\'')) return quoted(text);
    // A '#' starts a comment only after white space, so `pass#word` survives.
    for (std::size_t i = 1; i < raw.size(); ++i) {
      if (raw[i] == '#' && is_blank(raw[i - 1])) {
        raw = raw.substr(0, i);
        break;
      }
    }
    return std::string(trim_right(trim_left(raw)));
  }

  std::string quoted(std::string_view text) const {
    const char quote = text.front();
    std::string out;
    std::size_t i = 1;
    for (; i < text.size() && text[i] != quote; ++i) {
      // Single quotes are literal; double quotes take the escapes dotenv knows.
      if (quote == '"' && text[i] == '\\' && i + 1 < text.size()) {
        const char next = text[++i];
        switch (next) {
          case 'n': out += '\n'; break;
          case 't': out += '\t'; break;
          case '"':
          case '\\': out += next; break;
          default: out += '\\'; out += next; break;
        }
        continue;
      }
      out += text[i];
    }
    if (i >= text.size()) fail("unterminated quoted value");
    const auto rest = trim_left(text.substr(i + 1));
    if (!rest.empty() && rest.front() != '#') fail("unexpected text after the closing quote");
    return out;
  }

  const std::string& path_;  ///< the env file, for error messages
  int number_;               ///< 1-based line number, for error messages
};

}  // namespace

env_map parse_env_file(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw config_error(path, "", "is a directory, not an env file");
  std::ifstream in(path);
  if (!in) throw config_error(path, "", std::string("cannot read: ") + std::strerror(errno));
  env_map out;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) line_parser(path, ++number).parse(line, out);
  if (in.bad()) throw config_error(path, "", "read error");
  return out;
}

}  // namespace npcl::config
