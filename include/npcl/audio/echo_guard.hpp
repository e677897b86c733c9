#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "npcl/audio/audio_format.hpp"
#include "npcl/audio/audio_options.hpp"

namespace npcl::audio {

/// Tells the assistant's own voice, coming back from the caller's side, from
/// the caller's speech: it keeps a ring of what playout sent and looks for
/// the latest 64 ms of inbound audio in it, delayed by 0..echo_max_delay+20
/// ms, by normalised cross-correlation (coarse search at 2 kHz, refined at the
/// full rate, the last echo delay tried first). A copy of sent audio scores
/// near 1; the caller talking over it lowers the score in proportion to how
/// much louder the caller is. Deterministic, no I/O, not thread-safe.
class echo_guard {
 public:
  /// Builds a guard for mono 8000 or 16000 Hz audio. Throws
  /// std::invalid_argument for another format, echo_max_delay outside
  /// 20..500 ms or echo_correlation outside 0..1.
  echo_guard(const audio_format& format, const vad_options& options);

  /// Records audio playout has just sent to the caller (any length, the
  /// guard's rate). Call as each frame goes out.
  void far_end(std::span<const std::int16_t> sent);

  /// Records inbound audio (raw, before any processing) as it arrives; call
  /// for every chunk so the history has no holes.
  void near_end(std::span<const std::int16_t> received);

  /// True when the latest inbound window is explained by sent audio: its
  /// best correlation with the far-end ring reaches echo_correlation. False
  /// when nothing audible was sent within the search range.
  bool is_echo();

  /// Best correlation found by the last is_echo() (0..1; 0 when no search ran).
  double last_correlation() const noexcept { return last_correlation_; }

  /// Delay of that best match (samples at the guard's rate; −1 when none).
  long last_delay_samples() const noexcept { return last_delay_; }

  /// Forgets both histories and the tracked delay.
  void reset();

 private:
  /// Linear history of the last `keep` samples, appended in place and moved
  /// back to the front only when the spare room runs out.
  struct history {
    std::vector<float> data;  ///< samples, oldest first; valid range [begin, end)
    std::size_t begin = 0;    ///< index of the oldest kept sample
    std::size_t keep = 0;     ///< samples kept
    void init(std::size_t keep_samples);
    void push(float x);
    const float* end_ptr() const noexcept { return data.data() + begin + keep; }
  };

  /// Low-pass and decimate one sample into a 2 kHz history.
  void push_decimated(float x, float state[4], int& phase, history& out);
  /// Appends samples to a stream's full-rate and 2 kHz histories; counts
  /// inaudible samples into `quiet` when given.
  void record(std::span<const std::int16_t> samples, history& full, history& low, float state[4],
              int& phase, std::size_t* quiet);

  int rate_hz_;                  ///< rate of both streams (Hz)
  int factor_;                   ///< full rate / 2 kHz (4 or 8)
  double threshold_;             ///< correlation that means echo (0..1)
  std::size_t window_;           ///< correlation window at the full rate (64 ms of samples)
  std::size_t max_lag_;          ///< longest delay searched (samples at the full rate)
  float b0_, b1_, b2_, a1_, a2_; ///< 2nd-order Butterworth low-pass at 800 Hz, run twice
  history far_;                  ///< sent audio at the full rate (full scale = 1)
  history near_;                 ///< inbound audio at the full rate (full scale = 1)
  history far_low_;              ///< sent audio low-passed and decimated to 2 kHz
  history near_low_;             ///< inbound audio low-passed and decimated to 2 kHz
  float far_state_[4]{};         ///< filter memory of the far low-pass (two biquads)
  float near_state_[4]{};        ///< filter memory of the near low-pass
  int far_phase_ = 0;            ///< decimation phase of the far stream (0..factor_-1)
  int near_phase_ = 0;           ///< decimation phase of the near stream
  std::size_t far_quiet_ = 0;    ///< far samples since the last audible one (samples)
  long tracked_lag_ = -1;        ///< delay of the last confirmed echo (samples), −1 when none
  double last_correlation_ = 0;  ///< see last_correlation()
  long last_delay_ = -1;         ///< see last_delay_samples()
};

}  // namespace npcl::audio
