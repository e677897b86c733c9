#include "npcl/audio/speech_detector.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <numbers>
#include <random>
#include <stdexcept>
#include <vector>

#include "npcl/audio/audio_processor.hpp"

namespace npcl::audio {
namespace {

using pcm = std::vector<std::int16_t>;

// A sustained vowel: a glottal pulse train (120 Hz unless told) through two
// formant resonators (700 and 1200 Hz), with 3 % vibrato so it is not one
// steady line.
pcm vowel(int rate_hz, int ms, double peak = 12000.0, double pitch_hz = 120.0) {
  const std::size_t n = static_cast<std::size_t>(rate_hz / 1000 * ms);
  pcm out(n);
  auto resonator = [rate_hz](double hz, double bw) {
    const double r = std::exp(-std::numbers::pi * bw / rate_hz);
    return std::pair{2.0 * r * std::cos(2.0 * std::numbers::pi * hz / rate_hz), -r * r};
  };
  const auto [a1, a2] = resonator(700.0, 90.0);
  const auto [b1, b2] = resonator(1200.0, 110.0);
  double phase = 0.0, y1 = 0, y2 = 0, z1 = 0, z2 = 0;
  std::vector<double> v(n);
  double max = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const double f0 = pitch_hz * (1.0 + 0.03 * std::sin(2.0 * std::numbers::pi * 5.0 * static_cast<double>(i) / rate_hz));
    phase += f0 / rate_hz;
    double x = 0.0;
    if (phase >= 1.0) {
      phase -= 1.0;
      x = 1.0;
    }
    const double y = x + a1 * y1 + a2 * y2;
    y2 = y1;
    y1 = y;
    const double z = y + b1 * z1 + b2 * z2;
    z2 = z1;
    z1 = z;
    v[i] = z;
    max = std::max(max, std::abs(z));
  }
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<std::int16_t>(std::lround(v[i] / max * peak));
  return out;
}

struct outcome {
  std::vector<std::uint64_t> onsets;   ///< chunk indices
  std::vector<std::uint64_t> offsets;  ///< chunk indices
  std::vector<std::uint64_t> starts;   ///< segment_edge of each onset: where its speech began
  std::vector<std::uint64_t> ends;     ///< segment_edge of each offset: where its speech ended
};

outcome run(int rate_hz, const pcm& audio, const vad_options& o = {}) {
  const audio_format format{rate_hz, 1, 20};
  audio_processor processor(format, o);
  speech_detector detector(format, o);
  const std::size_t n = detector.chunk_samples();
  outcome out;
  for (std::size_t at = 0; at + n <= audio.size(); at += n) {
    pcm chunk(audio.begin() + static_cast<long>(at), audio.begin() + static_cast<long>(at + n));
    const auto f = processor.process(chunk);
    const auto d = detector.update(detector.analyse(chunk, *f).speech_like);
    if (d.onset) {
      out.onsets.push_back(d.chunk_index);
      out.starts.push_back(d.segment_edge);
    }
    if (d.offset) {
      out.offsets.push_back(d.chunk_index);
      out.ends.push_back(d.segment_edge);
    }
  }
  return out;
}

void append(pcm& a, const pcm& b) { a.insert(a.end(), b.begin(), b.end()); }
pcm silence(int rate_hz, int ms) { return pcm(static_cast<std::size_t>(rate_hz / 1000 * ms), 0); }

TEST(speech_detector, refuses_formats_and_durations_it_cannot_use) {
  EXPECT_THROW(speech_detector(audio_format{24000, 1, 20}, vad_options{}), std::invalid_argument);
  vad_options o;
  o.hangover = std::chrono::milliseconds{0};
  EXPECT_THROW(speech_detector(audio_format{8000, 1, 20}, o), std::invalid_argument);
}

TEST(speech_detector, a_vowel_gives_one_onset_after_min_speech_and_one_offset_after_the_hangover) {
  for (const int rate : {8000, 16000}) {
    pcm audio = silence(rate, 300);
    append(audio, vowel(rate, 600));
    append(audio, silence(rate, 1000));
    const auto r = run(rate, audio);
    ASSERT_EQ(r.onsets.size(), 1U) << rate;
    ASSERT_EQ(r.offsets.size(), 1U) << rate;
    // Vowel from chunk 30 to 89; onset 50 ms in, plus at most 30 ms of warm-up.
    EXPECT_GE(r.onsets[0], 30U + 4U) << rate;
    EXPECT_LE(r.onsets[0], 30U + 4U + 3U) << rate;
    // Offset hangover (300 ms) after the vowel's last chunk, give or take the window.
    EXPECT_GE(r.offsets[0], 89U + 30U) << rate;
    EXPECT_LE(r.offsets[0], 89U + 30U + 4U) << rate;
    // The turn as a segment: the vowel itself, give or take the 20 ms lead
    // and 120 ms tail a segment has for soft starts and word ends.
    EXPECT_GE(r.starts[0], 30U - 2U) << rate;
    EXPECT_LE(r.starts[0], 30U) << rate;
    EXPECT_GE(r.ends[0], 89U) << rate;
    EXPECT_LE(r.ends[0], 89U + 12U + 3U) << rate;
  }
}

// 10 ms of loud noise: the release burst of a "p" or "t".
pcm burst(int rate_hz) {
  std::mt19937 gen(3);
  std::normal_distribution<double> g(0.0, 6000.0);
  pcm out(static_cast<std::size_t>(rate_hz / 100));
  for (auto& s : out) s = static_cast<std::int16_t>(std::clamp(g(gen), -32768.0, 32767.0));
  return out;
}

TEST(speech_detector, segments_never_overlap_even_with_a_hangover_shorter_than_their_edges) {
  vad_options o;
  o.hangover = std::chrono::milliseconds{10};
  o.min_speech = std::chrono::milliseconds{10};
  pcm audio = silence(8000, 300);
  for (const int gap_ms : {20, 30, 40, 50}) {
    append(audio, vowel(8000, 200));
    append(audio, silence(8000, gap_ms));
  }
  append(audio, silence(8000, 300));
  const auto r = run(8000, audio, o);
  ASSERT_GE(r.starts.size(), 2U);
  ASSERT_EQ(r.ends.size(), r.starts.size());
  for (std::size_t i = 0; i < r.starts.size(); ++i) {
    EXPECT_LE(r.starts[i], r.ends[i]) << i;
    if (i + 1 < r.starts.size()) EXPECT_GT(r.starts[i + 1], r.ends[i]) << i;
  }
}

TEST(speech_detector, a_consonant_burst_just_before_a_vowel_brings_the_onset_forward_an_older_one_does_not) {
  for (const int rate : {8000, 16000}) {
    // Vowel alone, from chunk 30.
    pcm plain = silence(rate, 300);
    append(plain, vowel(rate, 600));
    append(plain, silence(rate, 500));
    // "pa": burst at chunk 26, 30 ms closure, vowel from chunk 30.
    pcm pa = silence(rate, 260);
    append(pa, burst(rate));
    append(pa, silence(rate, 30));
    append(pa, vowel(rate, 600));
    append(pa, silence(rate, 500));
    // A click 200 ms before the vowel: too early to be its consonant.
    pcm click_then_a = silence(rate, 100);
    append(click_then_a, burst(rate));
    append(click_then_a, silence(rate, 190));
    append(click_then_a, vowel(rate, 600));
    append(click_then_a, silence(rate, 500));

    const auto r_plain = run(rate, plain);
    const auto r_pa = run(rate, pa);
    const auto r_click = run(rate, click_then_a);
    ASSERT_EQ(r_plain.onsets.size(), 1U) << rate;
    ASSERT_EQ(r_pa.onsets.size(), 1U) << rate;
    ASSERT_EQ(r_click.onsets.size(), 1U) << rate;
    // The vowel's own first chunk, loud but too short for the pitch search,
    // already counts as lead; the burst earns the second chunk of credit. An
    // onset still needs three voiced chunks of the vowel.
    EXPECT_LT(r_pa.onsets[0], r_plain.onsets[0]) << rate;
    EXPECT_GE(r_pa.onsets[0], 30U + 3U) << rate;
    EXPECT_EQ(r_click.onsets[0], r_plain.onsets[0]) << rate;
  }
}

TEST(speech_detector, bursts_shorter_than_min_speech_never_start_a_turn) {
  for (const int rate : {8000, 16000}) {
    std::mt19937 gen(5);
    std::normal_distribution<double> g(0.0, 6000.0);
    pcm audio = silence(rate, 200);
    for (int i = 0; i < 20; ++i) {
      // A click: 2 ms full-scale spike.
      pcm click(static_cast<std::size_t>(rate / 500), 30000);
      append(audio, click);
      append(audio, silence(rate, 300));
      // A cough: 40 ms of decaying noise.
      pcm cough(static_cast<std::size_t>(rate / 25));
      for (std::size_t k = 0; k < cough.size(); ++k) {
        cough[k] = static_cast<std::int16_t>(std::clamp(
            g(gen) * std::exp(-3.0 * static_cast<double>(k) / static_cast<double>(cough.size())), -32768.0, 32767.0));
      }
      append(audio, cough);
      append(audio, silence(rate, 300));
      // A 30 ms voiced grunt: periodic, but shorter than min_speech.
      append(audio, vowel(rate, 30));
      append(audio, silence(rate, 400));
    }
    const auto r = run(rate, audio);
    EXPECT_TRUE(r.onsets.empty()) << rate << " Hz: onset at chunk " << r.onsets.front();
  }
}

// Syllables of `ms` each with 40 ms between them, loud and soft in turn
// (stressed and unstressed, 6 dB apart); the pitch moves from syllable to
// syllable by `pitch_step_hz` over four steps (one talker, or several).
pcm syllables(int rate_hz, int count, int ms, double peak, double pitch_hz, double pitch_step_hz = 0.0) {
  pcm out;
  for (int i = 0; i < count; ++i) {
    append(out, vowel(rate_hz, ms, i % 2 == 0 ? peak : peak / 2.0, pitch_hz + pitch_step_hz * (i % 4)));
    append(out, silence(rate_hz, 40));
  }
  return out;
}

void mix_into(pcm& a, const pcm& b, std::size_t at) {
  for (std::size_t i = 0; i < b.size() && at + i < a.size(); ++i) {
    a[at + i] = static_cast<std::int16_t>(std::clamp(a[at + i] + b[i], -32768, 32767));
  }
}

double below(double peak, double db) { return peak * std::pow(10.0, -db / 20.0); }

TEST(speech_detector, background_talkers_well_below_the_caller_do_not_hold_the_turn_after_the_caller_stops) {
  for (const int rate : {8000, 16000}) {
    // The caller from chunk 30 for 1.2 s (5 syllables of 200 ms, chunks
    // 30..149); from the caller's start to 4.5 s, three other talkers at
    // other pitches and paces, each 20 dB under the caller's loud syllables.
    const std::size_t chunk = static_cast<std::size_t>(rate / 100);
    pcm audio = silence(rate, 4500);
    mix_into(audio, syllables(rate, 5, 200, 30000.0, 120.0), chunk * 30);
    for (const int talker : {0, 1, 2}) {
      mix_into(audio, syllables(rate, 25, 150 + 40 * talker, below(30000.0, 20.0), 170.0 + 40.0 * talker, 10.0),
               chunk * (30 + 7 * static_cast<std::size_t>(talker)));
    }
    const auto r = run(rate, audio);
    ASSERT_FALSE(r.onsets.empty()) << rate;
    ASSERT_FALSE(r.offsets.empty()) << rate;
    EXPECT_LE(r.onsets[0], 30U + 4U + 3U) << rate;
    // The caller's last syllable ends at chunk 145: the turn ends a hangover
    // (30 chunks) later, give or take the analysis window.
    EXPECT_GE(r.offsets[0], 145U + 30U) << rate;
    EXPECT_LE(r.offsets[0], 145U + 30U + 4U) << rate;
  }
}

TEST(speech_detector, a_caller_who_speaks_softer_than_before_is_still_heard_to_the_end) {
  for (const int rate : {8000, 16000}) {
    // A loud turn from chunk 30, then 1 s of silence, then the same caller
    // 12 dB softer from chunk 250 to chunk 369.
    pcm audio = silence(rate, 300);
    append(audio, syllables(rate, 5, 200, 30000.0, 120.0));
    append(audio, silence(rate, 1000));
    append(audio, syllables(rate, 5, 200, below(30000.0, 12.0), 120.0));
    append(audio, silence(rate, 1000));
    const auto r = run(rate, audio);
    ASSERT_EQ(r.onsets.size(), 2U) << rate;
    ASSERT_EQ(r.offsets.size(), 2U) << rate;
    // Heard as soon as the loud turn was (min speech plus the window)...
    EXPECT_LE(r.onsets[1] - 250U, r.onsets[0] - 30U) << rate;
    // ...and held to its last syllable (ending at chunk 365) plus the hangover.
    EXPECT_GE(r.offsets[1], 365U + 30U) << rate;
    EXPECT_LE(r.offsets[1], 365U + 30U + 4U) << rate;
  }
}

TEST(speech_detector, reset_forgets_a_turn_and_restarts_chunk_indices) {
  const audio_format format{8000, 1, 20};
  audio_processor processor(format, vad_options{});
  speech_detector detector(format, vad_options{});
  pcm v = vowel(8000, 200);
  for (std::size_t at = 0; at + 80 <= v.size(); at += 80) {
    pcm chunk(v.begin() + static_cast<long>(at), v.begin() + static_cast<long>(at + 80));
    detector.update(detector.analyse(chunk, *processor.process(chunk)).speech_like);
  }
  ASSERT_TRUE(detector.speaking());
  detector.reset();
  EXPECT_FALSE(detector.speaking());
  EXPECT_EQ(detector.update(false).chunk_index, 0U);
}

}  // namespace
}  // namespace npcl::audio
