// Accuracy of the local voice-activity decision on the generated, labelled
// corpus (tests/data/make_vad_corpus): how often each method calls speech
// speech and silence silence per 10 ms frame, per language and SNR; how late
// it notices the caller starting; how often the assistant's own echo would
// barge in. Methods: the plain energy gate the old system used, webrtc's GMM
// VAD alone, and the inbound pipeline (audio_processor + speech_detector +
// echo_guard) when it is part of the tree.
//
// Usage: npcl_bench_vad_accuracy <corpus dir>
// Prints Markdown tables; exit status 1 if the corpus cannot be read.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "npcl/audio/audio_format.hpp"
#include "npcl/audio/audio_options.hpp"
#include "npcl/audio/wav.hpp"

#if __has_include("npcl/audio/inbound_pipeline.hpp")
#include "npcl/audio/frame.hpp"
#include "npcl/audio/inbound_pipeline.hpp"
#define NPCL_BENCH_HAVE_PIPELINE 1
#else
#define NPCL_BENCH_HAVE_PIPELINE 0
#endif

#include "audio/webrtc_vad.hpp"

namespace {

namespace fs = std::filesystem;

constexpr int rate_hz = 8000;       // corpus rate (Hz)
constexpr std::size_t chunk = 80;   // samples per 10 ms label frame
constexpr int chunk_ms = 10;        // duration of one label frame (ms)
// A labelled talk spurt counts for onset delay only after this much silence,
// so the pauses inside a sentence do not count as new onsets (frames).
constexpr std::size_t onset_quiet_frames = 30;
// A detector onset within this distance of labelled caller speech is a
// true barge-in, further away a false one (frames).
constexpr std::size_t barge_in_tolerance_frames = 20;
// The pipeline's default hangover (300 ms): how long a turn is held past the
// last labelled speech frame before that counts as anything but holding.
constexpr std::size_t hold_frames = 30;

/// One decision method, fed the corpus 10 ms at a time. `far` is what the
/// assistant played during the same 10 ms (empty when nothing was played).
class method {
 public:
  virtual ~method() = default;
  /// True when the method calls this chunk (or the turn it is in) speech.
  virtual bool step(std::span<const std::int16_t> near, std::span<const std::int16_t> far) = 0;
  /// After the last chunk: a method that reports where speech began and
  /// ended (later than it decides) rewrites its per-chunk calls from that.
  virtual void finish(std::vector<bool>& /*decided*/) {}
};

/// The old system's gate: RMS of the chunk above VAD_ENERGY_THRESHOLD.
class energy_gate final : public method {
 public:
  explicit energy_gate(double threshold) : threshold_(threshold) {}
  bool step(std::span<const std::int16_t> near, std::span<const std::int16_t>) override {
    double sum = 0.0;
    for (const auto s : near) sum += static_cast<double>(s) * s;
    return std::sqrt(sum / static_cast<double>(near.size())) / 32768.0 > threshold_;
  }

 private:
  double threshold_;  ///< RMS as a fraction of full scale (0..1)
};

/// webrtc's GMM VAD on the raw chunk, aggressiveness mode 2.
class gmm_vad final : public method {
 public:
  gmm_vad() : vad_(WebRtcVad_Create()) {
    if (vad_ == nullptr || WebRtcVad_Init(vad_) != 0 || WebRtcVad_set_mode(vad_, 2) != 0) {
      std::fprintf(stderr, "webrtc GMM VAD could not be initialised\n");
      std::exit(1);
    }
  }
  ~gmm_vad() override { WebRtcVad_Free(vad_); }
  gmm_vad(const gmm_vad&) = delete;
  gmm_vad& operator=(const gmm_vad&) = delete;
  bool step(std::span<const std::int16_t> near, std::span<const std::int16_t>) override {
    return WebRtcVad_Process(vad_, rate_hz, near.data(), near.size()) == 1;
  }

