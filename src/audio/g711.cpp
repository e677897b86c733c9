#include "npcl/audio/g711.hpp"

#include <algorithm>
#include <array>
#include <cstddef>

namespace npcl::audio {
namespace {

// The reference algorithms (G.191 ulaw_compress / alaw_compress and their
// expand counterparts). They run only at compile time to fill the tables, so
// the tables cannot drift from the standard.

constexpr std::uint8_t ulaw_compress(int linear) {
  // Negative samples use the one's complement, which quantises symmetrically
  // around −½ LSB exactly as the reference does.
  int absno = (linear < 0 ? (~linear) >> 2 : linear >> 2) + 33;
  if (absno > 0x1FFF) absno = 0x1FFF;
  int segno = 1;
  for (int i = absno >> 6; i != 0; i >>= 1) ++segno;
  const int high_nibble = 0x8 - segno;
  const int low_nibble = 0xF - ((absno >> segno) & 0xF);
  int code = (high_nibble << 4) | low_nibble;
  if (linear >= 0) code |= 0x80;
  return static_cast<std::uint8_t>(code);
}

constexpr std::int16_t ulaw_expand(std::uint8_t code) {
  const int inverted = ~code & 0xFF;
  const int exponent = (inverted >> 4) & 0x7;
  const int mantissa = inverted & 0xF;
  const int magnitude = (((mantissa << 3) + 132) << exponent) - 132;
  return static_cast<std::int16_t>(code < 0x80 ? -magnitude : magnitude);
}

constexpr std::uint8_t alaw_compress(int linear) {
  int ix = linear < 0 ? (~linear) >> 4 : linear >> 4;
  if (ix > 15) {
    int exponent = 1;
    while (ix > 16 + 15) {
      ix >>= 1;
      ++exponent;
    }
    ix -= 16;  // the segment number carries the leading one
    ix += exponent << 4;
  }
  if (linear >= 0) ix |= 0x80;
  return static_cast<std::uint8_t>(ix ^ 0x55);
}

constexpr std::int16_t alaw_expand(std::uint8_t code) {
  const int ix = (code ^ 0x55) & 0x7F;
  const int segment = ix >> 4;
  int mantissa = ix & 0xF;
  if (segment > 0) mantissa += 16;
  mantissa = (mantissa << 4) + 8;
  if (segment > 1) mantissa <<= segment - 1;
  return static_cast<std::int16_t>(code > 0x7F ? mantissa : -mantissa);
}

// Index of the encode tables: the sample's bit pattern shifted right. The
// reference discards the low 2 (μ-law) or 4 (A-law) bits of the magnitude,
// and for negatives ~x >> k depends only on x >> k, so the top bits of the
// two's-complement pattern pick the code exactly.
constexpr int ulaw_shift = 2;
constexpr int alaw_shift = 4;

constexpr std::size_t table_index(std::int16_t sample, int shift) {
  return static_cast<std::size_t>(static_cast<std::uint16_t>(sample) >> shift);
}

template <std::size_t Size, typename Compress>
constexpr std::array<std::uint8_t, Size> make_encode_table(int shift, Compress compress) {
  std::array<std::uint8_t, Size> table{};
  for (std::size_t i = 0; i < Size; ++i) {
    // Any sample with this index encodes alike; take the lowest.
    const auto sample = static_cast<std::int16_t>(static_cast<std::uint16_t>(i << shift));
    table[i] = compress(sample);
  }
  return table;
}

template <typename Expand>
constexpr std::array<std::int16_t, 256> make_decode_table(Expand expand) {
  std::array<std::int16_t, 256> table{};
  for (std::size_t i = 0; i < table.size(); ++i) table[i] = expand(static_cast<std::uint8_t>(i));
  return table;
}

constexpr auto ulaw_encode_table = make_encode_table<((1u << 16) >> ulaw_shift)>(ulaw_shift, ulaw_compress);
constexpr auto alaw_encode_table = make_encode_table<((1u << 16) >> alaw_shift)>(alaw_shift, alaw_compress);
constexpr auto ulaw_decode_table = make_decode_table(ulaw_expand);
constexpr auto alaw_decode_table = make_decode_table(alaw_expand);

static_assert(ulaw_decode_table[0x80] == 32124 && ulaw_decode_table[0x00] == -32124);
static_assert(ulaw_decode_table[0xFF] == 0 && ulaw_decode_table[0x7F] == 0);
static_assert(alaw_decode_table[0xD5] == 8 && alaw_decode_table[0xAA] == 32256);
static_assert(ulaw_encode_table[table_index(0, ulaw_shift)] == 0xFF);

template <std::size_t Size>
void encode_span(const std::array<std::uint8_t, Size>& table, int shift,
                 std::span<const std::int16_t> in, std::span<std::uint8_t> out) noexcept {
  const std::size_t n = std::min(in.size(), out.size());
  for (std::size_t i = 0; i < n; ++i) out[i] = table[table_index(in[i], shift)];
}

void decode_span(const std::array<std::int16_t, 256>& table, std::span<const std::uint8_t> in,
                 std::span<std::int16_t> out) noexcept {
  const std::size_t n = std::min(in.size(), out.size());
  for (std::size_t i = 0; i < n; ++i) out[i] = table[in[i]];
}

}  // namespace

std::uint8_t ulaw_encode(std::int16_t sample) noexcept {
  return ulaw_encode_table[table_index(sample, ulaw_shift)];
}

std::int16_t ulaw_decode(std::uint8_t code) noexcept { return ulaw_decode_table[code]; }

std::uint8_t alaw_encode(std::int16_t sample) noexcept {
  return alaw_encode_table[table_index(sample, alaw_shift)];
}

std::int16_t alaw_decode(std::uint8_t code) noexcept { return alaw_decode_table[code]; }

void ulaw_encode(std::span<const std::int16_t> in, std::span<std::uint8_t> out) noexcept {
  encode_span(ulaw_encode_table, ulaw_shift, in, out);
}

void ulaw_decode(std::span<const std::uint8_t> in, std::span<std::int16_t> out) noexcept {
  decode_span(ulaw_decode_table, in, out);
}

void alaw_encode(std::span<const std::int16_t> in, std::span<std::uint8_t> out) noexcept {
  encode_span(alaw_encode_table, alaw_shift, in, out);
}

void alaw_decode(std::span<const std::uint8_t> in, std::span<std::int16_t> out) noexcept {
  decode_span(alaw_decode_table, in, out);
}

}  // namespace npcl::audio
