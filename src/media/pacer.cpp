#include "npcl/media/pacer.hpp"

#include <algorithm>
#include <stdexcept>

namespace npcl::media {

pacer::pacer(clock::duration period, std::size_t max_per_tick, std::size_t max_behind)
    : period_(period), max_per_tick_(std::max<std::size_t>(max_per_tick, 1)), max_behind_(max_behind) {
  if (period_ <= clock::duration::zero()) throw std::invalid_argument("pacer: period must be positive");
}

void pacer::start(clock::time_point t0) {
  t0_ = t0;
  next_ = 0;
}

pacer::clock::time_point pacer::next_deadline() const {
  return t0_ + period_ * static_cast<clock::rep>(next_);
}

std::size_t pacer::due(clock::time_point now) const {
  if (now < t0_) return 0;
  // Index of the last grid point at or before now; frames up to it are due.
  const auto last = static_cast<std::uint64_t>((now - t0_) / period_);
  return last + 1 > next_ ? static_cast<std::size_t>(last + 1 - next_) : 0;
}

pacer::plan pacer::tick(clock::time_point now, std::size_t available) {
  plan p;
  std::size_t n = due(now);
  if (n > max_behind_ + 1) {
    // Stalled: the caller already heard the gap, so play on from now rather
    // than burst the backlog into the far end's jitter buffer.
    t0_ = now - period_ * static_cast<clock::rep>(next_);
    n = 1;
    p.resynced = true;
  }
  p.frames = std::min({n, max_per_tick_, available});
  p.first_deadline = next_deadline();
  next_ += p.frames;
  // Next grid point strictly after now; if frames are still owed they go
  // there with the frame of that point, never before it.
  const auto grid_after_now =
      now < t0_ ? t0_ : t0_ + period_ * static_cast<clock::rep>((now - t0_) / period_ + 1);
  p.wake_at = std::max(next_deadline(), grid_after_now);
  return p;
}

}  // namespace npcl::media
