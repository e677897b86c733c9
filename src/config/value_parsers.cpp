#include "config/value_parsers.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <sstream>

#include "npcl/config/config_error.hpp"

namespace npcl::config::detail {
namespace {

using std::chrono::milliseconds;

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// Numbers and words are compared without surrounding blanks: a stray space in
// a process environment value is a typing accident, not a different value.
std::string_view trimmed(const std::string& value) {
  std::string_view v = value;
  while (!v.empty() && std::isspace(static_cast<unsigned char>(v.front()))) v.remove_prefix(1);
  while (!v.empty() && std::isspace(static_cast<unsigned char>(v.back()))) v.remove_suffix(1);
  return v;
}

[[noreturn]] void fail(std::string_view name, const std::string& value, std::string reason) {
  throw config_error(std::string(name), value, std::move(reason));
}

std::string range_text(long long min, long long max) {
  return std::to_string(min) + ".." + std::to_string(max);
}

}  // namespace

bool parse_bool(std::string_view name, const std::string& value) {
  const auto v = lower(trimmed(value));
  if (v == "true" || v == "1" || v == "yes" || v == "on") return true;
  if (v == "false" || v == "0" || v == "no" || v == "off") return false;
  fail(name, value, "not a boolean (true/false, 1/0, yes/no, on/off)");
}

long long parse_integer(std::string_view name, const std::string& value, long long min,
                        long long max) {
  const auto v = trimmed(value);
  long long n = 0;
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (v.empty() || end != v.data() + v.size() || ec == std::errc::invalid_argument)
    fail(name, value, "not an integer");
  if (ec == std::errc::result_out_of_range || n < min || n > max)
    fail(name, value, "out of range " + range_text(min, max));
  return n;
}

double parse_number(std::string_view name, const std::string& value, double min, double max) {
  const auto v = trimmed(value);
  double x = 0;
  const auto [end, ec] =
      std::from_chars(v.data(), v.data() + v.size(), x, std::chars_format::fixed);
  if (v.empty() || end != v.data() + v.size() || ec != std::errc() || !std::isfinite(x))
    fail(name, value, "not a decimal number");
  if (x < min || x > max) {
    std::ostringstream range;
    range << "out of range " << min << ".." << max;
    fail(name, value, range.str());
  }
  return x;
}

milliseconds parse_duration(std::string_view name, const std::string& value, milliseconds min,
                            milliseconds max) {
  const auto v = trimmed(value);
  const auto digits_end = std::find_if(v.begin(), v.end(), [](char c) {
    return !std::isdigit(static_cast<unsigned char>(c));
  });
  const auto digits = v.substr(0, static_cast<std::size_t>(digits_end - v.begin()));
  const auto unit = lower(v.substr(digits.size()));
  long long scale = 0;  // milliseconds per unit
  if (unit.empty() || unit == "s") scale = 1000;
  else if (unit == "ms") scale = 1;
  else if (unit == "m") scale = 60'000;
  else if (unit == "h") scale = 3'600'000;
  long long n = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (digits.empty() || scale == 0 || ec == std::errc::invalid_argument)
    fail(name, value, "not a duration (e.g. 30, 30s, 500ms, 5m, 1h)");
  const auto describe_range = [&] {
    return "out of range " + format_duration(min) + ".." + format_duration(max);
  };
  // Compare before multiplying so that a huge count cannot overflow.
  if (ec == std::errc::result_out_of_range || n > max.count() / scale) fail(name, value, describe_range());
  const milliseconds d{n * scale};
  if (d < min || d > max) fail(name, value, describe_range());
  return d;
}

std::chrono::seconds parse_whole_seconds(std::string_view name, const std::string& value,
                                         std::chrono::seconds min, std::chrono::seconds max) {
  const auto d = parse_duration(name, value, min, max);
  if (d.count() % 1000 != 0) fail(name, value, "must be a whole number of seconds");
  return std::chrono::duration_cast<std::chrono::seconds>(d);
}

std::string parse_choice(std::string_view name, const std::string& value,
                         const std::vector<std::string_view>& allowed) {
  const auto v = lower(trimmed(value));
  std::string list;
  for (const auto choice : allowed) {
    if (lower(choice) == v) return std::string(choice);
    list += list.empty() ? "" : " ";
    list += choice;
  }
  fail(name, value, "not one of: " + list);
}

std::string parse_token(std::string_view name, const std::string& value, std::string_view extra) {
  if (value.empty()) fail(name, value, "must not be empty");
  for (const char c : value) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && extra.find(c) == std::string_view::npos)
      fail(name, value, "may only contain letters, digits and " + std::string(extra));
  }
  return value;
}

std::string parse_ip_literal(std::string_view name, const std::string& value) {
  if (!is_ip_literal(value)) fail(name, value, "not an IPv4 or IPv6 address");
  return value;
}

std::string parse_host(std::string_view name, const std::string& value) {
  if (!is_ip_literal(value) && !is_host_name(value))
    fail(name, value, "not an IP address or host name");
  return value;
}

std::string format_duration(milliseconds d) {
  if (d.count() % 1000 == 0) return std::to_string(d.count() / 1000) + "s";
  return std::to_string(d.count()) + "ms";
}

bool is_ip_literal(const std::string& text) {
  unsigned char buffer[16];
  return inet_pton(AF_INET, text.c_str(), buffer) == 1 ||
         inet_pton(AF_INET6, text.c_str(), buffer) == 1;
}

bool is_host_name(const std::string& text) {
  if (text.empty() || text.size() > 253) return false;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto dot = text.find('.', start);
    if (dot == std::string::npos) dot = text.size();
    const std::string_view label(text.data() + start, dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-')
      return false;
    for (const char c : label) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
    }
    start = dot + 1;
  }
  return true;
}

}  // namespace npcl::config::detail
