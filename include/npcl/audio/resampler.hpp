#pragma once
#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

struct SpeexResamplerState_;  // speexdsp's opaque state; the library stays private to src/

namespace npcl::audio {

/// Stateful mono PCM16 sample-rate converter between 8, 16, 24 and 48 kHz
/// (speexdsp's windowed-sinc filter). Feed it consecutive pieces of one
/// stream: the filter history is kept between calls, so cutting the stream
/// into frames adds no clicks at the edges. One instance per stream and
/// direction; not thread-safe (a call's strand owns it).
///
/// Latency: the filter delays the stream by latency_samples() output samples
/// (for the default quality 8→24 kHz: 72 samples = 3 ms; 24→8 kHz: 24 samples
/// = 3 ms). The first output samples of a stream are the filter settling, and
/// the same number of trailing input samples stay inside the filter until more
/// input comes. Identity conversion (in == out) is a plain copy with no delay.
class resampler {
 public:
  /// speexdsp quality 0..10; 3 is its "VoIP" setting, ample for telephone
  /// audio band-limited to 3.4 kHz and cheap enough for every frame.
  static constexpr int default_quality = 3;

  /// True for the rates this class converts between: 8000, 16000, 24000,
  /// 48000 Hz. Check untrusted rates with this before constructing.
  static bool supported_rate(int rate_hz) noexcept;

  /// Builds a converter from `in_rate_hz` to `out_rate_hz` at `quality`.
  /// Throws std::invalid_argument if a rate is not supported_rate() or the
  /// quality is outside 0..10 (a configuration error, found at set-up).
  resampler(int in_rate_hz, int out_rate_hz, int quality = default_quality);

  resampler(resampler&&) noexcept;
  resampler& operator=(resampler&&) noexcept;
  ~resampler();

  /// Converts `in` and appends the result to `out` (existing content kept).
  /// Every input sample is consumed; the output count is in.size() ×
  /// out_rate / in_rate, exact for whole 10 ms frames of the supported rates.
  void process(std::span<const std::int16_t> in, std::vector<std::int16_t>& out);

  /// Forgets the filter history, as if newly constructed: use between
  /// unrelated streams (e.g. after a barge-in flush), never between frames
  /// of one stream.
  void reset() noexcept;

  /// Delay the filter adds, in output samples (0 for identity).
  int latency_samples() const noexcept;

  /// Delay the filter adds, as time (0 for identity).
  std::chrono::microseconds latency() const noexcept;

  /// Input rate given at construction (Hz).
  int in_rate_hz() const noexcept { return in_rate_hz_; }

  /// Output rate given at construction (Hz).
  int out_rate_hz() const noexcept { return out_rate_hz_; }

 private:
  struct state_deleter {
    void operator()(SpeexResamplerState_* state) const noexcept;
  };

  int in_rate_hz_;   ///< rate of the samples passed to process() (Hz)
  int out_rate_hz_;  ///< rate of the samples process() appends (Hz)
  std::unique_ptr<SpeexResamplerState_, state_deleter> state_;  ///< filter; null for identity
};

}  // namespace npcl::audio
