#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>

#include "npcl/audio/audio_format.hpp"
#include "npcl/audio/audio_options.hpp"

namespace npcl::audio {

/// What the processor learnt about one 10 ms chunk of the caller's audio.
struct chunk_features {
  float speech_probability = 0.f;  ///< noise suppression's speech probability (0..1), 0 when NS is off
  double energy = 0.0;             ///< RMS of the cleaned chunk as a fraction of full scale (0..1)
};

/// Cleans the caller's audio with webrtc AudioProcessing (high-pass filter,
/// noise suppression, optional digital AGC, optional echo canceller fed with
/// what playout sends) in 10 ms chunks at 8 or 16 kHz, and
/// reports per-chunk features for the speech decision. One instance per call
/// and direction; deterministic, no I/O, not thread-safe (a call's strand
/// owns it).
class audio_processor {
 public:
  /// True for the rates the processor runs at: 8000 and 16000 Hz.
  static bool supported_rate(int rate_hz) noexcept;

  /// Builds a processor for mono audio at `format.sample_rate_hz`. Throws
  /// std::invalid_argument if the format is invalid, not mono, at a rate
  /// supported_rate() refuses, or webrtc refuses the settings (a start-up
  /// configuration error).
  audio_processor(const audio_format& format, const vad_options& options);
  ~audio_processor();
  audio_processor(audio_processor&&) noexcept;
  audio_processor& operator=(audio_processor&&) noexcept;

  /// Samples in one 10 ms chunk at this processor's rate (80 or 160).
  std::size_t chunk_samples() const noexcept { return chunk_samples_; }

  /// Rate the processor was built for (Hz).
  int sample_rate_hz() const noexcept { return sample_rate_hz_; }

  /// Cleans one 10 ms chunk in place and returns its features. Returns
  /// nullopt, leaving `chunk` untouched, if it is not exactly
  /// chunk_samples() long or webrtc rejects it.
  std::optional<chunk_features> process(std::span<std::int16_t> chunk);

  /// Gives the echo canceller one 10 ms chunk of the audio playout sent to
  /// the caller. Ignored when echo cancelling is off; returns false if the
  /// chunk is not chunk_samples() long or webrtc rejects it.
  bool far_end(std::span<const std::int16_t> chunk);

  /// Forgets all adaptation (noise estimate, gain, echo path), keeping the
  /// settings: use between unrelated streams.
  void reset();

 private:
  struct impl;
  int sample_rate_hz_;           ///< rate of every chunk (Hz)
  std::size_t chunk_samples_;    ///< samples per 10 ms chunk
  std::unique_ptr<impl> impl_;   ///< webrtc state; private so webrtc headers stay in src/
};

}  // namespace npcl::audio
