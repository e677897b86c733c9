#pragma once
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>

namespace npcl::media {

/// The clock arithmetic of paced sending, with no timer and no I/O, so that
/// hours of schedule can be checked in microseconds.
///
/// A spurt starts at t0; frame k of the spurt is due at t0 + k·period, an
/// absolute deadline, so late wake-ups never push the schedule back and the
/// number of frames sent after T stays within one of T/period. A late wake-up
/// sends the frame due plus at most `max_per_tick − 1` frames of backlog, and
/// the next wake-up is the next point of the grid, never "now": the far end's
/// jitter buffer sees at most `max_per_tick` frames per period. When the
/// backlog exceeds `max_behind` frames (the loop stalled for longer than a
/// jitter buffer can absorb) catching up would only burst audio the caller
/// has already missed, so the schedule is moved to now instead (a resync):
/// no audio is lost, it plays that much later.
class pacer {
 public:
  using clock = std::chrono::steady_clock;

  /// What to do at one wake-up.
  struct plan {
    std::size_t frames = 0;           ///< frames to send now, oldest first
    clock::time_point first_deadline; ///< deadline of the first of them; the i-th is due i periods later
    clock::time_point wake_at;        ///< when to wake next (a grid point after now)
    bool resynced = false;            ///< the schedule was moved to now (stall beyond max_behind)
  };

  /// `period` is the ptime (> 0); `max_per_tick` ≥ 1 caps frames sent per
  /// wake-up; `max_behind` is the backlog, in frames, beyond which the
  /// schedule is moved instead of caught up.
  explicit pacer(clock::duration period, std::size_t max_per_tick = 2, std::size_t max_behind = 5);

  /// Starts a spurt: its first frame is due at `t0`.
  void start(clock::time_point t0);

  /// Frames whose deadline is at or before `now` and that have not been
  /// planned yet (uncapped). Zero before the next deadline.
  std::size_t due(clock::time_point now) const;

  /// Decides the wake-up at `now`: how many of the `available` frames to
  /// send (they count as sent) and when to wake next.
  plan tick(clock::time_point now, std::size_t available = std::numeric_limits<std::size_t>::max());

  /// Deadline of the next frame not yet planned.
  clock::time_point next_deadline() const;

  /// Frames planned since start().
  std::uint64_t planned() const { return next_; }

  /// The ptime this pacer was built with.
  clock::duration period() const { return period_; }

 private:
  clock::duration period_;       ///< ptime: spacing of deadlines
  std::size_t max_per_tick_;     ///< frames sent at most per wake-up (1 + backlog allowance)
  std::size_t max_behind_;       ///< backlog (frames) above which the schedule is moved to now
  clock::time_point t0_{};       ///< deadline of frame 0 of the spurt (moved by a resync)
  std::uint64_t next_ = 0;       ///< index of the next frame to plan within the spurt
};

}  // namespace npcl::media
