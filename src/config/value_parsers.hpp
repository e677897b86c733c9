#pragma once
// Parsers for one setting value each. They throw config_error naming the
// variable, so every caller reports errors the same way.
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace npcl::config::detail {

/// true/false/1/0/yes/no/on/off in any case.
bool parse_bool(std::string_view name, const std::string& value);

/// A decimal integer in [min, max].
long long parse_integer(std::string_view name, const std::string& value, long long min,
                        long long max);

/// A finite decimal number in [min, max].
double parse_number(std::string_view name, const std::string& value, double min, double max);

/// `30`, `30s`, `500ms`, `5m`, `1h` (a bare number is seconds) in [min, max].
std::chrono::milliseconds parse_duration(std::string_view name, const std::string& value,
                                         std::chrono::milliseconds min,
                                         std::chrono::milliseconds max);

/// As parse_duration, for settings kept in whole seconds: `1500ms` is rejected.
std::chrono::seconds parse_whole_seconds(std::string_view name, const std::string& value,
                                         std::chrono::seconds min, std::chrono::seconds max);

/// One of `allowed`, compared ignoring case; returns the entry of `allowed`.
std::string parse_choice(std::string_view name, const std::string& value,
                         const std::vector<std::string_view>& allowed);

/// `value` if non-empty and every character is in [A-Za-z0-9] or `extra`.
std::string parse_token(std::string_view name, const std::string& value, std::string_view extra);

/// An IPv4 or IPv6 address literal (no brackets, no zone).
std::string parse_ip_literal(std::string_view name, const std::string& value);

/// An IP literal or a DNS host name.
std::string parse_host(std::string_view name, const std::string& value);

/// Renders a duration the way parse_duration reads it back: `30s` or `500ms`.
std::string format_duration(std::chrono::milliseconds d);

/// true for an IPv4 or IPv6 address literal.
bool is_ip_literal(const std::string& text);

/// true for a DNS name: dot-separated labels of [A-Za-z0-9_-], 1..63 characters
/// each, not starting or ending with `-`, 253 characters at most.
bool is_host_name(const std::string& text);

}  // namespace npcl::config::detail
