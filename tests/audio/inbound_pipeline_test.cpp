#include "npcl/audio/inbound_pipeline.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <numbers>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "npcl/audio/g711.hpp"
#include "npcl/audio/resampler.hpp"
#include "npcl/audio/wav.hpp"

namespace npcl::audio {
namespace {

namespace fs = std::filesystem;
using pcm = std::vector<std::int16_t>;

constexpr int chunk_ms = 10;
// First chunk of an utterance counted as its start: the default energy gate.
constexpr double start_level = 0.01;

double rms(const std::int16_t* s, std::size_t n) {
  double sum = 0.0;
  for (std::size_t i = 0; i < n; ++i) sum += static_cast<double>(s[i]) * s[i];
  return n == 0 ? 0.0 : std::sqrt(sum / static_cast<double>(n)) / 32768.0;
}

double db(double ratio) { return 20.0 * std::log10(ratio); }

pcm ulaw_round_trip(const pcm& in) {
  pcm out(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) out[i] = ulaw_decode(ulaw_encode(in[i]));
  return out;
}

// Utterances spoken by espeak-ng into a private temporary directory, brought
// to 16 kHz by sox (espeak-ng writes 22 050 Hz, which the resampler does not
// take), then to the call rate by audio::resampler, then through μ-law as a
// telephone call would carry them.
class speech_corpus {
 public:
  static speech_corpus& get() {
    static speech_corpus corpus;
    return corpus;
  }

  const std::vector<pcm>& at(int rate_hz) { return rate_hz == 8000 ? at_8k_ : at_16k_; }
  bool ok() const { return !at_8k_.empty(); }
  const std::string& why() const { return why_; }

  static const std::vector<std::string>& texts() {
    static const std::vector<std::string> t{
        "Hello, my electricity is not working since this morning.",
        "I want to pay my bill.",
        "What is the balance on my account?",
        "My meter number is four five two seven.",
        "Please connect me to an agent.",
    };
    return t;
  }

 private:
  speech_corpus() {
    const fs::path dir = fs::temp_directory_path() / ("npcl_vad_speech_" + std::to_string(::getpid()));
    fs::create_directories(dir);
    for (std::size_t i = 0; i < texts().size(); ++i) {
      const fs::path raw = dir / ("u" + std::to_string(i) + ".espeak.wav");
      const fs::path wide = dir / ("u" + std::to_string(i) + ".16k.wav");
      const std::string speak = "espeak-ng -v en -w '" + raw.string() + "' '" + texts()[i] + "'";
      const std::string convert = "sox -D '" + raw.string() + "' -r 16000 '" + wide.string() + "'";
      if (std::system(speak.c_str()) != 0 || std::system(convert.c_str()) != 0) {
        why_ = "espeak-ng or sox failed: " + speak;
        break;
      }
      auto wav = read_wav(wide, &why_);
      if (!wav || wav->sample_rate_hz != 16000) break;
      at_16k_.push_back(ulaw_round_trip(wav->samples));
      resampler down(16000, 8000);
      pcm narrow;
      down.process(wav->samples, narrow);
      at_8k_.push_back(ulaw_round_trip(narrow));
    }
    std::error_code ec;
    fs::remove_all(dir, ec);
    if (at_8k_.size() != texts().size()) {
      at_8k_.clear();
      at_16k_.clear();
    }
  }

