#include "npcl/audio/resampler.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <numbers>
#include <span>
#include <stdexcept>
#include <vector>

namespace npcl::audio {
namespace {

constexpr double tone_hz = 1000.0;
constexpr double amplitude = 16000.0;  // about −6 dBFS
constexpr int frames_per_second = 50;  // 20 ms frames

// A 1 kHz cosine: 20 ms frames hold whole periods, so every frame edge falls
// on a peak, where a lost filter history would show as the largest jump.
std::vector<std::int16_t> tone(int rate_hz, std::size_t count) {
  std::vector<std::int16_t> out(count);
  for (std::size_t n = 0; n < count; ++n) {
    out[n] = static_cast<std::int16_t>(
        std::lround(amplitude * std::cos(2.0 * std::numbers::pi * tone_hz * static_cast<double>(n) / rate_hz)));
  }
  return out;
}

// Feeds `in` in 20 ms frames and returns the joined output; every frame must
// come out as exactly one 20 ms frame at the output rate.
std::vector<std::int16_t> run_in_frames(resampler& r, std::span<const std::int16_t> in, bool reset_each_frame = false) {
  const auto in_frame = static_cast<std::size_t>(r.in_rate_hz() / frames_per_second);
  const auto out_frame = static_cast<std::size_t>(r.out_rate_hz() / frames_per_second);
  std::vector<std::int16_t> out;
  for (std::size_t at = 0; at + in_frame <= in.size(); at += in_frame) {
    if (reset_each_frame) r.reset();
    const std::size_t before = out.size();
    r.process(in.subspan(at, in_frame), out);
    EXPECT_EQ(out.size() - before, out_frame) << "frame at input sample " << at;
  }
  return out;
}

double db(double power_ratio) { return 10.0 * std::log10(power_ratio); }

// Largest step between neighbouring samples from `from` on.
int max_jump(const std::vector<std::int16_t>& s, std::size_t from) {
  int jump = 0;
  for (std::size_t n = std::max<std::size_t>(from, 1); n < s.size(); ++n) jump = std::max(jump, std::abs(s[n] - s[n - 1]));
  return jump;
}

// Steepest step a clean tone can take between two samples at `rate_hz`,
// with a small margin for the filter's passband ripple (measured under 2 %)
// and rounding.
double slope_limit(int rate_hz) { return amplitude * 2.0 * std::numbers::pi * tone_hz / rate_hz * 1.05 + 4.0; }

struct sine_fit {
  double amplitude;  // fitted amplitude of the tone (PCM16 units)
  double snr_db;     // tone power over everything else
};

// Least-squares fit of a 1 kHz sinusoid of unknown phase over `count`
// samples from `from`; `count` must cover whole periods so sin and cos are
// orthogonal over the window.
sine_fit fit_tone(const std::vector<std::int16_t>& s, int rate_hz, std::size_t from, std::size_t count) {
  const double w = 2.0 * std::numbers::pi * tone_hz / rate_hz;
  double a = 0, b = 0;
  for (std::size_t n = 0; n < count; ++n) {
    const double x = s[from + n];
    a += x * std::sin(w * static_cast<double>(n));
    b += x * std::cos(w * static_cast<double>(n));
  }
  a *= 2.0 / static_cast<double>(count);
  b *= 2.0 / static_cast<double>(count);
  double signal = 0, noise = 0;
  for (std::size_t n = 0; n < count; ++n) {
    const double fit = a * std::sin(w * static_cast<double>(n)) + b * std::cos(w * static_cast<double>(n));
    signal += fit * fit;
    noise += (s[from + n] - fit) * (s[from + n] - fit);
  }
  return {std::hypot(a, b), db(signal / std::max(noise, 1e-9))};
}

TEST(resampler, tone_survives_8k_to_24k_and_back_in_20ms_frames) {
  resampler up(8000, 24000);
  resampler down(24000, 8000);
  const auto input = tone(8000, 8000 * 2);
  const auto wide = run_in_frames(up, input);
  const auto back = run_in_frames(down, wide);
  ASSERT_EQ(back.size(), input.size());

  // The documented latencies must line the output up with the input exactly.
  ASSERT_EQ(up.latency_samples() % 3, 0);
  const std::size_t delay = static_cast<std::size_t>(up.latency_samples() / 3 + down.latency_samples());
  const std::size_t settle = 8000 / 10;  // skip 100 ms of filter start-up
  double signal = 0, noise = 0;
  for (std::size_t n = settle; n + delay < back.size(); ++n) {
    const double ref = input[n];
    const double err = back[n + delay] - ref;
    signal += ref * ref;
    noise += err * err;
  }
  const double snr = db(signal / std::max(noise, 1e-9));
  EXPECT_GE(snr, 40.0) << "delay " << delay << " samples";

  // No clicks at frame edges, at either rate.
  EXPECT_LT(max_jump(wide, static_cast<std::size_t>(up.latency_samples()) + 24), slope_limit(24000));
  EXPECT_LT(max_jump(back, delay + 8), slope_limit(8000));
}

TEST(resampler, resetting_between_frames_would_click) {
  // Guards the discontinuity check above: losing the filter history at each
  // frame edge must show up as a jump far beyond the tone's slope.
  resampler up(8000, 24000);
  const auto wide = run_in_frames(up, tone(8000, 8000), /*reset_each_frame=*/true);
  EXPECT_GT(max_jump(wide, 480), 2 * slope_limit(24000));
}

TEST(resampler, reset_starts_over_like_a_new_instance) {
  const auto input = tone(16000, 16000 / 5);
  resampler used(16000, 8000);
  std::vector<std::int16_t> ignored;
  used.process(input, ignored);
  used.reset();
  std::vector<std::int16_t> after_reset, fresh_out;
  used.process(input, after_reset);
  resampler fresh(16000, 8000);
  fresh.process(input, fresh_out);
  EXPECT_EQ(after_reset, fresh_out);
}

TEST(resampler, identity_is_a_copy_without_delay) {
  resampler same(16000, 16000);
  const auto input = tone(16000, 320);
  std::vector<std::int16_t> out{7};
  same.process(input, out);
  ASSERT_EQ(out.size(), 321u);
  EXPECT_EQ(out[0], 7);  // appends, never clears
  EXPECT_TRUE(std::equal(input.begin(), input.end(), out.begin() + 1));
  EXPECT_EQ(same.latency_samples(), 0);
  EXPECT_EQ(same.latency().count(), 0);
}

TEST(resampler, rejects_unsupported_rates_and_quality) {
  EXPECT_FALSE(resampler::supported_rate(44100));
  EXPECT_FALSE(resampler::supported_rate(0));
  EXPECT_TRUE(resampler::supported_rate(24000));
  EXPECT_THROW(resampler(44100, 8000), std::invalid_argument);
  EXPECT_THROW(resampler(8000, -16000), std::invalid_argument);
  EXPECT_THROW(resampler(8000, 16000, 11), std::invalid_argument);
  EXPECT_THROW(resampler(8000, 16000, -1), std::invalid_argument);
}

struct rate_pair {
  int in_hz;
  int out_hz;
};

class resampler_shapes : public testing::TestWithParam<rate_pair> {};

TEST_P(resampler_shapes, keeps_a_tone_and_the_frame_size) {
  const auto [in_hz, out_hz] = GetParam();
  resampler r(in_hz, out_hz);
  const auto out = run_in_frames(r, tone(in_hz, static_cast<std::size_t>(in_hz)));  // one second
  ASSERT_EQ(out.size(), static_cast<std::size_t>(out_hz));

  // Fit over the last 800 ms: whole periods of the tone at every rate.
  const auto window = static_cast<std::size_t>(out_hz) * 8 / 10;
  const sine_fit fit = fit_tone(out, out_hz, out.size() - window, window);
  EXPECT_GE(fit.snr_db, 40.0);
  EXPECT_NEAR(fit.amplitude, amplitude, amplitude * 0.01);
  EXPECT_LT(max_jump(out, static_cast<std::size_t>(r.latency_samples()) + static_cast<std::size_t>(out_hz / 100)),
            slope_limit(out_hz));

  EXPECT_GT(r.latency_samples(), 0);
  EXPECT_EQ(r.latency().count(), static_cast<long long>(r.latency_samples()) * 1'000'000 / out_hz);
}

INSTANTIATE_TEST_SUITE_P(rates, resampler_shapes,
                         testing::Values(rate_pair{8000, 16000}, rate_pair{16000, 8000}, rate_pair{16000, 24000},
                                         rate_pair{24000, 16000}, rate_pair{24000, 48000}, rate_pair{48000, 24000},
                                         rate_pair{8000, 24000}, rate_pair{24000, 8000}, rate_pair{8000, 48000}),
                         [](const testing::TestParamInfo<rate_pair>& info) {
                           return std::to_string(info.param.in_hz / 1000) + "k_to_" +
                                  std::to_string(info.param.out_hz / 1000) + "k";
                         });

}  // namespace
}  // namespace npcl::audio
