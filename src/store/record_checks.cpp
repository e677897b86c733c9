#include "store/record_checks.hpp"

#include <algorithm>
#include <cstdint>

#include "npcl/store/store_error.hpp"

namespace npcl::store::detail {

namespace {

[[noreturn]] void reject(std::string_view field, std::string_view why) {
  throw store_error(store_error_kind::invalid, std::string(field) + ": " + std::string(why));
}

bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80 ? 0 : (c >> 5) == 0x6 ? 1 : (c >> 4) == 0xE ? 2 : (c >> 3) == 0x1E ? 3 : 4;
    if (n == 4 || n >= s.size() - i) return false;  // bad lead byte or truncated sequence
    std::uint32_t cp = n == 0 ? c : n == 1 ? (c & 0x1F) : n == 2 ? (c & 0x0F) : (c & 0x07);
    for (std::size_t k = 1; k <= n; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    i += n + 1;
  }
  return true;
}

bool blank(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; });
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// A phone number as we can call it back: 10 national digits, or 6..15 digits for others.
std::string checked_phone(std::string_view field, std::string_view value, bool required) {
  if (value.empty() && !required) return {};
  std::string n = normalize_phone(value);
  if (n.size() < 6 || n.size() > 15) reject(field, "not a phone number");
  return n;
}

}  // namespace

void check_text(std::string_view field, std::string_view value, std::size_t max_bytes, bool required) {
  if (value.size() > max_bytes) reject(field, "longer than " + std::to_string(max_bytes) + " bytes");
  if (value.find('\0') != std::string_view::npos) reject(field, "contains a NUL byte");
  if (!valid_utf8(value)) reject(field, "not valid UTF-8");
  if (required && blank(value)) reject(field, "required");
}

new_complaint checked(const new_complaint& c) {
  new_complaint out = c;
  check_text("consumer_number", c.consumer_number, max_short_text, false);
  if (!c.consumer_number.empty() && !all_digits(c.consumer_number)) reject("consumer_number", "not digits");
  check_text("area", c.area, max_short_text, true);
  check_text("address", c.address, max_long_text, false);
  check_text("description", c.description, max_long_text, true);
  check_text("call_id", c.call_id, max_short_text, false);
  out.callback_number = checked_phone("callback_number", c.callback_number, false);
  if (to_string(c.category) == "unknown") reject("category", "unknown value");
  if (to_string(c.priority) == "unknown") reject("priority", "unknown value");
  return out;
}

new_connection_request checked(const new_connection_request& r) {
  new_connection_request out = r;
  check_text("applicant_name", r.applicant_name, max_short_text, true);
  check_text("area", r.area, max_short_text, true);
  check_text("address", r.address, max_long_text, true);
  check_text("load_category", r.load_category, max_short_text, false);
  check_text("call_id", r.call_id, max_short_text, false);
  out.mobile = checked_phone("mobile", r.mobile, true);
  return out;
}

void check(const call_record& r) {
  check_text("call_id", r.call_id, max_short_text, true);
  check_text("caller_number", r.caller_number, max_short_text, false);
  check_text("language", r.language, max_short_text, false);
  check_text("outcome", r.outcome, max_short_text, false);
  check_text("transcript_json", r.transcript_json, max_json_text, false);
  check_text("tool_calls_json", r.tool_calls_json, max_json_text, false);
  if (r.input_tokens < 0 || r.output_tokens < 0) reject("tokens", "negative");
}

void check(const consumer& c) {
  check_text("number", c.number, max_short_text, true);
  if (!all_digits(c.number)) reject("number", "not digits");
  check_text("name", c.masked_name, max_short_text, false);
  check_text("mobile", c.registered_mobile, max_short_text, false);
  check_text("area", c.area, max_short_text, true);
  check_text("sector", c.sector, max_short_text, false);
}

void check(const bill& b) {
  check_text("consumer", b.consumer_number, max_short_text, true);
  const auto& p = b.period;
  if (p.size() != 7 || !all_digits(p.substr(0, 4)) || p[4] != '-' || !all_digits(p.substr(5)) ||
      p.substr(5) < "01" || p.substr(5) > "12")
    reject("period", "not YYYY-MM");
  const auto& d = b.due_date;
  if (d.size() != 10 || !all_digits(d.substr(0, 4)) || d[4] != '-' || !all_digits(d.substr(5, 2)) || d[7] != '-' ||
      !all_digits(d.substr(8)) || d.substr(5, 2) < "01" || d.substr(5, 2) > "12" || d.substr(8) < "01" ||
      d.substr(8) > "31")
    reject("due_date", "not YYYY-MM-DD");
  if (b.amount_paise < 0) reject("amount_paise", "negative");
}

void check(const outage& o) {
  check_text("area", o.area, max_short_text, true);
  check_text("sector", o.sector, max_short_text, false);
  check_text("note", o.note, max_long_text, false);
  if (o.eta && *o.eta < o.start) reject("eta", "before start");
}

}  // namespace npcl::store::detail
