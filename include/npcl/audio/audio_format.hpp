#pragma once
#include <cstddef>

namespace npcl::audio {

/// Shape of a PCM stream cut into fixed frames: what every DSP object is built
/// from. A plain value; `valid()` says whether the numbers describe a stream
/// that divides into whole samples per frame.
struct audio_format {
  int sample_rate_hz = 8000;  ///< samples per second per channel (Hz)
  int channels = 1;           ///< interleaved channels; the call path is mono
  int ptime_ms = 20;          ///< duration of one frame (milliseconds)

  /// Samples one channel contributes to one frame (rate × ptime).
  /// 160 for 8 kHz / 20 ms, 480 for 24 kHz / 20 ms.
  constexpr std::size_t samples_per_channel() const noexcept {
    return static_cast<std::size_t>(sample_rate_hz) * static_cast<std::size_t>(ptime_ms) / 1000;
  }

  /// Interleaved samples in one frame (all channels); equals
  /// samples_per_channel() for mono.
  constexpr std::size_t samples_per_frame() const noexcept {
    return samples_per_channel() * static_cast<std::size_t>(channels);
  }

  /// True when rate, channels and ptime are positive and one frame holds a
  /// whole number of samples (e.g. 44.1 kHz with 10 ms does, 11.025 kHz with
  /// 10 ms does not).
  constexpr bool valid() const noexcept {
    return sample_rate_hz > 0 && channels > 0 && ptime_ms > 0 &&
           (static_cast<long long>(sample_rate_hz) * ptime_ms) % 1000 == 0;
  }

  friend constexpr bool operator==(const audio_format&, const audio_format&) = default;
};

}  // namespace npcl::audio
