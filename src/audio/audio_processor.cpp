#include "npcl/audio/audio_processor.hpp"

#include <webrtc/modules/audio_processing/include/audio_processing.h>
#include <webrtc/modules/interface/module_common_types.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace npcl::audio {
namespace {

void check(int err, const char* what) {
  if (err != webrtc::AudioProcessing::kNoError) {
    throw std::invalid_argument(std::string("audio_processor: ") + what + " failed (" +
                                std::to_string(err) + ")");
  }
}

webrtc::NoiseSuppression::Level ns_level(int level) {
  switch (level) {
    case 1: return webrtc::NoiseSuppression::kLow;
    case 2: return webrtc::NoiseSuppression::kModerate;
    case 3: return webrtc::NoiseSuppression::kHigh;
    default: return webrtc::NoiseSuppression::kVeryHigh;
  }
}

}  // namespace

struct audio_processor::impl {
  vad_options options;                                  ///< settings given at construction
  std::unique_ptr<webrtc::AudioProcessing> apm;         ///< capture-side processing chain
  webrtc::AudioFrame capture;                           ///< reused capture buffer (3840 samples)
  webrtc::AudioFrame render;                            ///< reused far-end buffer

  void configure(int rate_hz) {
    apm.reset(webrtc::AudioProcessing::Create());
    if (!apm) throw std::invalid_argument("audio_processor: webrtc AudioProcessing::Create failed");
    webrtc::ProcessingConfig config;
    for (auto& stream : config.streams) stream = webrtc::StreamConfig(rate_hz, 1);
    // Without an explicit configuration the far-end stream is refused at 8 kHz.
    check(apm->Initialize(config), "Initialize");
    check(apm->high_pass_filter()->Enable(true), "high-pass filter");
    if (options.noise_suppression > 0) {
      check(apm->noise_suppression()->set_level(ns_level(options.noise_suppression)),
            "noise suppression level");
      check(apm->noise_suppression()->Enable(true), "noise suppression");
    }
    if (options.agc) {
      check(apm->gain_control()->set_mode(webrtc::GainControl::kAdaptiveDigital), "AGC mode");
      check(apm->gain_control()->Enable(true), "AGC");
    }
    if (options.echo_cancel) {
      check(apm->echo_cancellation()->set_suppression_level(
                webrtc::EchoCancellation::kModerateSuppression),
            "AEC level");
      check(apm->echo_cancellation()->Enable(true), "AEC");
    }
    // No webrtc voice detection: its VADs flag tones and noise as voice
    // (docs/PERFORMANCE.md), so speech_detector decides and their cost is saved.
  }

  static void load(webrtc::AudioFrame& f, std::span<const std::int16_t> chunk, int rate_hz) {
    f.sample_rate_hz_ = rate_hz;
    f.num_channels_ = 1;
    f.samples_per_channel_ = chunk.size();
    std::copy(chunk.begin(), chunk.end(), f.data_);
  }
};

bool audio_processor::supported_rate(int rate_hz) noexcept {
  return rate_hz == 8000 || rate_hz == 16000;
}

audio_processor::audio_processor(const audio_format& format, const vad_options& options)
    : sample_rate_hz_(format.sample_rate_hz),
      chunk_samples_(static_cast<std::size_t>(format.sample_rate_hz / 100)),
      impl_(std::make_unique<impl>()) {
  if (!format.valid() || format.channels != 1 || !supported_rate(format.sample_rate_hz)) {
    throw std::invalid_argument("audio_processor: needs mono 8000 or 16000 Hz, got " +
                                std::to_string(format.sample_rate_hz) + " Hz x " +
                                std::to_string(format.channels));
  }
  if (options.noise_suppression < 0 || options.noise_suppression > 4) {
    throw std::invalid_argument("audio_processor: noise suppression level " +
                                std::to_string(options.noise_suppression) + " outside 0..4");
  }
  impl_->options = options;
  impl_->configure(sample_rate_hz_);
}

audio_processor::~audio_processor() = default;
audio_processor::audio_processor(audio_processor&&) noexcept = default;
audio_processor& audio_processor::operator=(audio_processor&&) noexcept = default;

std::optional<chunk_features> audio_processor::process(std::span<std::int16_t> chunk) {
  if (chunk.size() != chunk_samples_) return std::nullopt;
  auto& s = *impl_;
  impl::load(s.capture, chunk, sample_rate_hz_);
  if (s.options.echo_cancel) {
    // AEC refuses every capture chunk (-11) whose delay was not set just before.
    s.apm->set_stream_delay_ms(static_cast<int>(s.options.echo_delay.count()));
  }
  if (s.apm->ProcessStream(&s.capture) != webrtc::AudioProcessing::kNoError) return std::nullopt;
  std::copy_n(s.capture.data_, chunk.size(), chunk.begin());

  chunk_features f;
  if (s.options.noise_suppression > 0) {
    f.speech_probability = s.apm->noise_suppression()->speech_probability();
  }
  double sum = 0.0;
  for (const std::int16_t x : chunk) sum += static_cast<double>(x) * x;
  f.energy = std::sqrt(sum / static_cast<double>(chunk.size())) / 32768.0;
  return f;
}

bool audio_processor::far_end(std::span<const std::int16_t> chunk) {
  if (chunk.size() != chunk_samples_) return false;
  auto& s = *impl_;
  if (!s.options.echo_cancel) return true;
  impl::load(s.render, chunk, sample_rate_hz_);
  return s.apm->ProcessReverseStream(&s.render) == webrtc::AudioProcessing::kNoError;
}

void audio_processor::reset() { impl_->configure(sample_rate_hz_); }

}  // namespace npcl::audio
