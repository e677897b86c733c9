#include "npcl/audio/speech_detector.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <stdexcept>
#include <string>

#include "dot_product.hpp"

namespace npcl::audio {
namespace {

constexpr double band_lo_hz = 200.0;
constexpr double band_hi_hz = 3600.0;
// Pitch search at 8 kHz: 20 ms compared with itself 2.5..14.25 ms earlier
// (400..70 Hz), the range of adult and children's voices.
constexpr std::size_t pitch_window = 160;
constexpr std::size_t pitch_min_lag = 20;
constexpr std::size_t pitch_max_lag = 114;
constexpr std::size_t pitch_history = pitch_window + pitch_max_lag;
// A peak is its bin ±2: the main lobe of a Hann-windowed line.
constexpr std::size_t peak_half_width = 2;
// One stray non-speech chunk (a stop consonant, a μ-law glitch) inside a
// run does not restart the onset count.
constexpr std::size_t tolerated_gap = 1;
// Unvoiced lead ("h" of "hello", the burst of "please"): a sudden rise
// above the gate, 12 dB over the tracked floor, up to 100 ms before the first
// voiced chunk counts toward min_speech with at most two chunks, so an onset
// still needs three voiced chunks in a row. In the corpus a "p" is one loud
// chunk, then 30 ms under the gate before voicing; an "h" runs into the vowel.
// A rise further back (a click, a door, noise that started) earns nothing.
constexpr double rise_ratio = 4.0;
constexpr std::size_t max_lead_credit = 2;
constexpr std::size_t max_lead_chunks = 10;
constexpr double floor_creep = 1.005;
constexpr double floor_min = 1e-4;
// Other talkers in the room (babble) are voiced and periodic like the
// caller, but quieter than the caller is at the phone. Two level cues, in dB
// of the cleaned chunk's RMS, tuned on the corpus's babble (docs/PERFORMANCE.md):
// - inside a turn, a voiced chunk more than turn_keep_range_db below the
//   turn's recent peak does not hold the turn, so the hangover runs out in a
//   pause filled with background talk. The peak falls by turn_peak_decay_db
//   a chunk (2 dB/s), so a caller who gets softer is followed, not cut off.
// - voiced fragments that never became a turn (and chunks the first cue
//   refused) are background talk: their level is averaged (background_weight
//   a chunk) and sinks by background_decay_db a chunk (2 dB/s) once no more
//   come. An onset needs its loudest chunk onset_margin_db above that level,
//   so background talkers do not open turns of their own. The level starts
//   at, and never sinks below, onset_margin_db under the energy gate, where
//   the test passes every chunk: one short fragment of the caller's own
//   voice moves it only part of the way.
constexpr double turn_keep_range_db = 14.0;
constexpr double turn_peak_decay_db = 0.02;
constexpr double background_weight = 0.1;
constexpr double background_decay_db = 0.02;
constexpr double onset_margin_db = 9.0;
// A segment's edges: speech starts softly under the gate before its first
// voiced chunk (a breath, a soft consonant: 1.5-2.5 chunks on average in
// the corpus) and words end in unvoiced or fading sounds after their last
// voiced chunk. Measured on the corpus's labels (docs/PERFORMANCE.md).
constexpr std::uint64_t segment_pre_roll = 2;
constexpr std::uint64_t segment_tail = 12;

std::size_t chunks_of(std::chrono::milliseconds d) {
  return static_cast<std::size_t>((d.count() + 9) / 10);
}

}  // namespace

speech_detector::speech_detector(const audio_format& format, const vad_options& options)
    : options_(options),
      sample_rate_hz_(format.sample_rate_hz),
      chunk_samples_(static_cast<std::size_t>(format.sample_rate_hz / 100)),
      fft_size_(format.sample_rate_hz == 16000 ? 512 : 256),
      decimation_(format.sample_rate_hz / 8000) {
  if (!format.valid() || format.channels != 1 ||
      (format.sample_rate_hz != 8000 && format.sample_rate_hz != 16000)) {
    throw std::invalid_argument("speech_detector: needs mono 8000 or 16000 Hz, got " +
                                std::to_string(format.sample_rate_hz) + " Hz");
  }
  if (options.min_speech.count() <= 0 || options.hangover.count() <= 0) {
    throw std::invalid_argument("speech_detector: min_speech and hangover must be positive");
  }
  min_speech_chunks_ = chunks_of(options.min_speech);
  background_floor_db_ = 20.0 * std::log10(std::max(options.energy_threshold, 1e-9)) - onset_margin_db;
  hangover_chunks_ = chunks_of(options.hangover);
  const double bin_hz = static_cast<double>(sample_rate_hz_) / static_cast<double>(fft_size_);
  band_lo_ = static_cast<std::size_t>(std::ceil(band_lo_hz / bin_hz));
  band_hi_ = static_cast<std::size_t>(std::floor(band_hi_hz / bin_hz)) + 1;

  window_.resize(fft_size_);
  for (std::size_t n = 0; n < fft_size_; ++n) {
    window_[n] = static_cast<float>(
        0.5 - 0.5 * std::cos(2.0 * std::numbers::pi * static_cast<double>(n) / static_cast<double>(fft_size_)));
  }
  twiddle_.resize(fft_size_ / 2);
  for (std::size_t k = 0; k < fft_size_ / 2; ++k) {
    const double a = -2.0 * std::numbers::pi * static_cast<double>(k) / static_cast<double>(fft_size_);
    twiddle_[k] = {static_cast<float>(std::cos(a)), static_cast<float>(std::sin(a))};
  }
  // The real window goes through a complex FFT of half its size (even
  // samples as real parts, odd ones as imaginary), then is split apart.
  const std::size_t half_size = fft_size_ / 2;
  std::size_t bits = 0;
  while ((std::size_t{1} << bits) < half_size) ++bits;
  bit_reverse_.resize(half_size);
  for (std::size_t i = 0; i < half_size; ++i) {
    std::size_t r = 0;
    for (std::size_t b = 0; b < bits; ++b) r |= ((i >> b) & 1U) << (bits - 1 - b);
    bit_reverse_[i] = static_cast<std::uint32_t>(r);
  }
  spectrum_.resize(half_size);
  power_.resize(band_hi_ - band_lo_);
  reset();
}

void speech_detector::reset() {
  history_.assign(fft_size_, 0.f);
  pitch_history_.assign(pitch_history, 0.f);
  chunk_index_ = 0;
  speech_run_ = 0;
  gap_run_ = 0;
  speaking_ = false;
  floor_ = floor_min;
  burst_age_ = no_burst;
  loud_ = false;
  lead_credit_ = 0;
  level_db_ = 0.0;
  turn_peak_db_ = 0.0;
  background_db_ = background_floor_db_;
  run_start_ = 0;
  speech_end_ = 0;
  segment_floor_ = 0;
  clear_run_levels();
}

void speech_detector::clear_run_levels() {
  run_peak_db_ = -std::numeric_limits<double>::infinity();
  run_sum_db_ = 0.0;
  run_keep_ = 1.0;
}

void speech_detector::add_run_level(double level_db) {
  run_peak_db_ = std::max(run_peak_db_, level_db);
  run_sum_db_ = run_sum_db_ * (1.0 - background_weight) + background_weight * level_db;
  run_keep_ *= 1.0 - background_weight;
}

// The background level after averaging in the run's levels one by one, as
// background_weight per chunk gives, summed up.
void speech_detector::fold_run_into_background() {
  background_db_ = run_keep_ * background_db_ + run_sum_db_;
  clear_run_levels();
}

// Iterative radix-2 decimation-in-time FFT of fft_size_ / 2 points, in place.
void speech_detector::fft(std::vector<std::complex<float>>& data) const {
  const std::size_t n = data.size();
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t j = bit_reverse_[i];
    if (i < j) std::swap(data[i], data[j]);
  }
  for (std::size_t len = 2; len <= n; len <<= 1) {
    const std::size_t half = len / 2;
    const std::size_t step = fft_size_ / len;  // twiddle_ is laid out for fft_size_ points
    for (std::size_t start = 0; start < n; start += len) {
      for (std::size_t k = 0; k < half; ++k) {
        // Spelled out: std::complex's operator* guards against inf/NaN with
        // a library call per product, which this data never needs.
        const std::complex<float> w = twiddle_[k * step];
        const std::complex<float> b = data[start + k + half];
        const std::complex<float> t{w.real() * b.real() - w.imag() * b.imag(),
                                    w.real() * b.imag() + w.imag() * b.real()};
        data[start + k + half] = data[start + k] - t;
        data[start + k] += t;
      }
    }
  }
}

