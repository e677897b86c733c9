#include "npcl/audio/resampler.hpp"

#include <speex/speex_resampler.h>

#include <stdexcept>
#include <string>

namespace npcl::audio {

bool resampler::supported_rate(int rate_hz) noexcept {
  return rate_hz == 8000 || rate_hz == 16000 || rate_hz == 24000 || rate_hz == 48000;
}

void resampler::state_deleter::operator()(SpeexResamplerState_* state) const noexcept {
  speex_resampler_destroy(state);
}

resampler::resampler(int in_rate_hz, int out_rate_hz, int quality)
    : in_rate_hz_(in_rate_hz), out_rate_hz_(out_rate_hz) {
  if (!supported_rate(in_rate_hz) || !supported_rate(out_rate_hz)) {
    throw std::invalid_argument("resampler: unsupported rate " + std::to_string(in_rate_hz) +
                                " -> " + std::to_string(out_rate_hz) +
                                " Hz (8000, 16000, 24000, 48000)");
  }
  if (quality < SPEEX_RESAMPLER_QUALITY_MIN || quality > SPEEX_RESAMPLER_QUALITY_MAX) {
    throw std::invalid_argument("resampler: quality " + std::to_string(quality) +
                                " outside 0..10");
  }
  if (in_rate_hz == out_rate_hz) return;
  int err = RESAMPLER_ERR_SUCCESS;
  state_.reset(speex_resampler_init(1, static_cast<spx_uint32_t>(in_rate_hz),
                                    static_cast<spx_uint32_t>(out_rate_hz), quality, &err));
  if (!state_ || err != RESAMPLER_ERR_SUCCESS) {
    throw std::invalid_argument(std::string("resampler: ") + speex_resampler_strerror(err));
  }
}

resampler::resampler(resampler&&) noexcept = default;
resampler& resampler::operator=(resampler&&) noexcept = default;
resampler::~resampler() = default;

void resampler::process(std::span<const std::int16_t> in, std::vector<std::int16_t>& out) {
  if (!state_) {
    out.insert(out.end(), in.begin(), in.end());
    return;
  }
  // speexdsp stops when either buffer is exhausted; with room for the exact
  // ratio plus one it takes all input in one pass, the loop covers rounding.
  while (!in.empty()) {
    const std::size_t room =
        in.size() * static_cast<std::size_t>(out_rate_hz_) / static_cast<std::size_t>(in_rate_hz_) + 1;
    const std::size_t start = out.size();
    out.resize(start + room);
    auto in_len = static_cast<spx_uint32_t>(in.size());
    auto out_len = static_cast<spx_uint32_t>(room);
    speex_resampler_process_int(state_.get(), 0, in.data(), &in_len, out.data() + start, &out_len);
    out.resize(start + out_len);
    if (in_len == 0 && out_len == 0) break;  // cannot progress; never seen with valid rates
    in = in.subspan(in_len);
  }
}

void resampler::reset() noexcept {
  if (state_) speex_resampler_reset_mem(state_.get());
}

int resampler::latency_samples() const noexcept {
  return state_ ? speex_resampler_get_output_latency(state_.get()) : 0;
}

std::chrono::microseconds resampler::latency() const noexcept {
  return std::chrono::microseconds{static_cast<long long>(latency_samples()) * 1'000'000 /
                                   out_rate_hz_};
}

}  // namespace npcl::audio