  std::vector<pcm> at_8k_;
  std::vector<pcm> at_16k_;
  std::string why_;
};

// Index of the first 10 ms chunk at or above the energy gate.
std::size_t start_chunk(const pcm& s, int rate_hz) {
  const std::size_t n = static_cast<std::size_t>(rate_hz / 100);
  for (std::size_t c = 0; (c + 1) * n <= s.size(); ++c) {
    if (rms(s.data() + c * n, n) >= start_level) return c;
  }
  return s.size() / n;
}

// One past the last chunk at or above the start level.
std::size_t end_chunk(const pcm& s, int rate_hz) {
  const std::size_t n = static_cast<std::size_t>(rate_hz / 100);
  std::size_t end = 0;
  for (std::size_t c = 0; (c + 1) * n <= s.size(); ++c) {
    if (rms(s.data() + c * n, n) >= start_level) end = c + 1;
  }
  return end;
}

// RMS of the chunks above the gate: the "reference speech level".
double active_level(const pcm& s, int rate_hz) {
  const std::size_t n = static_cast<std::size_t>(rate_hz / 100);
  double sum = 0.0;
  std::size_t count = 0;
  for (std::size_t c = 0; (c + 1) * n <= s.size(); ++c) {
    const double r = rms(s.data() + c * n, n);
    if (r >= start_level) {
      sum += r * r;
      ++count;
    }
  }
  return count == 0 ? 0.0 : std::sqrt(sum / static_cast<double>(count));
}

pcm silence_ms(int rate_hz, int ms) { return pcm(static_cast<std::size_t>(rate_hz / 1000 * ms), 0); }

void append(pcm& a, const pcm& b) { a.insert(a.end(), b.begin(), b.end()); }

std::int16_t clip(double v) { return static_cast<std::int16_t>(std::clamp(std::lround(v), -32768L, 32767L)); }

pcm scaled(const pcm& s, double gain) {
  pcm out(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) out[i] = clip(s[i] * gain);
  return out;
}

pcm white_noise(int rate_hz, int seconds, double level, std::uint32_t seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<double> g(0.0, level * 32768.0);
  pcm out(static_cast<std::size_t>(rate_hz * seconds));
  for (auto& s : out) s = clip(g(gen));
  return out;
}

// Paul Kellet's refined pink filter on white noise, then scaled to `level` RMS.
pcm pink_noise(int rate_hz, int seconds, double level, std::uint32_t seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<double> g(0.0, 1.0);
  std::vector<double> v(static_cast<std::size_t>(rate_hz * seconds));
  double b0 = 0, b1 = 0, b2 = 0, b3 = 0, b4 = 0, b5 = 0, b6 = 0, sum = 0;
  for (auto& x : v) {
    const double w = g(gen);
    b0 = 0.99886 * b0 + w * 0.0555179;
    b1 = 0.99332 * b1 + w * 0.0750759;
    b2 = 0.96900 * b2 + w * 0.1538520;
    b3 = 0.86650 * b3 + w * 0.3104856;
    b4 = 0.55000 * b4 + w * 0.5329522;
    b5 = -0.7616 * b5 - w * 0.0168980;
    x = b0 + b1 + b2 + b3 + b4 + b5 + b6 + w * 0.5362;
    b6 = w * 0.115926;
    sum += x * x;
  }
  const double gain = level * 32768.0 / std::sqrt(sum / static_cast<double>(v.size()));
  pcm out(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) out[i] = clip(v[i] * gain);
  return out;
}

pcm tones(int rate_hz, int ms, std::initializer_list<double> hz, double level_each) {
  pcm out(static_cast<std::size_t>(rate_hz / 1000 * ms));
  for (std::size_t n = 0; n < out.size(); ++n) {
    double v = 0.0;
    for (const double f : hz) v += std::sin(2.0 * std::numbers::pi * f * static_cast<double>(n) / rate_hz);
    out[n] = clip(v * level_each * std::numbers::sqrt2 * 32768.0);
  }
  return out;
}

struct run_log {
  std::vector<std::size_t> onset_chunks;   ///< chunk index (10 ms) at the end of each frame with an onset
  std::vector<std::size_t> offset_chunks;  ///< same for offsets
  std::vector<std::pair<long, long>> segments;  ///< reported speech [start, end) in ms
  std::size_t echo_frames = 0;             ///< frames with echo_suppressed
  std::size_t rejected = 0;                ///< frames rejected
  double max_us = 0.0;                     ///< worst processing time of one 20 ms frame
  double mean_us = 0.0;                    ///< mean processing time of one 20 ms frame
};

// Feeds `in` in 20 ms frames; when `far` is given, its frame at the same
// position goes to far_end() first, as playout would have sent it.
run_log run(inbound_pipeline& p, const pcm& in, const pcm* far = nullptr) {
  const int rate = p.format().sample_rate_hz;
  const std::size_t n = p.format().samples_per_channel();
  run_log log;
  double total_us = 0.0;
  std::size_t frames = 0;
  for (std::size_t at = 0; at + n <= in.size(); at += n) {
    if (far && at + n <= far->size()) {
      p.far_end(frame{pcm(far->begin() + static_cast<long>(at), far->begin() + static_cast<long>(at + n)), rate});
    }
    frame f{pcm(in.begin() + static_cast<long>(at), in.begin() + static_cast<long>(at + n)), rate};
    const auto t0 = std::chrono::steady_clock::now();
    const auto r = p.process(f);
    const double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
    total_us += us;
    log.max_us = std::max(log.max_us, us);
    ++frames;
    const std::size_t chunk_end = (at + n) / (n / static_cast<std::size_t>(p.format().ptime_ms / chunk_ms));
    if (r.offset && !log.segments.empty()) log.segments.back().second = static_cast<long>(r.speech_end.count());
    if (r.onset) {
      log.onset_chunks.push_back(chunk_end);
      log.segments.emplace_back(static_cast<long>(r.speech_start.count()), -1);
    }
    if (r.offset) log.offset_chunks.push_back(chunk_end);
    if (r.echo_suppressed) ++log.echo_frames;
    if (r.rejected) ++log.rejected;
  }
  log.mean_us = frames == 0 ? 0.0 : total_us / static_cast<double>(frames);
  return log;
}

class pipeline_at_rate : public testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    if (!speech_corpus::get().ok()) GTEST_FAIL() << "no test speech: " << speech_corpus::get().why();
  }
  int rate() const { return GetParam(); }
  audio_format format() const { return audio_format{rate(), 1, 20}; }
  const std::vector<pcm>& speech() const { return speech_corpus::get().at(rate()); }
  // One utterance after 500 ms of silence (so it starts at chunk 50), then
  // a second of silence for the turn to end.
  run_log run_utterance(inbound_pipeline& p, const pcm& utterance) const {
    pcm in = silence_ms(rate(), 500);
    append(in, utterance);
    append(in, silence_ms(rate(), 1000));
    return run(p, in);
  }
  double reference_level() const {
    double sum = 0.0;
    for (const auto& s : speech()) sum += active_level(s, rate());
    return sum / static_cast<double>(speech().size());
  }
};

