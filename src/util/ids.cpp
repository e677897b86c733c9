#include "npcl/util/ids.hpp"

#include <array>
#include <cstdint>
#include <mutex>
#include <random>

#include "npcl/util/hex.hpp"

namespace npcl::util {

std::string make_uuid() {
  // One seeded engine behind a mutex: ids are created a few times per call,
  // never on a hot path, and must not repeat across threads.
  static std::mutex mutex;
  static std::mt19937_64 engine{std::random_device{}()};
  std::array<std::uint8_t, 16> bytes{};
  {
    std::lock_guard lock(mutex);
    for (std::size_t i = 0; i < bytes.size(); i += 8) {
      std::uint64_t v = engine();
      for (std::size_t j = 0; j < 8; ++j) bytes[i + j] = static_cast<std::uint8_t>(v >> (8 * j));
    }
  }
  bytes[6] = static_cast<std::uint8_t>((bytes[6] & 0x0f) | 0x40);
  bytes[8] = static_cast<std::uint8_t>((bytes[8] & 0x3f) | 0x80);
  return uuid_text(bytes);
}

std::string uuid_text(std::span<const std::uint8_t, 16> bytes) {
  const std::string digits = to_hex(bytes);
  return digits.substr(0, 8) + '-' + digits.substr(8, 4) + '-' + digits.substr(12, 4) + '-' + digits.substr(16, 4) +
         '-' + digits.substr(20);
}

bool parse_uuid(const std::string& text, unsigned char (&out)[16]) {
  if (text.size() != 36) return false;
  unsigned char tmp[16];
  std::size_t n = 0;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < text.size();) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (text[i] != '-') return false;
      ++i;
      continue;
    }
    int hi = nibble(text[i]), lo = nibble(text[i + 1]);
    if (hi < 0 || lo < 0) return false;
    tmp[n++] = static_cast<unsigned char>(hi << 4 | lo);
    i += 2;
  }
  for (std::size_t i = 0; i < 16; ++i) out[i] = tmp[i];
  return true;
}

}  // namespace npcl::util
