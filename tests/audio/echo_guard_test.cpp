#include "npcl/audio/echo_guard.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <vector>

namespace npcl::audio {
namespace {

// Band-limited random signal (white noise through a one-pole low-pass), a
// stand-in for speech that has no periodicity to fool the search.
std::vector<std::int16_t> coloured(std::size_t n, double level, std::uint32_t seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<double> g(0.0, level);
  std::vector<std::int16_t> out(n);
  double y = 0.0;
  for (auto& s : out) {
    y = 0.7 * y + g(gen);
    s = static_cast<std::int16_t>(std::lround(std::clamp(y, -32768.0, 32767.0)));
  }
  return out;
}

TEST(echo_guard, refuses_bad_settings) {
  vad_options o;
  o.echo_max_delay = std::chrono::milliseconds{800};
  EXPECT_THROW(echo_guard(audio_format{8000, 1, 20}, o), std::invalid_argument);
  EXPECT_THROW(echo_guard(audio_format{48000, 1, 20}, vad_options{}), std::invalid_argument);
}

TEST(echo_guard, finds_a_delayed_quieter_copy_of_sent_audio) {
  for (const int rate : {8000, 16000}) {
    for (const int delay_ms : {20, 90, 200}) {
      echo_guard guard(audio_format{rate, 1, 20}, vad_options{});
      const std::size_t chunk = static_cast<std::size_t>(rate / 100);
      const auto sent = coloured(static_cast<std::size_t>(rate), 6000.0, 1);
      const std::size_t delay = static_cast<std::size_t>(rate / 1000 * delay_ms);
      std::size_t echo_chunks = 0, checked = 0;
      for (std::size_t at = 0; at + chunk <= sent.size(); at += chunk) {
        guard.far_end(std::span(sent).subspan(at, chunk));
        std::vector<std::int16_t> back(chunk);
        for (std::size_t i = 0; i < chunk; ++i) {
          back[i] = at + i >= delay ? static_cast<std::int16_t>(sent[at + i - delay] / 5) : 0;  // −14 dB
        }
        guard.near_end(back);
        if (at >= delay + static_cast<std::size_t>(rate / 1000 * 64)) {
          ++checked;
          if (guard.is_echo()) ++echo_chunks;
        }
      }
      EXPECT_EQ(echo_chunks, checked) << rate << " Hz, " << delay_ms << " ms";
      EXPECT_EQ(guard.last_delay_samples(), static_cast<long>(delay)) << rate << " Hz, " << delay_ms << " ms";
    }
  }
}

TEST(echo_guard, caller_audio_unrelated_to_sent_audio_is_not_echo) {
  echo_guard guard(audio_format{8000, 1, 20}, vad_options{});
  const auto sent = coloured(16000, 6000.0, 1);
  const auto caller = coloured(16000, 6000.0, 2);
  std::size_t echo_chunks = 0;
  double worst = 0.0;
  for (std::size_t at = 0; at + 80 <= sent.size(); at += 80) {
    guard.far_end(std::span(sent).subspan(at, 80));
    guard.near_end(std::span(caller).subspan(at, 80));
    if (guard.is_echo()) ++echo_chunks;
    worst = std::max(worst, guard.last_correlation());
  }
  std::printf("[ measured ] unrelated audio: highest correlation %.2f (threshold %.2f)\n", worst,
              vad_options{}.echo_correlation);
  EXPECT_EQ(echo_chunks, 0U);
}

TEST(echo_guard, nothing_sent_means_no_echo) {
  echo_guard guard(audio_format{8000, 1, 20}, vad_options{});
  const auto caller = coloured(8000, 6000.0, 2);
  guard.far_end(std::vector<std::int16_t>(8000, 0));
  for (std::size_t at = 0; at + 80 <= caller.size(); at += 80) {
    guard.near_end(std::span(caller).subspan(at, 80));
    EXPECT_FALSE(guard.is_echo());
  }
}

}  // namespace
}  // namespace npcl::audio
