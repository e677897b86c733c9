#pragma once
#include <cstdint>
#include <span>
#include <string>

namespace npcl::util {

/// A random RFC 4122 version-4 UUID in canonical lower-case text form.
/// Thread-safe; used for call ids and the Asterisk resource ids we choose.
std::string make_uuid();

/// 16 raw bytes (RFC 4122 order) as a canonical lower-case UUID:
/// 8-4-4-4-12 hex digits.
std::string uuid_text(std::span<const std::uint8_t, 16> bytes);

/// Parses a canonical UUID (36 chars, hyphens at 8/13/18/23) into its 16 raw
/// bytes in RFC 4122 order. Returns false and leaves `out` untouched on error.
bool parse_uuid(const std::string& text, unsigned char (&out)[16]);

}  // namespace npcl::util
