#pragma once
#include <chrono>
#include <cstdint>
#include <vector>

#include "npcl/audio/audio_format.hpp"

namespace npcl::audio {

/// One ptime of mono PCM16 audio, the unit that moves between media
/// endpoints, DSP and the Realtime link. Samples are host-order signed 16-bit.
struct frame {
  std::vector<std::int16_t> samples;  ///< mono PCM16 samples, oldest first
  int sample_rate_hz = 8000;          ///< rate the samples were taken at (Hz)

  /// A frame of digital silence shaped by `format` (mono: channels are not
  /// carried by a frame).
  static frame silence(const audio_format& format) {
    return frame{std::vector<std::int16_t>(format.samples_per_channel(), 0), format.sample_rate_hz};
  }

  /// Playing time of the samples, truncated to whole microseconds; zero for an
  /// empty frame or a non-positive rate.
  std::chrono::microseconds duration() const noexcept {
    if (sample_rate_hz <= 0) return std::chrono::microseconds{0};
    return std::chrono::microseconds{static_cast<long long>(samples.size()) * 1'000'000 /
                                     sample_rate_hz};
  }

  friend bool operator==(const frame&, const frame&) = default;
};

}  // namespace npcl::audio