TEST_P(pipeline_at_rate, silence_never_triggers) {
  inbound_pipeline p(format(), vad_options{});
  pcm quiet = silence_ms(rate(), 10'000);
  // A faint hiss at −70 dBFS, as an idle line carries after μ-law.
  append(quiet, ulaw_round_trip(white_noise(rate(), 10, 0.0003, 7)));
  const auto log = run(p, quiet);
  EXPECT_TRUE(log.onset_chunks.empty()) << "first onset at " << log.onset_chunks.front() * 10 << " ms";
  EXPECT_FALSE(p.speaking());
}

TEST_P(pipeline_at_rate, speech_detected_within_100_ms_of_its_start) {
  for (std::size_t i = 0; i < speech().size(); ++i) {
    inbound_pipeline p(format(), vad_options{});
    const auto log = run_utterance(p, speech()[i]);
    const std::size_t start = 50 + start_chunk(speech()[i], rate());
    ASSERT_FALSE(log.onset_chunks.empty()) << speech_corpus::texts()[i];
    const long delay_ms = (static_cast<long>(log.onset_chunks.front()) - static_cast<long>(start)) * 10;
    std::printf("[ measured ] %d Hz \"%s\": level %.1f dBFS, onset %ld ms after start, %zu onsets, "
                "%zu offsets, frame cost mean %.1f us max %.1f us\n",
                rate(), speech_corpus::texts()[i].c_str(), db(active_level(speech()[i], rate())), delay_ms,
                log.onset_chunks.size(), log.offset_chunks.size(), log.mean_us, log.max_us);
    EXPECT_GE(delay_ms, 0) << speech_corpus::texts()[i];
    EXPECT_LE(delay_ms, 100) << speech_corpus::texts()[i];
    // The turn ends once the speech has: within hangover + 100 ms of its last chunk.
    ASSERT_FALSE(log.offset_chunks.empty()) << speech_corpus::texts()[i];
    EXPECT_FALSE(p.speaking());
  }
}

// What the caller said, as the pipeline reports it once a turn is over:
// from where the speech began, not where min_speech let the decision
// follow, to where it ended, not where the hangover ran out.
TEST_P(pipeline_at_rate, reported_speech_segments_span_the_utterance_not_the_decision_delays) {
  for (std::size_t i = 0; i < speech().size(); ++i) {
    inbound_pipeline p(format(), vad_options{});
    const auto log = run_utterance(p, speech()[i]);
    ASSERT_FALSE(log.segments.empty()) << speech_corpus::texts()[i];
    const long start_ms = static_cast<long>(50 + start_chunk(speech()[i], rate())) * 10;
    const long end_ms = static_cast<long>(50 + end_chunk(speech()[i], rate())) * 10;
    const long onset_ms = static_cast<long>(log.onset_chunks.front()) * 10;
    const long offset_ms = static_cast<long>(log.offset_chunks.back()) * 10;
    std::printf("[ measured ] %d Hz \"%s\": speech %ld..%ld ms, reported %ld..%ld ms in %zu segments, "
                "decided %ld..%ld ms\n",
                rate(), speech_corpus::texts()[i].c_str(), start_ms, end_ms, log.segments.front().first,
                log.segments.back().second, log.segments.size(), onset_ms, offset_ms);
    EXPECT_LE(std::abs(log.segments.front().first - start_ms), 30) << speech_corpus::texts()[i];
    EXPECT_LE(std::abs(log.segments.back().second - end_ms), 150) << speech_corpus::texts()[i];
    long total_ms = 0;
    for (const auto& [from, to] : log.segments) {
      EXPECT_LT(from, to) << speech_corpus::texts()[i];
      total_ms += to - from;
    }
    // The call's record sums the same segments.
    const auto said = p.caller_speech();
    EXPECT_EQ(said.turns, static_cast<int>(log.segments.size())) << speech_corpus::texts()[i];
    EXPECT_EQ(said.speech.count(), total_ms) << speech_corpus::texts()[i];
  }
}

TEST_P(pipeline_at_rate, noise_10_db_below_speech_gives_no_onset) {
  const double level = reference_level() / std::pow(10.0, 10.0 / 20.0);
  for (const bool pink : {false, true}) {
    inbound_pipeline p(format(), vad_options{});
    const pcm noise = ulaw_round_trip(pink ? pink_noise(rate(), 60, level, 11) : white_noise(rate(), 60, level, 13));
    const auto log = run(p, noise);
    std::printf("[ measured ] %d Hz %s noise at %.1f dBFS (speech %.1f dBFS): %zu onsets\n", rate(),
                pink ? "pink" : "white", db(level), db(reference_level()), log.onset_chunks.size());
    EXPECT_TRUE(log.onset_chunks.empty()) << (pink ? "pink" : "white") << " noise, first onset at "
                                          << log.onset_chunks.front() * 10 << " ms";
  }
}

TEST_P(pipeline_at_rate, dtmf_digits_and_a_1_khz_tone_give_no_onset) {
  static const double low[] = {697, 770, 852, 941};
  static const double high[] = {1209, 1336, 1477, 1633};
  pcm in;
  for (int digit = 0; digit < 16; ++digit) {
    // Each tone at −10 dBFS, the level a handset sends; 100 ms on, 100 ms off.
    append(in, ulaw_round_trip(tones(rate(), 100, {low[digit / 4], high[digit % 4]}, 0.316 / std::numbers::sqrt2)));
    append(in, silence_ms(rate(), 100));
  }
  append(in, ulaw_round_trip(tones(rate(), 2000, {low[1], high[1]}, 0.316 / std::numbers::sqrt2)));
  append(in, silence_ms(rate(), 500));
  for (const double level : {0.316, 0.1, 0.03}) {
    append(in, ulaw_round_trip(tones(rate(), 3000, {1000.0}, level / std::numbers::sqrt2)));
    append(in, silence_ms(rate(), 300));
  }
  inbound_pipeline p(format(), vad_options{});
  const auto log = run(p, in);
  EXPECT_TRUE(log.onset_chunks.empty()) << "first onset at " << log.onset_chunks.front() * 10 << " ms";
}

// The assistant's own voice: utterances 0..2 back to back with 300 ms pauses.
pcm assistant_voice(const std::vector<pcm>& speech, int rate_hz) {
  pcm out;
  for (std::size_t i = 0; i < 3; ++i) {
    append(out, speech[i]);
    append(out, silence_ms(rate_hz, 300));
  }
  return out;
}

// What comes back from the caller's side: `sent` delayed and attenuated,
// through μ-law as the line carries it.
pcm echo_of(const pcm& sent, int rate_hz, int delay_ms, double loss_db) {
  pcm out = silence_ms(rate_hz, delay_ms);
  append(out, scaled(sent, std::pow(10.0, -loss_db / 20.0)));
  out.resize(sent.size());
  return ulaw_round_trip(out);
}

TEST_P(pipeline_at_rate, echo_of_the_assistant_gives_no_onset) {
  const pcm sent = assistant_voice(speech(), rate());
  for (const int delay_ms : {20, 60, 120, 200}) {
    for (const double loss_db : {10.0, 15.0, 25.0}) {
      inbound_pipeline p(format(), vad_options{});
      const auto log = run(p, echo_of(sent, rate(), delay_ms, loss_db), &sent);
      std::printf("[ measured ] %d Hz echo %d ms at -%.0f dB: %zu onsets, %zu frames suppressed as echo\n", rate(),
                  delay_ms, loss_db, log.onset_chunks.size(), log.echo_frames);
      EXPECT_TRUE(log.onset_chunks.empty()) << delay_ms << " ms, -" << loss_db << " dB: first onset at "
                                            << log.onset_chunks.front() * 10 << " ms";
    }
  }
}

TEST_P(pipeline_at_rate, caller_speech_over_the_echo_is_detected) {
  const pcm sent = assistant_voice(speech(), rate());
  for (const int delay_ms : {20, 120, 200}) {
    for (const double loss_db : {10.0, 25.0}) {
      // The caller barges in 700 ms into the assistant's first sentence.
      pcm in = echo_of(sent, rate(), delay_ms, loss_db);
      const pcm& caller = speech()[4];
      const std::size_t at = static_cast<std::size_t>(rate() / 1000 * 700);
      for (std::size_t i = 0; i < caller.size() && at + i < in.size(); ++i) in[at + i] = clip(in[at + i] + caller[i]);
      inbound_pipeline p(format(), vad_options{});
      const auto log = run(p, in, &sent);
      const std::size_t start = 70 + start_chunk(caller, rate());
      ASSERT_FALSE(log.onset_chunks.empty()) << delay_ms << " ms, -" << loss_db << " dB";
      const long delay = (static_cast<long>(log.onset_chunks.front()) - static_cast<long>(start)) * 10;
      std::printf("[ measured ] %d Hz caller over echo %d ms at -%.0f dB: onset %ld ms after the caller's start, "
                  "%zu frames suppressed as echo\n", rate(), delay_ms, loss_db, delay, log.echo_frames);
      EXPECT_GE(delay, 0);
      EXPECT_LE(delay, 150);  // speech()[4] starts with a "p": 90 ms without echo
    }
  }
}

INSTANTIATE_TEST_SUITE_P(rates, pipeline_at_rate, testing::Values(8000, 16000),
                         [](const auto& info) { return std::to_string(info.param) + "_hz"; });

}  // namespace
}  // namespace npcl::audio
