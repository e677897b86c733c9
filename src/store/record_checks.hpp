#pragma once
// Input checks shared by both backends, so SQLite and PostgreSQL accept exactly the same records.
#include <string>
#include <string_view>

#include "npcl/store/records.hpp"

namespace npcl::store::detail {

/// Longest accepted text fields, in bytes.
inline constexpr std::size_t max_short_text = 200;    // names, areas, ids
inline constexpr std::size_t max_long_text = 2000;    // addresses, descriptions, notes
inline constexpr std::size_t max_json_text = 4 << 20;  // transcript and tool calls of one call

/// Throws store_error(invalid) naming `field` unless `value` is valid UTF-8 without NUL bytes
/// (PostgreSQL rejects both) and at most `max_bytes` long; `required` also rejects blank values.
void check_text(std::string_view field, std::string_view value, std::size_t max_bytes, bool required);

/// A copy with phone numbers normalised; throws store_error(invalid) for a bad field.
new_complaint checked(const new_complaint& c);

/// A copy with the mobile normalised; throws store_error(invalid) for a bad field.
new_connection_request checked(const new_connection_request& r);

/// Throws store_error(invalid) for a bad field.
void check(const call_record& r);

/// Throws store_error(invalid) for a bad field.
void check(const consumer& c);
void check(const bill& b);
void check(const outage& o);

}  // namespace npcl::store::detail