 private:
  WebRtcVadInst* vad_;  ///< owned VAD state
};

#if NPCL_BENCH_HAVE_PIPELINE
/// The inbound pipeline with its default settings, run with 10 ms frames: it
/// decides per 10 ms chunk whatever the frame size, so this shows every
/// decision the 20 ms call path makes, at the chunk where it is made.
class pipeline_method final : public method {
 public:
  /// `feed_far`: whether the pipeline is told what the assistant played (the
  /// echo guard's and the echo canceller's reference).
  /// `segments`: score the speech segments the pipeline reports (from where
  /// an onset says speech began to where an offset says it ended) instead of
  /// its live `speaking` state.
  explicit pipeline_method(const npcl::audio::vad_options& options, bool feed_far = true, bool segments = false)
      : pipeline_(format(), options), feed_far_(feed_far), segments_(segments) {}
  bool step(std::span<const std::int16_t> near, std::span<const std::int16_t> far) override {
    if (feed_far_ && !far.empty()) pipeline_.far_end(npcl::audio::frame{{far.begin(), far.end()}, rate_hz});
    const auto r = pipeline_.process(npcl::audio::frame{{near.begin(), near.end()}, rate_hz});
    if (r.offset && open_) {
      turns_.emplace_back(*open_, static_cast<std::size_t>(r.speech_end.count() / chunk_ms));
      open_.reset();
    }
    if (r.onset) open_ = static_cast<std::size_t>(r.speech_start.count() / chunk_ms);
    return r.speaking;
  }
  void finish(std::vector<bool>& decided) override {
    if (!segments_) return;
    if (open_) turns_.emplace_back(*open_, decided.size());
    std::fill(decided.begin(), decided.end(), false);
    for (const auto& [from, to] : turns_)
      std::fill(decided.begin() + static_cast<std::ptrdiff_t>(std::min(from, decided.size())),
                decided.begin() + static_cast<std::ptrdiff_t>(std::min(to, decided.size())), true);
  }

 private:
  static npcl::audio::audio_format format() { return {rate_hz, 1, chunk_ms}; }
  npcl::audio::inbound_pipeline pipeline_;  ///< the detector under test
  bool feed_far_;                           ///< far end given to the pipeline
  bool segments_;                           ///< score reported segments, not the live state
  std::optional<std::size_t> open_;         ///< first frame of the segment in progress
  std::vector<std::pair<std::size_t, std::size_t>> turns_;  ///< reported segments [from, to) in frames
};
#endif

struct method_spec {
  std::string name;                              ///< column/table name
  std::unique_ptr<method> (*make)();             ///< fresh state for every file
  bool live = true;  ///< calls each chunk as it comes (false: edges revised later, no onset delay to show)
};

std::vector<method_spec> methods() {
  std::vector<method_spec> all;
  all.push_back({"energy gate 0.01", [] {
                   return std::unique_ptr<method>(
                       std::make_unique<energy_gate>(npcl::audio::vad_options{}.energy_threshold));
                 }});
  all.push_back({"webrtc GMM VAD mode 2",
                 [] { return std::unique_ptr<method>(std::make_unique<gmm_vad>()); }});
#if NPCL_BENCH_HAVE_PIPELINE
  all.push_back({"inbound_pipeline (defaults)", [] {
                   return std::unique_ptr<method>(std::make_unique<pipeline_method>(npcl::audio::vad_options{}));
                 }});
  // The same run scored by the segments it reports once each turn is over.
  all.push_back({"inbound_pipeline (defaults), speech segments",
                 [] {
                   return std::unique_ptr<method>(
                       std::make_unique<pipeline_method>(npcl::audio::vad_options{}, true, true));
                 },
                 false});
  // The echo set's comparisons: the same pipeline with the echo canceller on,
  // and without any far end (neither echo guard nor canceller can act).
  all.push_back({"inbound_pipeline + AEC", [] {
                   npcl::audio::vad_options o;
                   o.echo_cancel = true;
                   return std::unique_ptr<method>(std::make_unique<pipeline_method>(o));
                 }});
  all.push_back({"inbound_pipeline, no far end", [] {
                   return std::unique_ptr<method>(
                       std::make_unique<pipeline_method>(npcl::audio::vad_options{}, false));
                 }});
#endif
  return all;
}

/// One row of manifest.tsv.
struct corpus_file {
  std::string wav;        ///< path relative to the corpus dir
  std::string labels;     ///< label file relative to the corpus dir
  std::string set;        ///< "speech" or "echo"
  std::string language;   ///< en, hi, bn
  std::string condition;  ///< clean/white/pink/babble, or echo_only/echo_talk
  std::string snr;        ///< dB as text, "inf" for clean, "-" for echo
  std::string far_end;    ///< what the assistant played, or "-"
};

std::optional<std::vector<corpus_file>> read_manifest(const fs::path& dir) {
  std::ifstream in(dir / "manifest.tsv");
  if (!in) {
    std::fprintf(stderr, "%s: cannot read manifest.tsv (run tests/data/make_vad_corpus first)\n",
                 dir.c_str());
    return std::nullopt;
  }
  std::vector<corpus_file> files;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> f;
    std::stringstream ss(line);
    for (std::string field; std::getline(ss, field, '\t');) f.push_back(field);
    if (f.size() != 7) {
      std::fprintf(stderr, "manifest.tsv: malformed row: %s\n", line.c_str());
      return std::nullopt;
    }
    files.push_back({f[0], f[1], f[2], f[3], f[4], f[5], f[6]});
  }
  return files;
}

