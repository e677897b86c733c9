#pragma once
#include <chrono>

namespace npcl::audio {

/// Local voice detection (VAD_*): the inbound pipeline that cleans the
/// caller's audio and decides when the caller starts and stops speaking.
/// Defaults were tuned on espeak-ng speech, noise, tones and DTMF at 8 and
/// 16 kHz (tests/audio/*_test.cpp print the measured numbers).
struct vad_options {
  /// BARGE_IN_MODE: who may interrupt the assistant — the server's VAD, the
  /// local pipeline, or whichever notices first.
  enum class barge_in { server, local, both } barge_in_mode = barge_in::both;
  bool send_cleaned = false;  ///< VAD_SEND_CLEANED: the model gets the cleaned audio instead of the raw
  double energy_threshold = 0.01;  ///< VAD_ENERGY_THRESHOLD: RMS as a fraction of full scale (0..1)

  /// VAD_MIN_SPEECH: speech-like audio needed before an onset is reported;
  /// shorter bursts (clicks, coughs) never start a turn (milliseconds).
  std::chrono::milliseconds min_speech{50};
  /// VAD_HANGOVER: non-speech needed after speech before an offset is
  /// reported, so pauses between words do not end a turn (milliseconds).
  std::chrono::milliseconds hangover{300};

  /// VAD_NOISE_SUPPRESSION: webrtc noise suppression level, 0 (off) .. 4
  /// (0 off, 1 low, 2 moderate, 3 high, 4 very high).
  int noise_suppression = 2;
  /// VAD_AGC: adaptive digital gain on the caller's audio (true/false).
  bool agc = false;
  /// VAD_ECHO_CANCEL: webrtc echo canceller fed with the audio playout sends
  /// (true/false); the echo guard works with or without it.
  bool echo_cancel = false;
  /// VAD_ECHO_DELAY: round-trip delay from playout to the caller's audio
  /// that the echo canceller assumes (milliseconds).
  std::chrono::milliseconds echo_delay{60};

  /// VAD_MIN_PERIODICITY: normalised autocorrelation at the pitch lag
  /// (60..400 Hz) a frame needs to count as voiced speech (0..1); noise
  /// stays below it.
  double min_periodicity = 0.5;
  /// VAD_MAX_TONALITY: largest share of the frame's energy that its two
  /// strongest spectral peaks may hold (0..1); tones and DTMF exceed it.
  double max_tonality = 0.985;
  /// VAD_MAX_FLATNESS: largest spectral flatness (geometric / arithmetic
  /// mean of the power spectrum, 0..1) of speech; noise lies above it.
  double max_flatness = 0.3;

  /// VAD_ECHO_CORRELATION: normalised cross-correlation with recently sent
  /// audio above which inbound audio is taken for the assistant's own echo
  /// (0..1).
  double echo_correlation = 0.6;
  /// VAD_ECHO_MAX_DELAY: longest playout-to-inbound delay searched for echo
  /// (milliseconds, 20..500).
  std::chrono::milliseconds echo_max_delay{200};
};

}  // namespace npcl::audio
