#pragma once
#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>

#include "npcl/audio/audio_format.hpp"
#include "npcl/audio/audio_options.hpp"
#include "npcl/audio/audio_processor.hpp"
#include "npcl/audio/echo_guard.hpp"
#include "npcl/audio/frame.hpp"
#include "npcl/audio/speech_detector.hpp"

namespace npcl::audio {

/// The caller's audio on its way in, per call: webrtc cleaning
/// (audio_processor), the speech decision (speech_detector) and the check
/// that "speech" is not the assistant's own voice coming back (echo_guard),
/// run on each 10 ms chunk of every inbound frame. Frame-in/frame-out,
/// deterministic, no I/O, not thread-safe (the call's strand owns it).
class inbound_pipeline {
 public:
  /// What one inbound frame produced.
  struct result {
    frame cleaned;                 ///< the frame after high-pass, noise suppression (and AGC/AEC)
    bool onset = false;            ///< the caller started speaking within this frame
    bool offset = false;           ///< the caller stopped speaking within this frame
    bool speaking = false;         ///< inside a caller turn after this frame
    /// With `onset`: where the caller's speech began; with `offset`: where it
    /// ended (the hangover that confirmed the end is not part of it). Audio
    /// time since the pipeline started or was reset.
    std::chrono::milliseconds speech_start{0};
    std::chrono::milliseconds speech_end{0};
    bool echo_suppressed = false;  ///< speech-like audio here was taken for echo and ignored
    bool rejected = false;         ///< wrong rate or not whole 10 ms chunks: passed through, not analysed
  };

  /// What the caller has said since construction or reset(), summed from
  /// the reported segments.
  struct speech_tally {
    int turns = 0;                       ///< turns taken
    std::chrono::milliseconds speech{0}; ///< speech in them, hangovers left out; a turn in progress counts to now
  };

  /// Builds the pipeline for `format` (mono, 8000 or 16000 Hz, ptime a
  /// multiple of 10 ms). Throws std::invalid_argument otherwise or for
  /// invalid options (a start-up configuration error).
  inbound_pipeline(const audio_format& format, const vad_options& options);

  /// Processes one inbound frame. A frame at another rate or whose length is
  /// not a whole number of 10 ms chunks comes back unchanged with `rejected`
  /// set, for the caller to log; it does not disturb the state.
  result process(const frame& in);

  /// Records one frame playout has just sent to the caller, as the echo
  /// reference. Frames at another rate are ignored (returns false); a tail
  /// shorter than 10 ms reaches the echo guard but not the echo canceller.
  bool far_end(const frame& sent);

  /// True inside a caller turn.
  bool speaking() const noexcept { return detector_.speaking(); }

  /// Audio analysed since construction or reset(): the time base of
  /// result::speech_start and speech_end.
  std::chrono::milliseconds position() const noexcept {
    return std::chrono::milliseconds{static_cast<std::int64_t>(detector_.chunks()) * 10};
  }

  /// The caller's turns and speech so far (for the call's record).
  speech_tally caller_speech() const noexcept;

  /// Forgets everything heard and sent (new call leg, after a transfer).
  void reset();

  /// Format given at construction.
  const audio_format& format() const noexcept { return format_; }

 private:
  audio_format format_;         ///< rate and ptime of the call's frames
  audio_processor processor_;   ///< webrtc cleaning and features
  speech_detector detector_;    ///< the speech decision
  echo_guard guard_;            ///< the assistant's own voice coming back
  speech_tally closed_;         ///< turns so far, speech of the ended ones
  std::optional<std::chrono::milliseconds> open_from_;  ///< start of the turn in progress
};

}  // namespace npcl::audio