double speech_detector::autocorrelation_peak() const {
  const float* x = pitch_history_.data() + pitch_max_lag;  // the newest 20 ms
  double energy_x = 0.0;
  for (std::size_t n = 0; n < pitch_window; ++n) energy_x += static_cast<double>(x[n]) * x[n];
  if (energy_x <= 0.0) return 0.0;
  // Energy of the lagged segment, slid one sample per lag.
  const float* y0 = x - pitch_min_lag;
  double energy_y = 0.0;
  for (std::size_t n = 0; n < pitch_window; ++n) energy_y += static_cast<double>(y0[n]) * y0[n];
  double best = 0.0;
  for (std::size_t lag = pitch_min_lag; lag <= pitch_max_lag; ++lag) {
    const float* y = x - lag;
    const float dot = dot_product(x, y, pitch_window);
    if (energy_y > 0.0) best = std::max(best, static_cast<double>(dot) / std::sqrt(energy_x * energy_y));
    if (lag < pitch_max_lag) {
      // Next lag: the segment gains the sample before it and loses its last.
      const double in = y[-1];
      const double out = y[pitch_window - 1];
      energy_y = std::max(0.0, energy_y + in * in - out * out);
    }
  }
  return best;
}

chunk_analysis speech_detector::analyse(std::span<const std::int16_t> chunk,
                                        const chunk_features& features) {
  chunk_analysis a;
  if (chunk.size() != chunk_samples_) return a;
  constexpr float scale = 1.0f / 32768.0f;

  std::shift_left(history_.begin(), history_.end(), static_cast<std::ptrdiff_t>(chunk.size()));
  std::transform(chunk.begin(), chunk.end(), history_.end() - static_cast<std::ptrdiff_t>(chunk.size()),
                 [](std::int16_t s) { return static_cast<float>(s) * scale; });
  const std::size_t pitch_new = chunk.size() / static_cast<std::size_t>(decimation_);
  std::shift_left(pitch_history_.begin(), pitch_history_.end(), static_cast<std::ptrdiff_t>(pitch_new));
  float* pitch_out = pitch_history_.data() + pitch_history_.size() - pitch_new;
  for (std::size_t i = 0; i < pitch_new; ++i) {
    // At 16 kHz a pair average is the anti-alias filter: pitch lives far below 4 kHz.
    float sum = 0.f;
    for (int d = 0; d < decimation_; ++d) sum += static_cast<float>(chunk[i * decimation_ + d]);
    pitch_out[i] = sum * scale / static_cast<float>(decimation_);
  }

  a.energy = features.energy;  // the processor measured this very chunk
  level_db_ = 20.0 * std::log10(std::max(a.energy, 1e-9));
  const bool loud = a.energy >= options_.energy_threshold;
  // A rise within the lead window already started this sound (the vowel
  // after a "p" rises again from the closure): keep the earlier one.
  if (loud && !loud_ && a.energy >= rise_ratio * floor_ && burst_age_ > max_lead_chunks) {
    burst_age_ = 0;
  } else if (burst_age_ < no_burst) {
    ++burst_age_;
  }
  loud_ = loud;
  floor_ = std::max(floor_min, std::min(a.energy, floor_ * floor_creep));
  // Quiet chunks are never speech: skip the spectral work they do not need.
  if (a.energy < options_.energy_threshold) return a;

  const std::size_t half_size = spectrum_.size();
  for (std::size_t n = 0; n < half_size; ++n) {
    spectrum_[n] = {history_[2 * n] * window_[2 * n], history_[2 * n + 1] * window_[2 * n + 1]};
  }
  fft(spectrum_);
  double total = 0.0;
  double log_sum = 0.0;
  constexpr double floor = 1e-12;  // keeps log() finite on digital silence in a bin
  // The log of a product of eight bins instead of eight logs: bin powers lie
  // within 1e-12..3e5, so eight of them multiply without under- or overflow.
  double product = 1.0;
  std::size_t in_product = 0;
  for (std::size_t k = band_lo_; k < band_hi_; ++k) {
    // Bin k of the real window from bins k and N/2 − k of the packed one:
    // X = E + e^(−2πik/N)·O, E = (Z[k] + Z*[N/2−k]) / 2, O = (Z[k] − Z*[N/2−k]) / 2i.
    const std::complex<float> z = spectrum_[k % half_size];
    const std::complex<float> zc = std::conj(spectrum_[(half_size - k) % half_size]);
    const float er = 0.5f * (z.real() + zc.real()), ei = 0.5f * (z.imag() + zc.imag());
    const float or_ = 0.5f * (z.imag() - zc.imag()), oi = -0.5f * (z.real() - zc.real());
    const std::complex<float> w = twiddle_[k];
    const float xr = er + w.real() * or_ - w.imag() * oi;
    const float xi = ei + w.real() * oi + w.imag() * or_;
    const float p = xr * xr + xi * xi;
    power_[k - band_lo_] = p;
    total += p;
    product *= static_cast<double>(p) + floor;
    if (++in_product == 8) {
      log_sum += std::log(product);
      product = 1.0;
      in_product = 0;
    }
  }
  log_sum += std::log(product);
  const auto bins = static_cast<double>(power_.size());
  if (total > 0.0) {
    a.flatness = std::exp(log_sum / bins) / (total / bins + floor);
    // Two strongest peaks, each its bin ±2; the second must lie outside the first.
    double peaks = 0.0;
    std::size_t first = power_.size();
    for (int round = 0; round < 2; ++round) {
      std::size_t best = power_.size();
      for (std::size_t k = 0; k < power_.size(); ++k) {
        if (first < power_.size() && k + peak_half_width >= first && k <= first + peak_half_width) continue;
        if (best == power_.size() || power_[k] > power_[best]) best = k;
      }
      if (best == power_.size()) break;
      const std::size_t lo = best >= peak_half_width ? best - peak_half_width : 0;
      const std::size_t hi = std::min(power_.size(), best + peak_half_width + 1);
      for (std::size_t k = lo; k < hi; ++k) {
        if (round == 1 && k + peak_half_width >= first && k <= first + peak_half_width) continue;
        peaks += power_[k];
      }
      first = best;
    }
    a.tonality = peaks / total;
  }
  a.periodicity = autocorrelation_peak();
  a.speech_like = a.periodicity >= options_.min_periodicity && a.tonality <= options_.max_tonality &&
                  a.flatness <= options_.max_flatness;
  return a;
}

