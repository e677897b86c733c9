#pragma once
#include <complex>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "npcl/audio/audio_format.hpp"
#include "npcl/audio/audio_options.hpp"
#include "npcl/audio/audio_processor.hpp"

namespace npcl::audio {

/// Measures of one 10 ms chunk, taken over the last 32 ms of audio.
struct chunk_analysis {
  double energy = 0.0;       ///< RMS of the chunk as a fraction of full scale (0..1)
  double flatness = 1.0;     ///< spectral flatness over 200..3600 Hz (0 = one line, 1 = white)
  double tonality = 0.0;     ///< share of 200..3600 Hz power in the two strongest peaks (0..1)
  double periodicity = 0.0;  ///< best normalised autocorrelation at a pitch lag of 70..400 Hz (−1..1)
  bool speech_like = false;  ///< every test passed: loud enough, voiced, not a tone, not noise
};

/// Outcome of one 10 ms chunk for the turn.
struct speech_decision {
  std::uint64_t chunk_index = 0;  ///< 0-based index of the chunk since construction or reset()
  bool onset = false;             ///< the caller has started speaking (min_speech of speech reached here)
  bool offset = false;            ///< the caller has stopped (hangover of non-speech reached here)
  bool speaking = false;          ///< inside a turn after this chunk
  /// With `onset`: the first chunk of the speech that opened the turn, which
  /// the decision reaches only min_speech later. With `offset`: the last
  /// chunk of the turn's speech; the hangover after it was not speech.
  std::uint64_t segment_edge = 0;
};

/// Decides, chunk by chunk, whether the caller is speaking. A chunk counts as
/// speech only when it is above the energy gate, periodic at a pitch lag
/// (noise is not), not dominated by one or two spectral lines (tones and DTMF
/// are) and not spectrally flat; an onset needs min_speech of such chunks in a
/// row (one stray chunk tolerated), an offset a hangover without them. Up to
/// 20 ms of an unvoiced lead (a sudden rise up to 100 ms before the first
/// voiced chunk, as in "hello" or "please") counts toward min_speech, so words starting
/// with a consonant are not heard later than words starting with a vowel.
/// Background talkers, quieter than the caller at the phone, neither hold a
/// turn (voiced chunks far below the turn's recent peak do not count for
/// the hangover) nor open one (an onset must stand above the level of the
/// voiced fragments heard outside turns).
/// Each turn is also reported as a segment of speech: where it began (at
/// the onset) and where it ended (at the offset), which the live `speaking`
/// state can only follow min_speech late and a hangover long.
/// Deterministic, no I/O, not thread-safe.
class speech_detector {
 public:
  /// Builds a detector for mono 8000 or 16000 Hz audio in 10 ms chunks.
  /// Throws std::invalid_argument for another format or out-of-range options
  /// (min_speech or hangover not positive).
  speech_detector(const audio_format& format, const vad_options& options);

  /// Samples in one 10 ms chunk (80 or 160).
  std::size_t chunk_samples() const noexcept { return chunk_samples_; }

  /// Adds one cleaned 10 ms chunk to the analysis window and measures it;
  /// `features` come from audio_processor for the same chunk (its energy is
  /// taken from there, not measured again). A chunk of the
  /// wrong length yields a default (not speech) analysis and is not kept.
  chunk_analysis analyse(std::span<const std::int16_t> chunk, const chunk_features& features);

  /// Advances the turn by one chunk judged `speech_like` (normally
  /// analyse()'s verdict, cleared by the caller for echo) and reports
  /// onset/offset with the chunk's index.
  speech_decision update(bool speech_like);

  /// The chunk just analysed was the assistant's own voice coming back: the
  /// rise it belongs to is no consonant of the caller's and earns the next
  /// voiced run no head start (call before update()).
  void echo_heard();

  /// True inside a turn (between an onset and its offset).
  bool speaking() const noexcept { return speaking_; }

  /// Chunks passed to update() since construction or reset().
  std::uint64_t chunks() const noexcept { return chunk_index_; }

  /// Forgets the audio history and any turn in progress; chunk indices
  /// restart at 0.
  void reset();

 private:
  void fft(std::vector<std::complex<float>>& data) const;
  double autocorrelation_peak() const;
  void clear_run_levels();
  void add_run_level(double level_db);
  void fold_run_into_background();

  vad_options options_;               ///< thresholds and durations given at construction
  int sample_rate_hz_;                ///< rate of the chunks (Hz)
  std::size_t chunk_samples_;         ///< samples per 10 ms chunk
  std::size_t fft_size_;              ///< analysis window: 32 ms (256 or 512 samples)
  int decimation_;                    ///< pitch search runs at 8 kHz: 1 at 8 kHz, 2 at 16 kHz
  std::size_t band_lo_;               ///< first FFT bin of the 200..3600 Hz band
  std::size_t band_hi_;               ///< one past the last bin of the band
  std::size_t min_speech_chunks_;     ///< speech chunks in a row needed for an onset
  std::size_t hangover_chunks_;       ///< non-speech chunks needed for an offset

  std::vector<float> history_;        ///< last fft_size_ samples, oldest first (full scale = 1)
  std::vector<float> pitch_history_;  ///< last 36 ms at 8 kHz for the pitch search (full scale = 1)
  std::vector<float> window_;         ///< Hann window, fft_size_ coefficients
  std::vector<std::complex<float>> twiddle_;  ///< e^(−2πik/N), k < N/2
  std::vector<std::uint32_t> bit_reverse_;    ///< FFT input permutation, N/2 entries
  mutable std::vector<std::complex<float>> spectrum_;  ///< FFT work buffer, N/2 entries (the packed real window)
  mutable std::vector<float> power_;  ///< band power spectrum work buffer

  std::uint64_t chunk_index_ = 0;     ///< chunks passed to update() since reset
  std::size_t speech_run_ = 0;        ///< speech chunks counted toward an onset
  std::size_t gap_run_ = 0;           ///< non-speech chunks since the last speech chunk
  bool speaking_ = false;             ///< inside a turn
  double floor_ = 0.0;                ///< tracked quiet level of the line (chunk RMS, full scale = 1)
  static constexpr std::size_t no_burst = 1000;  ///< burst_age_ when no rise is recent enough to matter
  std::size_t burst_age_ = no_burst;  ///< chunks since the latest sudden rise above the gate (capped)
  bool loud_ = false;                 ///< the previous analysed chunk was above the energy gate
  std::size_t lead_credit_ = 0;       ///< unvoiced-lead chunks credited to the current speech run
  double level_db_ = 0.0;             ///< level of the chunk last analysed (dB of full scale)
  double turn_peak_db_ = 0.0;         ///< recent peak level of the turn in progress, sinking over time (dB)
  double background_floor_db_ = 0.0;  ///< lowest background level: onset margin under the energy gate (dB)
  double background_db_ = 0.0;        ///< level of voiced audio that was not the caller's turn (dB)
  double run_peak_db_ = 0.0;          ///< loudest chunk of the current voiced run (dB)
  double run_sum_db_ = 0.0;           ///< the run's levels, weighted as the background average takes them
  double run_keep_ = 1.0;             ///< weight the background keeps once the run is averaged in (1: empty run)
  std::uint64_t run_start_ = 0;       ///< first chunk of the current voiced run, its credited lead included
  std::uint64_t speech_end_ = 0;      ///< last chunk that counted as speech in the turn in progress
  std::uint64_t segment_floor_ = 0;   ///< first chunk after the last reported segment
};

}  // namespace npcl::audio
