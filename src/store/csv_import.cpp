#include "store/csv_import.hpp"

#include <algorithm>
#include <charconv>
#include <map>

#include "npcl/obs/log.hpp"
#include "npcl/store/store_error.hpp"
#include "store/csv_reader.hpp"
#include "store/record_checks.hpp"

namespace npcl::store::detail {

namespace {

// Column positions by header name, so files may order columns as they like.
class columns {
 public:
  columns(const std::vector<std::string>& header, const std::vector<const char*>& required) {
    for (std::size_t i = 0; i < header.size(); ++i) {
      std::string name = header[i];
      std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
      while (!name.empty() && name.back() == ' ') name.pop_back();
      while (!name.empty() && name.front() == ' ') name.erase(0, 1);
      index_.emplace(name, i);
    }
    for (const char* name : required) {
      if (!index_.contains(name)) {
        throw store_error(store_error_kind::invalid, std::string("CSV header lacks column \"") + name + "\"");
      }
    }
    width_ = header.size();
  }

  std::size_t width() const { return width_; }

  // The cell of a required column in a row known to have `width()` cells, trimmed of spaces.
  std::string cell(const std::vector<std::string>& row, const char* name) const {
    std::string v = row[index_.at(name)];
    std::size_t b = v.find_first_not_of(' ');
    if (b == std::string::npos) return {};
    return v.substr(b, v.find_last_not_of(' ') - b + 1);
  }

