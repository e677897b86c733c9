#pragma once
#include <cstdint>
#include <span>
#include <string>

namespace npcl::util {

/// `bytes` as lower-case hex digits, two per byte.
std::string to_hex(std::span<const std::uint8_t> bytes);

}  // namespace npcl::util
