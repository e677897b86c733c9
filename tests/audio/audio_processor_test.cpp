#include "npcl/audio/audio_processor.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <numbers>
#include <random>
#include <stdexcept>
#include <vector>

namespace npcl::audio {
namespace {

std::vector<std::int16_t> sine(int rate_hz, std::size_t n, double hz, double amplitude, std::size_t from = 0) {
  std::vector<std::int16_t> out(n);
  for (std::size_t i = 0; i < n; ++i) {
    out[i] = static_cast<std::int16_t>(std::lround(
        amplitude * std::sin(2.0 * std::numbers::pi * hz * static_cast<double>(from + i) / rate_hz)));
  }
  return out;
}

TEST(audio_processor, refuses_rates_and_settings_it_cannot_run) {
  EXPECT_THROW(audio_processor(audio_format{24000, 1, 20}, vad_options{}), std::invalid_argument);
  EXPECT_THROW(audio_processor(audio_format{8000, 2, 20}, vad_options{}), std::invalid_argument);
  vad_options bad;
  bad.noise_suppression = 5;
  EXPECT_THROW(audio_processor(audio_format{8000, 1, 20}, bad), std::invalid_argument);
}

TEST(audio_processor, takes_exactly_10_ms_and_leaves_other_sizes_untouched) {
  for (const int rate : {8000, 16000}) {
    audio_processor p(audio_format{rate, 1, 20}, vad_options{});
    EXPECT_EQ(p.chunk_samples(), static_cast<std::size_t>(rate / 100));
    auto twenty_ms = sine(rate, static_cast<std::size_t>(rate / 50), 300.0, 8000.0);
    const auto before = twenty_ms;
    EXPECT_FALSE(p.process(twenty_ms).has_value());
    EXPECT_EQ(twenty_ms, before);
    EXPECT_FALSE(p.far_end(twenty_ms));
  }
}

TEST(audio_processor, silence_has_no_energy_and_the_high_pass_keeps_a_voice_band_tone) {
  // Noise suppression off: it would learn a steady tone as noise and lower it.
  vad_options o;
  o.noise_suppression = 0;
  for (const int rate : {8000, 16000}) {
    audio_processor p(audio_format{rate, 1, 20}, o);
    const std::size_t n = p.chunk_samples();
    std::vector<std::int16_t> quiet(n, 0);
    const auto f = p.process(quiet);
    ASSERT_TRUE(f.has_value());
    EXPECT_EQ(f->energy, 0.0);
    // 300 ms of a 500 Hz tone at −12 dBFS RMS: the high-pass filter (below
    // 100 Hz) must leave it, and the features must report its level.
    double last = 0.0;
    for (std::size_t c = 0; c < 30; ++c) {
      auto chunk = sine(rate, n, 500.0, 8192.0 * std::numbers::sqrt2, c * n);
      const auto g = p.process(chunk);
      ASSERT_TRUE(g.has_value());
      last = g->energy;
    }
    EXPECT_NEAR(20.0 * std::log10(last), -12.0, 1.0) << rate << " Hz";
  }
}

TEST(audio_processor, noise_suppression_lowers_steady_noise) {
  audio_processor p(audio_format{8000, 1, 20}, vad_options{});
  std::mt19937 gen(3);
  std::normal_distribution<double> g(0.0, 1000.0);
  double in_sum = 0.0, out_sum = 0.0;
  for (int c = 0; c < 300; ++c) {
    std::vector<std::int16_t> chunk(80);
    for (auto& s : chunk) s = static_cast<std::int16_t>(std::lround(g(gen)));
    for (const auto s : chunk) in_sum += static_cast<double>(s) * s;
    ASSERT_TRUE(p.process(chunk).has_value());
    if (c >= 100) {
      for (const auto s : chunk) out_sum += static_cast<double>(s) * s;
    } else {
      in_sum = 0.0;  // compare once the noise estimate has settled
    }
  }
  const double reduction_db = 10.0 * std::log10(in_sum / out_sum);
  std::printf("[ measured ] noise suppression level 2 on white noise: %.1f dB\n", reduction_db);
  EXPECT_GT(reduction_db, 6.0);
}

TEST(audio_processor, echo_canceller_accepts_far_end_and_capture_at_8_and_16_khz) {
  vad_options o;
  o.echo_cancel = true;
  for (const int rate : {8000, 16000}) {
    audio_processor p(audio_format{rate, 1, 20}, o);
    const std::size_t n = p.chunk_samples();
    for (std::size_t c = 0; c < 50; ++c) {
      const auto far = sine(rate, n, 440.0, 8000.0, c * n);
      EXPECT_TRUE(p.far_end(far));
      auto near = sine(rate, n, 440.0, 800.0, c * n);
      EXPECT_TRUE(p.process(near).has_value()) << rate << " Hz chunk " << c;
    }
    p.reset();
    std::vector<std::int16_t> quiet(n, 0);
    EXPECT_TRUE(p.process(quiet).has_value());
  }
}

}  // namespace
}  // namespace npcl::audio
