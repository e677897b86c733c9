#include "npcl/audio/echo_guard.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <stdexcept>
#include <string>

#include "dot_product.hpp"

namespace npcl::audio {
namespace {

constexpr int low_rate_hz = 2000;
constexpr double low_pass_hz = 800.0;
constexpr long window_ms = 64;
// Delays beyond the configured maximum by up to one 20 ms frame: playout may
// report a frame a little before or after the inbound frame it overlaps.
constexpr long lag_margin_ms = 20;
// Sent audio below −50 dBFS cannot come back loud enough to pass the energy gate.
constexpr float audible = 0.003f;
// Refinement around the tracked delay (full-rate samples each side).
constexpr long track_span = 2;

// Energy of the n-sample segment one sample older than `segment`, from the
// segment's own: it gains the sample before it and loses its newest. The
// caller never asks past the oldest kept sample.
double energy_one_lag_older(double energy, const float* segment, std::size_t n) {
  const double in = segment[-1];
  const double out = segment[n - 1];
  return std::max(0.0, energy + in * in - out * out);
}

}  // namespace

void echo_guard::history::init(std::size_t keep_samples) {
  keep = keep_samples;
  data.assign(keep * 2, 0.f);
  begin = 0;
}

void echo_guard::history::push(float x) {
  if (begin + keep == data.size()) {
    std::copy(data.begin() + static_cast<std::ptrdiff_t>(begin + 1), data.end(), data.begin());
    begin = 0;
    data[keep - 1] = x;
    return;
  }
  data[begin + keep] = x;
  ++begin;
}

echo_guard::echo_guard(const audio_format& format, const vad_options& options)
    : rate_hz_(format.sample_rate_hz), factor_(format.sample_rate_hz / low_rate_hz),
      threshold_(options.echo_correlation) {
  if (!format.valid() || format.channels != 1 ||
      (format.sample_rate_hz != 8000 && format.sample_rate_hz != 16000)) {
    throw std::invalid_argument("echo_guard: needs mono 8000 or 16000 Hz, got " +
                                std::to_string(format.sample_rate_hz) + " Hz");
  }
  const long max_ms = options.echo_max_delay.count();
  if (max_ms < 20 || max_ms > 500) {
    throw std::invalid_argument("echo_guard: echo_max_delay " + std::to_string(max_ms) +
                                " ms outside 20..500");
  }
  if (!(options.echo_correlation >= 0.0 && options.echo_correlation <= 1.0)) {
    throw std::invalid_argument("echo_guard: echo_correlation outside 0..1");
  }
  window_ = static_cast<std::size_t>(rate_hz_ / 1000 * window_ms);
  max_lag_ = static_cast<std::size_t>(rate_hz_ / 1000 * (max_ms + lag_margin_ms));

  // RBJ cookbook low-pass, Q = 1/√2; run twice for 24 dB/octave so speech
  // above 1 kHz does not alias into the 2 kHz search signal.
  const double w0 = 2.0 * std::numbers::pi * low_pass_hz / rate_hz_;
  const double alpha = std::sin(w0) / std::numbers::sqrt2;  // sin(w0) / (2Q)
  const double cw = std::cos(w0);
  const double a0 = 1.0 + alpha;
  b0_ = static_cast<float>((1.0 - cw) / 2.0 / a0);
  b1_ = static_cast<float>((1.0 - cw) / a0);
  b2_ = b0_;
  a1_ = static_cast<float>(-2.0 * cw / a0);
  a2_ = static_cast<float>((1.0 - alpha) / a0);
  reset();
}

void echo_guard::reset() {
  far_.init(max_lag_ + window_);
  near_.init(window_);
  far_low_.init((max_lag_ + window_) / static_cast<std::size_t>(factor_));
  near_low_.init(window_ / static_cast<std::size_t>(factor_));
  std::fill(std::begin(far_state_), std::end(far_state_), 0.f);
  std::fill(std::begin(near_state_), std::end(near_state_), 0.f);
  far_phase_ = 0;
  near_phase_ = 0;
  far_quiet_ = far_.keep;  // nothing sent yet
  tracked_lag_ = -1;
  last_correlation_ = 0.0;
  last_delay_ = -1;
}

void echo_guard::push_decimated(float x, float state[4], int& phase, history& out) {
  // Two transposed direct-form II biquads in cascade.
  for (int s = 0; s < 2; ++s) {
    float* z = state + 2 * s;
    const float y = b0_ * x + z[0];
    z[0] = b1_ * x - a1_ * y + z[1];
    z[1] = b2_ * x - a2_ * y;
    x = y;
  }
  if (++phase == factor_) {
    phase = 0;
    out.push(x);
  }
}

void echo_guard::record(std::span<const std::int16_t> samples, history& full, history& low,
                        float state[4], int& phase, std::size_t* quiet) {
  constexpr float scale = 1.0f / 32768.0f;
  for (const std::int16_t s : samples) {
    const float x = static_cast<float>(s) * scale;
    full.push(x);
    push_decimated(x, state, phase, low);
    if (quiet) *quiet = std::abs(x) >= audible ? 0 : *quiet + 1;
  }
}

void echo_guard::far_end(std::span<const std::int16_t> sent) {
  record(sent, far_, far_low_, far_state_, far_phase_, &far_quiet_);
}

void echo_guard::near_end(std::span<const std::int16_t> received) {
  record(received, near_, near_low_, near_state_, near_phase_, nullptr);
}

bool echo_guard::is_echo() {
  last_correlation_ = 0.0;
  last_delay_ = -1;
  if (far_quiet_ >= far_.keep) return false;
  const float* near = near_.end_ptr() - window_;
  const float near_full_energy = dot_product(near, near, window_);
  // Far segment ending `lag` samples before the newest sent sample.
  auto far_at = [&](long lag) { return far_.end_ptr() - lag - static_cast<long>(window_); };
  auto refine = [&](long centre, long span) {
    const long lo = std::max(0L, centre - span);
    const long hi = std::min(static_cast<long>(max_lag_), centre + span);
    if (lo > hi || near_full_energy <= 0.f) return;
    // The far energy slides with the lag, as in the coarse search.
    double far_energy = dot_product(far_at(lo), far_at(lo), window_);
    for (long lag = lo; lag <= hi; ++lag) {
      const float* f = far_at(lag);
      if (far_energy > 0.0) {
        const double c = static_cast<double>(dot_product(near, f, window_)) /
                         std::sqrt(static_cast<double>(near_full_energy) * far_energy);
        if (c > last_correlation_) {
          last_correlation_ = c;
          last_delay_ = lag;
        }
      }
      if (lag < hi) far_energy = energy_one_lag_older(far_energy, f, window_);
    }
  };

  if (tracked_lag_ >= 0) {
    refine(tracked_lag_, track_span);
    if (last_correlation_ >= threshold_) return true;
  }

  // Coarse search over every delay at 2 kHz; the far energy slides with the lag.
  const std::size_t w = window_ / static_cast<std::size_t>(factor_);
  const long max_low = static_cast<long>(max_lag_) / factor_;
  const float* near_low = near_low_.end_ptr() - w;
  const float near_energy = dot_product(near_low, near_low, w);
  if (near_energy <= 0.f) return false;
  const float* far_low_end = far_low_.end_ptr();
  double far_energy = 0.0;
  for (std::size_t i = 0; i < w; ++i) far_energy += far_low_end[-1 - static_cast<long>(i)] * far_low_end[-1 - static_cast<long>(i)];
  // Only positive correlations can be echo; among them the near energy is
  // the same for every lag, so dot² / far energy ranks them without a root.
  double best = 0.0;
  long best_low = -1;
  for (long lag = 0; lag <= max_low; ++lag) {
    const float* f = far_low_end - lag - static_cast<long>(w);
    const double dot = dot_product(near_low, f, w);
    if (dot > 0.0 && far_energy > 1e-12) {
      const double score = dot * dot / far_energy;
      if (score > best) {
        best = score;
        best_low = lag;
      }
    }
    if (lag < max_low) far_energy = energy_one_lag_older(far_energy, f, w);
  }
  if (best_low < 0) return false;
  refine(best_low * factor_, factor_);
  tracked_lag_ = last_correlation_ >= threshold_ ? last_delay_ : -1;
  return last_correlation_ >= threshold_;
}

}  // namespace npcl::audio