void speech_detector::echo_heard() {
  burst_age_ = no_burst;
  lead_credit_ = 0;
}

speech_decision speech_detector::update(bool speech_like) {
  speech_decision d;
  d.chunk_index = chunk_index_++;
  background_db_ = std::max(background_floor_db_, background_db_ - background_decay_db);
  bool counts = speech_like;
  if (speaking_ && speech_like && level_db_ < turn_peak_db_ - turn_keep_range_db) {
    counts = false;
    clear_run_levels();
    add_run_level(level_db_);
    fold_run_into_background();
  }
  if (counts) {
    if (speech_run_ == 0) {
      // Chunks between the latest rise and this first voiced one.
      lead_credit_ = burst_age_ <= max_lead_chunks ? std::min(burst_age_, max_lead_credit) : 0;
      clear_run_levels();
      run_start_ = d.chunk_index - std::min<std::uint64_t>(lead_credit_, d.chunk_index);
    }
    ++speech_run_;
    gap_run_ = 0;
    add_run_level(level_db_);
  } else {
    ++gap_run_;
    if (gap_run_ > tolerated_gap) {
      // A voiced run that ended without opening a turn was not the caller.
      if (!speaking_ && speech_run_ > 0) fold_run_into_background();
      speech_run_ = 0;
      clear_run_levels();
    }
  }
  const bool above_background = run_peak_db_ >= background_db_ + onset_margin_db;
  if (!speaking_ && counts && speech_run_ + lead_credit_ >= min_speech_chunks_ && above_background) {
    speaking_ = true;
    d.onset = true;
    // Never back into the previous segment (possible with a hangover
    // shorter than the edges).
    d.segment_edge = std::max(run_start_ - std::min(segment_pre_roll, run_start_), segment_floor_);
    speech_end_ = d.chunk_index;
    turn_peak_db_ = run_peak_db_;
    clear_run_levels();
  } else if (speaking_ && gap_run_ >= hangover_chunks_) {
    speaking_ = false;
    d.offset = true;
    d.segment_edge = std::min(speech_end_ + segment_tail, d.chunk_index);
    segment_floor_ = d.segment_edge + 1;
    speech_run_ = 0;
    clear_run_levels();
  } else if (speaking_ && counts) {
    turn_peak_db_ = std::max(turn_peak_db_, level_db_);
    speech_end_ = d.chunk_index;
  }
  if (speaking_) turn_peak_db_ -= turn_peak_decay_db;
  d.speaking = speaking_;
  return d;
}

}  // namespace npcl::audio
