#include "npcl/audio/inbound_pipeline.hpp"

#include <span>
#include <stdexcept>
#include <string>

namespace npcl::audio {

inbound_pipeline::inbound_pipeline(const audio_format& format, const vad_options& options)
    : format_(format), processor_(format, options), detector_(format, options), guard_(format, options) {
  if (format.ptime_ms % 10 != 0) {
    throw std::invalid_argument("inbound_pipeline: ptime " + std::to_string(format.ptime_ms) +
                                " ms is not a multiple of 10 ms");
  }
}

inbound_pipeline::result inbound_pipeline::process(const frame& in) {
  result r;
  r.cleaned = in;
  const std::size_t chunk = processor_.chunk_samples();
  if (in.sample_rate_hz != format_.sample_rate_hz || in.samples.empty() || in.samples.size() % chunk != 0) {
    r.rejected = true;
    return r;
  }
  std::span<std::int16_t> out(r.cleaned.samples);
  for (std::size_t at = 0; at < out.size(); at += chunk) {
    const auto piece = out.subspan(at, chunk);
    // The guard correlates the raw audio: the sent audio it compares with
    // never went through noise suppression or gain.
    guard_.near_end(piece);
    const auto features = processor_.process(piece);
    bool speech_like = false;
    if (features) {
      speech_like = detector_.analyse(piece, *features).speech_like;
      if (speech_like && guard_.is_echo()) {
        speech_like = false;
        r.echo_suppressed = true;
        detector_.echo_heard();
      }
    }
    const speech_decision d = detector_.update(speech_like);
    // Edges count whole chunks: a start at its chunk's beginning, an end at
    // the end of the last speech chunk.
    if (d.onset) {
      r.onset = true;
      r.speech_start = std::chrono::milliseconds{static_cast<std::int64_t>(d.segment_edge) * 10};
      ++closed_.turns;
      open_from_ = r.speech_start;
    }
    if (d.offset) {
      r.offset = true;
      r.speech_end = std::chrono::milliseconds{static_cast<std::int64_t>(d.segment_edge + 1) * 10};
      if (open_from_) closed_.speech += r.speech_end - *open_from_;
      open_from_.reset();
    }
  }
  r.speaking = detector_.speaking();
  return r;
}

bool inbound_pipeline::far_end(const frame& sent) {
  if (sent.sample_rate_hz != format_.sample_rate_hz) return false;
  const std::span<const std::int16_t> all(sent.samples);
  guard_.far_end(all);
  const std::size_t chunk = processor_.chunk_samples();
  bool ok = true;
  for (std::size_t at = 0; at + chunk <= all.size(); at += chunk) {
    ok = processor_.far_end(all.subspan(at, chunk)) && ok;
  }
  return ok;
}

inbound_pipeline::speech_tally inbound_pipeline::caller_speech() const noexcept {
  speech_tally t = closed_;
  if (open_from_) t.speech += position() - *open_from_;
  return t;
}

void inbound_pipeline::reset() {
  closed_ = {};
  open_from_.reset();
  processor_.reset();
  detector_.reset();
  guard_.reset();
}

}  // namespace npcl::audio
