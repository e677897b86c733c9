#include "npcl/store/records.hpp"

#include <array>
#include <cstdio>
#include <utility>

#include "npcl/store/store_error.hpp"

namespace npcl::store {

namespace {

template <class E, std::size_t N>
using name_table = std::array<std::pair<E, std::string_view>, N>;

constexpr name_table<consumer_status, 3> consumer_status_names{{
    {consumer_status::active, "active"},
    {consumer_status::disconnected, "disconnected"},
    {consumer_status::temporarily_disconnected, "temporarily_disconnected"},
}};
constexpr name_table<bill_status, 3> bill_status_names{{
    {bill_status::unpaid, "unpaid"}, {bill_status::paid, "paid"}, {bill_status::overdue, "overdue"},
}};
constexpr name_table<outage_kind, 2> outage_kind_names{{
    {outage_kind::planned, "planned"}, {outage_kind::unplanned, "unplanned"},
}};
constexpr name_table<complaint_category, 7> category_names{{
    {complaint_category::no_supply, "no_supply"},
    {complaint_category::voltage, "voltage"},
    {complaint_category::billing, "billing"},
    {complaint_category::meter, "meter"},
    {complaint_category::streetlight, "streetlight"},
    {complaint_category::safety_hazard, "safety_hazard"},
    {complaint_category::other, "other"},
}};
constexpr name_table<complaint_priority, 3> priority_names{{
    {complaint_priority::normal, "normal"},
    {complaint_priority::high, "high"},
    {complaint_priority::emergency, "emergency"},
}};
constexpr name_table<complaint_status, 5> complaint_status_names{{
    {complaint_status::registered, "registered"},
    {complaint_status::assigned, "assigned"},
    {complaint_status::in_progress, "in_progress"},
    {complaint_status::resolved, "resolved"},
    {complaint_status::closed, "closed"},
}};
constexpr name_table<import_kind, 3> import_kind_names{{
    {import_kind::consumers, "consumers"}, {import_kind::bills, "bills"}, {import_kind::outages, "outages"},
}};

template <class E, std::size_t N>
std::string_view name_of(const name_table<E, N>& table, E v) noexcept {
  for (const auto& [value, name] : table)
    if (value == v) return name;
  return "unknown";
}

template <class E, std::size_t N>
std::optional<E> value_of(const name_table<E, N>& table, std::string_view s) noexcept {
  for (const auto& [value, name] : table)
    if (name == s) return value;
  return std::nullopt;
}

}  // namespace

std::string_view to_string(consumer_status v) noexcept { return name_of(consumer_status_names, v); }
std::string_view to_string(bill_status v) noexcept { return name_of(bill_status_names, v); }
std::string_view to_string(outage_kind v) noexcept { return name_of(outage_kind_names, v); }
std::string_view to_string(complaint_category v) noexcept { return name_of(category_names, v); }
std::string_view to_string(complaint_priority v) noexcept { return name_of(priority_names, v); }
std::string_view to_string(complaint_status v) noexcept { return name_of(complaint_status_names, v); }
std::string_view to_string(import_kind v) noexcept { return name_of(import_kind_names, v); }

std::optional<consumer_status> parse_consumer_status(std::string_view s) noexcept {
  return value_of(consumer_status_names, s);
}
std::optional<bill_status> parse_bill_status(std::string_view s) noexcept { return value_of(bill_status_names, s); }
std::optional<outage_kind> parse_outage_kind(std::string_view s) noexcept { return value_of(outage_kind_names, s); }
std::optional<complaint_category> parse_complaint_category(std::string_view s) noexcept {
  return value_of(category_names, s);
}
std::optional<complaint_priority> parse_complaint_priority(std::string_view s) noexcept {
  return value_of(priority_names, s);
}
std::optional<complaint_status> parse_complaint_status(std::string_view s) noexcept {
  return value_of(complaint_status_names, s);
}
std::optional<import_kind> parse_import_kind(std::string_view s) noexcept { return value_of(import_kind_names, s); }

std::string normalize_phone(std::string_view s) {
  std::string digits;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c >= '0' && c <= '9') {
      digits.push_back(c);
    } else if (c == '+' && digits.empty()) {
      continue;
    } else if (c != ' ' && c != '-' && c != '(' && c != ')') {
      return {};
    }
  }
  if (digits.size() == 12 && digits.starts_with("91")) return digits.substr(2);
  if (digits.size() == 11 && digits.front() == '0') return digits.substr(1);
  return digits;
}

std::string format_complaint_number(std::int64_t id) {
  if (id < 1 || id > 999'999'999) {
    throw store_error(store_error_kind::unavailable, "complaint number space exhausted");
  }
  char buf[16];
  std::snprintf(buf, sizeof buf, "%09lld", static_cast<long long>(id));
  return buf;
}

std::optional<std::int64_t> parse_complaint_number(std::string_view s) noexcept {
  if (s.empty() || s.size() > 9) return std::nullopt;
  std::int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  if (v == 0) return std::nullopt;
  return v;
}

}  // namespace npcl::store
