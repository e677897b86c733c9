#include "npcl/audio/g711.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <vector>

namespace npcl::audio {
namespace {

// Decoders written straight from the formulas of ITU-T G.711 (the reference
// in asterisk-media.md §4), independent of the tables under test.
int ulaw_formula(std::uint8_t wire) {
  const int inverted = static_cast<std::uint8_t>(~wire);
  const int e = (inverted >> 4) & 7;
  const int m = inverted & 15;
  const int magnitude = (((m << 3) + 132) << e) - 132;
  return (wire & 0x80) ? magnitude : -magnitude;
}

int alaw_formula(std::uint8_t wire) {
  const int x = wire ^ 0x55;
  const int s = (x >> 4) & 7;
  const int m = x & 15;
  const int magnitude = s == 0 ? (m << 4) + 8 : ((m << 4) + 0x108) << (s - 1);
  return (wire & 0x80) ? magnitude : -magnitude;
}

constexpr int all_samples = 1 << 16;

std::int16_t sample_at(int i) { return static_cast<std::int16_t>(i + std::numeric_limits<std::int16_t>::min()); }

TEST(g711, ulaw_decodes_every_code_to_the_standard_value) {
  for (int c = 0; c < 256; ++c) {
    EXPECT_EQ(ulaw_decode(static_cast<std::uint8_t>(c)), ulaw_formula(static_cast<std::uint8_t>(c))) << "code " << c;
  }
  EXPECT_EQ(ulaw_decode(0x80), 32124);
  EXPECT_EQ(ulaw_decode(0x00), -32124);
  EXPECT_EQ(ulaw_decode(0xFF), 0);
  EXPECT_EQ(ulaw_decode(0x7F), 0);
}

TEST(g711, alaw_decodes_every_code_to_the_standard_value) {
  for (int c = 0; c < 256; ++c) {
    EXPECT_EQ(alaw_decode(static_cast<std::uint8_t>(c)), alaw_formula(static_cast<std::uint8_t>(c))) << "code " << c;
  }
  EXPECT_EQ(alaw_decode(0xD5), 8);
  EXPECT_EQ(alaw_decode(0x55), -8);
  EXPECT_EQ(alaw_decode(0xAA), 32256);
  EXPECT_EQ(alaw_decode(0x2A), -32256);
}

TEST(g711, silence_encodes_to_the_silence_bytes) {
  EXPECT_EQ(ulaw_encode(std::int16_t{0}), 0xFF);
  EXPECT_EQ(alaw_encode(std::int16_t{0}), 0xD5);
}

TEST(g711, ulaw_reencoding_a_decoded_code_gives_the_same_value) {
  for (int c = 0; c < 256; ++c) {
    const auto code = static_cast<std::uint8_t>(c);
    const std::uint8_t again = ulaw_encode(ulaw_decode(code));
    EXPECT_EQ(ulaw_decode(again), ulaw_decode(code)) << "code " << c;
    // Only negative zero is not reproduced byte for byte.
    if (code != 0x7F) EXPECT_EQ(again, code) << "code " << c;
  }
}

TEST(g711, alaw_reencoding_a_decoded_code_gives_the_same_code) {
  for (int c = 0; c < 256; ++c) {
    const auto code = static_cast<std::uint8_t>(c);
    EXPECT_EQ(alaw_encode(alaw_decode(code)), code) << "code " << c;
  }
}

using encoder = std::uint8_t (*)(std::int16_t);
using decoder = std::int16_t (*)(std::uint8_t);

// Walks every linear sample in rising order: the reconstruction must never
// fall, and must lie within one quantisation step (`step_of` the clipped
// magnitude) of the sample once clipped to the codec's range.
void expect_monotonic_within_one_step(encoder encode, decoder decode, int max_magnitude,
                                      int (*step_of)(int magnitude)) {
  int previous = std::numeric_limits<int>::min();
  for (int i = 0; i < all_samples; ++i) {
    const std::int16_t x = sample_at(i);
    const int y = decode(encode(x));
    ASSERT_GE(y, previous) << "encode not monotonic at " << x;
    previous = y;
    const int clipped = std::clamp<int>(x, -max_magnitude, max_magnitude);
    ASSERT_LE(std::abs(y - clipped), step_of(std::abs(clipped))) << "sample " << x << " decoded as " << y;
  }
}

TEST(g711, ulaw_encode_is_monotonic_and_within_one_step_for_all_samples) {
  // Segment e covers magnitudes from (132 << e) − 132, levels 8 << e apart.
  expect_monotonic_within_one_step(ulaw_encode, ulaw_decode, 32124, [](int magnitude) {
    int e = 0;
    while (e < 7 && magnitude >= (132 << (e + 1)) - 132) ++e;
    return 8 << e;
  });
}

TEST(g711, alaw_encode_is_monotonic_and_within_one_step_for_all_samples) {
  // Segments 0 and 1 have levels 16 apart; segment s ≥ 2 starts at
  // 256 << (s − 1) with levels 16 << (s − 1) apart.
  expect_monotonic_within_one_step(alaw_encode, alaw_decode, 32256, [](int magnitude) {
    int step = 16;
    for (int start = 512; magnitude >= start && step < 1024; start *= 2) step *= 2;
    return step;
  });
}

TEST(g711, span_versions_match_the_scalar_ones) {
  std::vector<std::int16_t> linear(all_samples);
  for (int i = 0; i < all_samples; ++i) linear[static_cast<std::size_t>(i)] = sample_at(i);
  std::vector<std::uint8_t> ulaw(linear.size()), alaw(linear.size());
  ulaw_encode(linear, ulaw);
  alaw_encode(linear, alaw);
  std::vector<std::int16_t> from_ulaw(linear.size()), from_alaw(linear.size());
  ulaw_decode(ulaw, from_ulaw);
  alaw_decode(alaw, from_alaw);
  for (std::size_t i = 0; i < linear.size(); ++i) {
    ASSERT_EQ(ulaw[i], ulaw_encode(linear[i]));
    ASSERT_EQ(alaw[i], alaw_encode(linear[i]));
    ASSERT_EQ(from_ulaw[i], ulaw_decode(ulaw[i]));
    ASSERT_EQ(from_alaw[i], alaw_decode(alaw[i]));
  }
}

TEST(g711, span_versions_stop_at_the_shorter_span) {
  const std::array<std::uint8_t, 4> codes{0x00, 0x80, 0xFF, 0x7F};
  std::array<std::int16_t, 2> out{111, 222};
  ulaw_decode(codes, out);
  EXPECT_EQ(out[0], -32124);
  EXPECT_EQ(out[1], 32124);

  const std::array<std::int16_t, 2> samples{0, 0};
  std::array<std::uint8_t, 3> wire{1, 2, 3};
  alaw_encode(samples, wire);
  EXPECT_EQ(wire[0], 0xD5);
  EXPECT_EQ(wire[1], 0xD5);
  EXPECT_EQ(wire[2], 3);  // beyond the input: untouched
}

}  // namespace
}  // namespace npcl::audio