std::optional<std::vector<std::int16_t>> load_wav(const fs::path& path) {
  std::string why;
  auto wav = npcl::audio::read_wav(path, &why);
  if (!wav) {
    std::fprintf(stderr, "%s: %s\n", path.c_str(), why.c_str());
    return std::nullopt;
  }
  if (wav->sample_rate_hz != rate_hz) {
    std::fprintf(stderr, "%s: %d Hz, expected %d\n", path.c_str(), wav->sample_rate_hz, rate_hz);
    return std::nullopt;
  }
  return std::move(wav->samples);
}

std::optional<std::vector<bool>> load_labels(const fs::path& path) {
  std::ifstream in(path);
  if (!in) {
    std::fprintf(stderr, "%s: cannot read\n", path.c_str());
    return std::nullopt;
  }
  std::vector<bool> labels;
  std::string line;
  while (std::getline(in, line)) {
    if (line != "0" && line != "1") {
      std::fprintf(stderr, "%s:%zu: expected 0 or 1\n", path.c_str(), labels.size() + 1);
      return std::nullopt;
    }
    labels.push_back(line == "1");
  }
  return labels;
}

/// Frame counts and onset measures of one method over some files.
struct score {
  std::uint64_t tp = 0, fp = 0, fn = 0, tn = 0;  ///< speech-as-speech, silence-as-speech, ... (frames)
  std::uint64_t fp_held = 0;  ///< of fp, frames of a turn held unbroken up to hold_frames past labelled speech
  std::vector<int> onset_delays_ms;              ///< per detected labelled onset (ms)
  std::uint64_t onsets = 0;                      ///< labelled onsets after onset_quiet_frames of silence
  std::uint64_t missed_onsets = 0;               ///< of those, never detected within the spurt
  std::uint64_t false_onsets = 0;                ///< detector onsets away from any labelled speech
  double minutes = 0.0;                          ///< audio scored (minutes)

  void add(const score& o) {
    tp += o.tp, fp += o.fp, fn += o.fn, tn += o.tn;
    fp_held += o.fp_held;
    onset_delays_ms.insert(onset_delays_ms.end(), o.onset_delays_ms.begin(), o.onset_delays_ms.end());
    onsets += o.onsets, missed_onsets += o.missed_onsets, false_onsets += o.false_onsets;
    minutes += o.minutes;
  }
};

score score_file(const std::vector<bool>& decided, const std::vector<bool>& labels) {
  score s;
  const std::size_t n = labels.size();
  for (std::size_t i = 0; i < n; ++i) {
    if (labels[i]) {
      decided[i] ? ++s.tp : ++s.fn;
    } else {
      decided[i] ? ++s.fp : ++s.tn;
    }
  }
  s.minutes = static_cast<double>(n) * chunk_ms / 60000.0;

  // Frames after a spurt's end that the method still calls speech without a
  // break since the spurt: a hangover holding the turn, not a false start.
  std::size_t since_speech = hold_frames + 1;
  bool held = false;
  for (std::size_t i = 0; i < n; ++i) {
    if (labels[i]) {
      since_speech = 0;
      held = decided[i];
      continue;
    }
    ++since_speech;
    held = held && decided[i];
    if (held && since_speech <= hold_frames) ++s.fp_held;
  }

  // Onset delay: from the start of a spurt to the end of the first chunk the
  // method calls speech; zero if it was already calling speech.
  std::size_t quiet = onset_quiet_frames;  // the file starts after silence
  for (std::size_t i = 0; i < n; ++i) {
    if (!labels[i]) {
      ++quiet;
      continue;
    }
    if (quiet >= onset_quiet_frames) {
      ++s.onsets;
      std::size_t end = i;
      while (end < n && labels[end]) ++end;
      if (i > 0 && decided[i - 1]) {
        s.onset_delays_ms.push_back(0);
      } else {
        std::size_t f = i;
        while (f < end && !decided[f]) ++f;
        if (f == end) {
          ++s.missed_onsets;
        } else {
          s.onset_delays_ms.push_back(static_cast<int>(f - i + 1) * chunk_ms);
        }
      }
    }
    quiet = 0;
  }

  // False onsets: the method goes from silence to speech with no labelled
  // speech within the tolerance on either side.
  for (std::size_t i = 0; i < n; ++i) {
    if (!decided[i] || (i > 0 && decided[i - 1])) continue;
    const std::size_t lo = i >= barge_in_tolerance_frames ? i - barge_in_tolerance_frames : 0;
    const std::size_t hi = std::min(n, i + barge_in_tolerance_frames + 1);
    bool near_speech = false;
    for (std::size_t k = lo; k < hi && !near_speech; ++k) near_speech = labels[k];
    if (!near_speech) ++s.false_onsets;
  }
  return s;
}