 private:
  std::map<std::string, std::size_t> index_;  ///< lower-case column name → position
  std::size_t width_{0};                       ///< cells per row
};

struct bad_cell {
  std::string reason;  ///< names the column and the problem
};

std::int64_t int_cell(const std::string& v, const char* column) {
  std::int64_t out = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (v.empty() || ec != std::errc{} || p != v.data() + v.size()) {
    throw bad_cell{std::string(column) + ": not a whole number"};
  }
  return out;
}

template <class E>
E enum_cell(std::optional<E> v, const char* column) {
  if (!v) throw bad_cell{std::string(column) + ": unknown value"};
  return *v;
}

// "Asha Verma" → "A*** V****": the assistant may use a name to confirm who is
// calling but never reads a full name out to whoever dialled. Works on UTF-8
// code points, so Devanagari and Bengali names mask cleanly too.
std::string mask_name(const std::string& name) {
  std::string out;
  bool word_start = true;
  for (std::size_t i = 0; i < name.size();) {
    unsigned char lead = static_cast<unsigned char>(name[i]);
    std::size_t len = lead < 0x80 ? 1 : (lead >> 5) == 0x6 ? 2 : (lead >> 4) == 0xE ? 3 : (lead >> 3) == 0x1E ? 4 : 1;
    len = std::min(len, name.size() - i);
    if (lead == ' ') {
      out += ' ';
      word_start = true;
    } else if (word_start) {
      out.append(name, i, len);
      word_start = false;
    } else {
      out += '*';
    }
    i += len;
  }
  return out;
}

consumer consumer_row(const columns& c, const std::vector<std::string>& r) {
  consumer out;
  out.number = c.cell(r, "number");
  out.masked_name = mask_name(c.cell(r, "name"));
  std::string mobile = c.cell(r, "mobile");
  out.registered_mobile = normalize_phone(mobile);
  if (!mobile.empty() && out.registered_mobile.size() != 10) throw bad_cell{"mobile: not a 10-digit mobile number"};
  out.area = c.cell(r, "area");
  out.sector = c.cell(r, "sector");
  std::string status = c.cell(r, "status");
  out.status = status.empty() ? consumer_status::active : enum_cell(parse_consumer_status(status), "status");
  return out;
}

bill bill_row(const columns& c, const std::vector<std::string>& r) {
  bill out;
  out.consumer_number = c.cell(r, "consumer");
  out.period = c.cell(r, "period");
  out.amount_paise = int_cell(c.cell(r, "amount_paise"), "amount_paise");
  out.due_date = c.cell(r, "due_date");
  out.status = enum_cell(parse_bill_status(c.cell(r, "status")), "status");
  return out;
}

outage outage_row(const columns& c, const std::vector<std::string>& r) {
  outage out;
  out.area = c.cell(r, "area");
  out.sector = c.cell(r, "sector");
  out.kind = enum_cell(parse_outage_kind(c.cell(r, "kind")), "kind");
  auto start = parse_time_cell(c.cell(r, "start"));
  if (!start) throw bad_cell{"start: not a time"};
  out.start = *start;
  std::string eta = c.cell(r, "eta");
  if (!eta.empty()) {
    out.eta = parse_time_cell(eta);
    if (!out.eta) throw bad_cell{"eta: not a time"};
  }
  out.note = c.cell(r, "note");
  return out;
}

bool digits(const std::string& s, std::size_t from, std::size_t n) {
  if (from + n > s.size()) return false;
  return std::all_of(s.begin() + from, s.begin() + from + n, [](char ch) { return ch >= '0' && ch <= '9'; });
}

int number_at(const std::string& s, std::size_t from, std::size_t n) { return std::stoi(s.substr(from, n)); }

}  // namespace

std::optional<timestamp> parse_time_cell(const std::string& cell) {
  if (cell.empty()) return std::nullopt;
  if (std::all_of(cell.begin(), cell.end(), [](char ch) { return ch >= '0' && ch <= '9'; })) {
    if (cell.size() > 12) return std::nullopt;  // beyond year 33658: a typo, not a time
    return timestamp{std::chrono::seconds{std::stoll(cell)}};
  }
  // YYYY-MM-DD[ T]HH:MM[:SS]
  if (!(cell.size() == 16 || cell.size() == 19) || !digits(cell, 0, 4) || cell[4] != '-' || !digits(cell, 5, 2) ||
      cell[7] != '-' || !digits(cell, 8, 2) || (cell[10] != ' ' && cell[10] != 'T') || !digits(cell, 11, 2) ||
      cell[13] != ':' || !digits(cell, 14, 2))
    return std::nullopt;
  int sec = 0;
  if (cell.size() == 19) {
    if (cell[16] != ':' || !digits(cell, 17, 2)) return std::nullopt;
    sec = number_at(cell, 17, 2);
  }
  using namespace std::chrono;
  year_month_day ymd{year{number_at(cell, 0, 4)}, month{static_cast<unsigned>(number_at(cell, 5, 2))},
                     day{static_cast<unsigned>(number_at(cell, 8, 2))}};
  int hour = number_at(cell, 11, 2), minute = number_at(cell, 14, 2);
  if (!ymd.ok() || hour > 23 || minute > 59 || sec > 59) return std::nullopt;
  return time_point_cast<seconds>(sys_days{ymd}) + hours{hour} + minutes{minute} + seconds{sec};
}

import_result import_rows(import_kind kind, std::istream& csv, record_writer& writer) {
  csv_reader reader(csv);
  auto header = reader.next();
  if (!header || !header->error.empty()) throw store_error(store_error_kind::invalid, "CSV has no header line");

  static const std::map<import_kind, std::vector<const char*>> required{
      {import_kind::consumers, {"number", "name", "mobile", "area", "sector", "status"}},
      {import_kind::bills, {"consumer", "period", "amount_paise", "due_date", "status"}},
      {import_kind::outages, {"area", "sector", "kind", "start", "eta", "note"}},
  };
  columns cols(header->fields, required.at(kind));

  import_result result;
  while (auto row = reader.next()) {
    auto reject = [&](std::string reason) {
      spdlog::warn("import {}: line {} skipped: {}", to_string(kind), row->line, reason);
      result.errors.push_back({row->line, std::move(reason)});
    };
    if (!row->error.empty()) {
      reject(row->error);
      continue;
    }
    if (row->fields.size() != cols.width()) {
      reject("expected " + std::to_string(cols.width()) + " columns, found " + std::to_string(row->fields.size()));
      continue;
    }
    try {
      switch (kind) {
        case import_kind::consumers: {
          consumer c = consumer_row(cols, row->fields);
          check(c);
          writer.upsert(c);
          break;
        }
        case import_kind::bills: {
          bill b = bill_row(cols, row->fields);
          check(b);
          if (!writer.consumer_exists(b.consumer_number)) throw bad_cell{"consumer: no such consumer"};
          writer.upsert(b);
          break;
        }
        case import_kind::outages: {
          outage o = outage_row(cols, row->fields);
          check(o);
          writer.upsert(o);
          break;
        }
      }
      ++result.imported;
    } catch (const bad_cell& e) {
      reject(e.reason);
    } catch (const store_error& e) {
      if (e.kind() != store_error_kind::invalid) throw;
      reject(e.what());
    }
  }
  spdlog::info("import {}: {} rows imported, {} rejected", to_string(kind), result.imported, result.errors.size());
  return result;
}

}  // namespace npcl::store::detail
