#pragma once
// Private to the realtime module: strict base64 on top of Beast's codec.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace npcl::realtime::detail {

/// Standard (RFC 4648 §4) base64 of `bytes`, padded.
std::string base64_encode(std::span<const std::uint8_t> bytes);

/// Decodes padded standard base64 into `out` (replaced). Returns false for a
/// length that is not a multiple of 4, a character outside the alphabet, or
/// padding anywhere but the last one or two places.
bool base64_decode(std::string_view text, std::vector<std::uint8_t>& out);

}  // namespace npcl::realtime::detail