// Percentages are cut, not rounded, to one decimal: 89.96 % prints as 89.9 %,
// so a figure never reads as meeting a target it misses.
std::string truncated_pct(double fraction) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f %%", std::floor(fraction * 1000.0) / 10.0);
  return buf;
}

std::string pct(std::uint64_t num, std::uint64_t den) {
  if (den == 0) return "—";
  return truncated_pct(static_cast<double>(num) / static_cast<double>(den));
}

double ratio(std::uint64_t num, std::uint64_t den) {
  return den == 0 ? 1.0 : static_cast<double>(num) / static_cast<double>(den);
}

std::string percentile(std::vector<int> v, double p) {
  if (v.empty()) return "—";
  std::sort(v.begin(), v.end());
  // Nearest rank: the smallest value with at least p of the data at or below.
  const auto rank = static_cast<std::size_t>(std::ceil(p * static_cast<double>(v.size())));
  return std::to_string(v[std::max<std::size_t>(rank, 1) - 1]) + " ms";
}

std::string per_minute(std::uint64_t count, double minutes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", minutes > 0 ? static_cast<double>(count) / minutes : 0.0);
  return buf;
}

int snr_order(const std::string& snr) { return snr == "inf" ? 1000 : std::stoi(snr); }

/// What the labels leave to any detector that needs min_speech of speech
/// before it calls an onset: frames it must call silence at the start of
/// every labelled spurt, from a clean (noiseless) file.
struct label_ceiling {
  std::uint64_t silence = 0;      ///< labelled silence frames
  std::uint64_t spurts = 0;       ///< labelled spurts (runs of speech frames)
  std::uint64_t quiet_lead = 0;   ///< spurt frames before the first one at or above the energy gate
  std::uint64_t late = 0;         ///< frames lost starting every spurt min_speech late
  std::uint64_t gate_late = 0;    ///< frames lost starting min_speech after the first frame above the gate

  void add(const std::vector<std::int16_t>& clean, const std::vector<bool>& labels, std::size_t min_frames,
           double gate) {
    const std::size_t n = labels.size();
    for (std::size_t i = 0; i < n;) {
      if (!labels[i]) {
        ++silence;
        ++i;
        continue;
      }
      std::size_t end = i;
      while (end < n && labels[end]) ++end;
      std::size_t first_loud = i;
      for (; first_loud < end; ++first_loud) {
        double sum = 0.0;
        for (std::size_t k = 0; k < chunk; ++k) {
          const double x = clean[first_loud * chunk + k];
          sum += x * x;
        }
        if (std::sqrt(sum / chunk) / 32768.0 >= gate) break;
      }
      ++spurts;
      quiet_lead += first_loud - i;
      late += std::min(min_frames, end - i);
      gate_late += std::min(first_loud - i + min_frames, end - i);
      i = end;
    }
  }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <corpus dir made by tests/data/make_vad_corpus>\n", argv[0]);
    return 1;
  }
  const fs::path dir = argv[1];
  const auto files = read_manifest(dir);
  if (!files || files->empty()) return 1;

#if !NPCL_BENCH_HAVE_PIPELINE
  std::fprintf(stderr, "inbound_pipeline is not in this tree: baselines only\n");
