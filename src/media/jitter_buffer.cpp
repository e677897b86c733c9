#include "npcl/media/jitter_buffer.hpp"

#include <algorithm>
#include <cmath>

namespace npcl::media {
namespace {

// Serial-number distance from `from` to `to` (RFC 1982 on 16 bits): positive
// when `to` is newer, so the sequence wrap 65535 → 0 is a step of +1.
int seq_distance(std::uint16_t from, std::uint16_t to) noexcept {
  return static_cast<std::int16_t>(static_cast<std::uint16_t>(to - from));
}

}  // namespace

jitter_buffer::jitter_buffer(std::size_t depth, std::chrono::microseconds ptime)
    : depth_(depth), max_wait_(ptime * static_cast<long>(depth)) {
  held_.reserve(depth + 1);
}

void jitter_buffer::push(const rtp_packet& header, audio::frame audio, clock::time_point arrival,
                         std::vector<audio::frame>& out) {
  if (started_ && header.ssrc != ssrc_) {
    ++counters_.ssrc_changes;
    have_transit_ = false;  // the new source's timestamps have their own origin
    update_jitter(header, audio.sample_rate_hz, arrival);
    restart(header, std::move(audio), out);
    return;
  }
  update_jitter(header, audio.sample_rate_hz, arrival);
  if (!started_) {
    restart(header, std::move(audio), out);
    return;
  }
  const int d = seq_distance(next_, header.sequence);
  if (d < 0) {
    if (-d > static_cast<int>(history_size)) {
      // Far behind anything remembered: the source renumbered its stream.
      restart(header, std::move(audio), out);
      return;
    }
    const slot& s = history_[header.sequence % history_size];
    if (s.sequence == header.sequence && s.state == slot_state::released) {
      ++counters_.duplicated;
    } else {
      ++counters_.late;  // concealed already, or older than the history
    }
    return;
  }
  if (d > max_gap) {
    restart(header, std::move(audio), out);
    return;
  }
  const bool already_held = std::any_of(held_.begin(), held_.end(),
                                        [&](const held_packet& h) { return h.sequence == header.sequence; });
  if (already_held) {
    ++counters_.duplicated;
    return;
  }
  if (seq_distance(highest_, header.sequence) < 0) {
    ++counters_.reordered;
  } else {
    highest_ = header.sequence;
  }
  if (d == 0 && held_.empty()) {
    release(std::move(audio), out);  // the common case: in order, nothing waiting
    return;
  }
  held_.push_back(held_packet{header.sequence, std::move(audio), arrival});
  drain_in_order(out);
  while (held_.size() > depth_) {
    skip_to_first_held(out);
  }
}

std::optional<jitter_buffer::clock::time_point> jitter_buffer::hold_deadline() const {
  if (held_.empty()) return std::nullopt;
  auto oldest = std::min_element(held_.begin(), held_.end(), [](const held_packet& a, const held_packet& b) {
    return a.arrival < b.arrival;
  });
  return oldest->arrival + max_wait_;
}

void jitter_buffer::expire(clock::time_point now, std::vector<audio::frame>& out) {
  for (auto deadline = hold_deadline(); deadline && *deadline <= now; deadline = hold_deadline()) {
    skip_to_first_held(out);
  }
}

void jitter_buffer::restart(const rtp_packet& header, audio::frame audio, std::vector<audio::frame>& out) {
  flush(out);
  history_.fill(slot{});
  started_ = true;
  ssrc_ = header.ssrc;
  next_ = header.sequence;
  highest_ = header.sequence;
  remember(next_, slot_state::released);
  ++next_;
  last_ = audio;
  conceal_run_ = 0;
  out.push_back(std::move(audio));
}

void jitter_buffer::update_jitter(const rtp_packet& header, int clock_rate_hz, clock::time_point arrival) {
  if (clock_rate_hz <= 0) return;
  if (have_transit_) {
    // D(i,j) = (Rj − Ri) − (Sj − Si) in timestamp units; J += (|D| − J) / 16.
    const double arrival_units =
        std::chrono::duration<double>(arrival - last_arrival_).count() * clock_rate_hz;
    const auto ts_units = static_cast<std::int32_t>(header.timestamp - last_timestamp_);
    const double d = arrival_units - static_cast<double>(ts_units);
    jitter_units_ += (std::fabs(d) - jitter_units_) / 16.0;
    counters_.jitter_ms = jitter_units_ * 1000.0 / clock_rate_hz;
  }
  have_transit_ = true;
  last_arrival_ = arrival;
  last_timestamp_ = header.timestamp;
}

void jitter_buffer::release(audio::frame audio, std::vector<audio::frame>& out) {
  remember(next_, slot_state::released);
  ++next_;
  last_ = audio;
  conceal_run_ = 0;
  out.push_back(std::move(audio));
}

void jitter_buffer::conceal_next(std::vector<audio::frame>& out) {
  ++counters_.lost;
  remember(next_, slot_state::concealed);
  ++next_;
  ++conceal_run_;
  audio::frame f = last_;
  const int shift = conceal_run_ <= 2 ? conceal_run_ : 16;  // ½, ¼, then silence
  for (auto& s : f.samples) s = static_cast<std::int16_t>(shift >= 16 ? 0 : s / (1 << shift));
  out.push_back(std::move(f));
}

void jitter_buffer::drain_in_order(std::vector<audio::frame>& out) {
  for (;;) {
    auto it = std::find_if(held_.begin(), held_.end(), [&](const held_packet& h) { return h.sequence == next_; });
    if (it == held_.end()) return;
    audio::frame f = std::move(it->audio);
    held_.erase(it);
    release(std::move(f), out);
  }
}

void jitter_buffer::skip_to_first_held(std::vector<audio::frame>& out) {
  if (held_.empty()) return;
  auto first = std::min_element(held_.begin(), held_.end(), [&](const held_packet& a, const held_packet& b) {
    return seq_distance(next_, a.sequence) < seq_distance(next_, b.sequence);
  });
  const std::uint16_t target = first->sequence;
  while (next_ != target) conceal_next(out);
  drain_in_order(out);
}

void jitter_buffer::flush(std::vector<audio::frame>& out) {
  while (!held_.empty()) skip_to_first_held(out);
}

void jitter_buffer::remember(std::uint16_t sequence, slot_state state) {
  history_[sequence % history_size] = slot{sequence, state};
}

}  // namespace npcl::media