#endif
  const auto specs = methods();
  // scores[method][key] with keys "lang|snr", "noise|snr", "snr|<snr>", "echo|lang|condition".
  std::vector<std::map<std::string, score>> scores(specs.size());
  std::map<std::string, label_ceiling> ceilings;  // by language, from the clean files
  const npcl::audio::vad_options defaults;
  const auto min_frames = static_cast<std::size_t>((defaults.min_speech.count() + chunk_ms - 1) / chunk_ms);

  for (const auto& file : *files) {
    auto near = load_wav(dir / file.wav);
    auto labels = load_labels(dir / file.labels);
    if (!near || !labels) return 1;
    std::vector<std::int16_t> far;
    if (file.far_end != "-") {
      auto f = load_wav(dir / file.far_end);
      if (!f) return 1;
      far = std::move(*f);
    }
    if (near->size() / chunk != labels->size() || (!far.empty() && far.size() != near->size())) {
      std::fprintf(stderr, "%s: %zu samples do not match %zu labels or the far end (%zu samples)\n",
                   file.wav.c_str(), near->size(), labels->size(), far.size());
      return 1;
    }

    if (file.set == "speech" && file.condition == "clean") {
      ceilings[file.language].add(*near, *labels, min_frames, defaults.energy_threshold);
    }

    for (std::size_t m = 0; m < specs.size(); ++m) {
      auto detector = specs[m].make();
      std::vector<bool> decided(labels->size());
      for (std::size_t i = 0; i < labels->size(); ++i) {
        const std::span<const std::int16_t> in(near->data() + i * chunk, chunk);
        const std::span<const std::int16_t> out =
            far.empty() ? std::span<const std::int16_t>{} : std::span<const std::int16_t>(far.data() + i * chunk, chunk);
        decided[i] = detector->step(in, out);
      }
      detector->finish(decided);
      const score s = score_file(decided, *labels);
      auto& by = scores[m];
      if (file.set == "echo") {
        by["echo|" + file.language + "|" + file.condition].add(s);
        by["echo|all|" + file.condition].add(s);
      } else {
        const std::string snr = file.snr;
        by[file.language + "|" + snr].add(s);
        by["all|" + snr].add(s);
        by[file.condition + "|" + snr].add(s);
      }
    }
  }

  // SNRs present, clean first, then falling.
  std::vector<std::string> snrs;
  for (const auto& f : *files)
    if (f.set == "speech" && std::find(snrs.begin(), snrs.end(), f.snr) == snrs.end()) snrs.push_back(f.snr);
  std::sort(snrs.begin(), snrs.end(), [](const auto& a, const auto& b) { return snr_order(a) > snr_order(b); });
  const std::vector<std::string> languages = {"en", "hi", "bn", "all"};
  const std::vector<std::string> noises = {"white", "pink", "babble"};

  for (std::size_t m = 0; m < specs.size(); ++m) {
    auto& by = scores[m];
    std::printf("\n### %s: frames per language and SNR (noise types pooled)\n\n", specs[m].name.c_str());
    std::printf("| language | SNR dB | speech precision | speech recall | silence precision | silence recall |\n");
    std::printf("|---|---|---|---|---|---|\n");
    for (const auto& lang : languages)
      for (const auto& snr : snrs) {
        const auto it = by.find(lang + "|" + snr);
        if (it == by.end()) continue;
        const score& s = it->second;
        std::printf("| %s | %s | %s | %s | %s | %s |\n", lang.c_str(), snr.c_str(), pct(s.tp, s.tp + s.fp).c_str(),
                    pct(s.tp, s.tp + s.fn).c_str(), pct(s.tn, s.tn + s.fn).c_str(), pct(s.tn, s.tn + s.fp).c_str());
      }
  }

  std::printf("\n### Per noise type (languages pooled): speech precision / silence precision\n\n");
  std::printf("| noise | SNR dB |");
  for (const auto& spec : specs) std::printf(" %s |", spec.name.c_str());
  std::printf("\n|---|---|");
  for (std::size_t m = 0; m < specs.size(); ++m) std::printf("---|");
  std::printf("\n");
  for (const auto& noise : noises)
    for (const auto& snr : snrs) {
      if (scores[0].find(noise + "|" + snr) == scores[0].end()) continue;
      std::printf("| %s | %s |", noise.c_str(), snr.c_str());
      for (std::size_t m = 0; m < specs.size(); ++m) {
        const score& s = scores[m][noise + "|" + snr];
        std::printf(" %s / %s |", pct(s.tp, s.tp + s.fp).c_str(), pct(s.tn, s.tn + s.fn).c_str());
      }
      std::printf("\n");
    }

  std::printf("\n### Onset delay (all languages and noise types; spurts after >= %zu ms of silence)\n\n",
              onset_quiet_frames * chunk_ms);
  std::printf("| method | SNR dB | onsets | missed | median | p90 | false onsets / min in speech files |\n");
  std::printf("|---|---|---|---|---|---|---|\n");
  for (std::size_t m = 0; m < specs.size(); ++m)
    for (const auto& snr : snrs) {
      if (!specs[m].live) continue;
      const score& s = scores[m]["all|" + snr];
      std::printf("| %s | %s | %llu | %llu | %s | %s | %s |\n", specs[m].name.c_str(), snr.c_str(),
                  static_cast<unsigned long long>(s.onsets), static_cast<unsigned long long>(s.missed_onsets),
                  percentile(s.onset_delays_ms, 0.5).c_str(), percentile(s.onset_delays_ms, 0.9).c_str(),
                  per_minute(s.false_onsets, s.minutes).c_str());
    }

  std::printf("\n### Echo set: assistant replies fed back at -10..-25 dB after 20..200 ms\n\n");
  std::printf("| method | language | false barge-ins / min, echo alone | false barge-ins / min, caller over echo |"
              " caller speech precision | caller speech recall | caller onsets missed |\n");
  std::printf("|---|---|---|---|---|---|---|\n");
  for (std::size_t m = 0; m < specs.size(); ++m)
    for (const auto& lang : languages) {
      const score& alone = scores[m]["echo|" + lang + "|echo_only"];
      const score& talk = scores[m]["echo|" + lang + "|echo_talk"];
      std::printf("| %s | %s | %s | %s | %s | %s | %llu of %llu |\n", specs[m].name.c_str(), lang.c_str(),
                  per_minute(alone.false_onsets, alone.minutes).c_str(),
                  per_minute(talk.false_onsets, talk.minutes).c_str(), pct(talk.tp, talk.tp + talk.fp).c_str(),
                  pct(talk.tp, talk.tp + talk.fn).c_str(), static_cast<unsigned long long>(talk.missed_onsets),
                  static_cast<unsigned long long>(talk.onsets));
    }

  std::printf("\n### Targets at SNR >= 10 dB (worst language and SNR): speech precision >= 90 %%, "
              "silence precision >= 95 %%\n\n");
  std::printf("| method | worst speech precision | worst silence precision | met | worst speech precision, "
              "turn held <= 300 ms past speech not counted |\n|---|---|---|---|---|\n");
  for (std::size_t m = 0; m < specs.size(); ++m) {
    double worst_speech = 1.0, worst_silence = 1.0, worst_unheld = 1.0;
    for (const auto& lang : {"en", "hi", "bn"})
      for (const auto& snr : snrs) {
        if (snr_order(snr) < 10) continue;
        const score& s = scores[m][std::string(lang) + "|" + snr];
        worst_speech = std::min(worst_speech, ratio(s.tp, s.tp + s.fp));
        worst_silence = std::min(worst_silence, ratio(s.tn, s.tn + s.fn));
        worst_unheld = std::min(worst_unheld, ratio(s.tp, s.tp + s.fp - s.fp_held));
      }
    std::printf("| %s | %s | %s | %s | %s |\n", specs[m].name.c_str(), truncated_pct(worst_speech).c_str(),
                truncated_pct(worst_silence).c_str(),
                worst_speech >= 0.90 && worst_silence >= 0.95 ? "yes" : "no", truncated_pct(worst_unheld).c_str());
  }

  std::printf("\n### What the labels allow: silence precision of a detector right on every frame but the "
              "first %zu ms of each spurt (clean files)\n\n", min_frames * chunk_ms);
  std::printf("| language | spurts | frames per spurt under the %.2f energy gate before the first above it |"
              " starts %zu ms late | starts %zu ms after the first frame above the gate |\n|---|---|---|---|---|\n",
              defaults.energy_threshold, min_frames * chunk_ms, min_frames * chunk_ms);
  for (const auto& lang : {"en", "hi", "bn"}) {
    const auto it = ceilings.find(lang);
    if (it == ceilings.end() || it->second.spurts == 0) continue;
    const label_ceiling& c = it->second;
    char lead[32];
    std::snprintf(lead, sizeof lead, "%.1f", static_cast<double>(c.quiet_lead) / static_cast<double>(c.spurts));
    std::printf("| %s | %llu | %s | %s | %s |\n", lang, static_cast<unsigned long long>(c.spurts), lead,
                pct(c.silence, c.silence + c.late).c_str(), pct(c.silence, c.silence + c.gate_late).c_str());
  }
  return 0;
}
