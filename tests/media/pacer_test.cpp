// The deadline arithmetic of paced sending, on a simulated clock: no drift
// over a long call, bounded catch-up after late wake-ups, resync after a stall.
#include "npcl/media/pacer.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <random>

namespace npcl::media {
namespace {

using namespace std::chrono_literals;
using clock = pacer::clock;

const clock::time_point t0{1h};  // an arbitrary start of spurt

// A pacer whose spurt started at t0 and whose first frame went on time.
pacer after_first_frame(std::size_t max_per_tick = 2, std::size_t max_behind = 5) {
  pacer p(20ms, max_per_tick, max_behind);
  p.start(t0);
  p.tick(t0);
  return p;
}

// Frames a drift-free sender has owed by `now`: one per started period.
std::int64_t owed(clock::time_point t0, clock::time_point now, clock::duration period) {
  return (now - t0) / period + 1;
}

TEST(pacer, first_frame_is_due_at_start_and_then_one_per_period) {
  pacer p(20ms);
  p.start(t0);
  EXPECT_EQ(p.due(t0 - 1ms), 0u);
  auto plan = p.tick(t0);
  EXPECT_EQ(plan.frames, 1u);
  EXPECT_EQ(plan.first_deadline, t0);
  EXPECT_EQ(plan.wake_at, t0 + 20ms);
  EXPECT_EQ(p.due(t0 + 19ms), 0u);
  EXPECT_EQ(p.due(t0 + 20ms), 1u);
}

TEST(pacer, a_late_wake_up_keeps_the_absolute_schedule) {
  auto p = after_first_frame();
  // 7 ms late: still one frame, and the next wake-up is on the grid, not now + 20 ms.
  auto plan = p.tick(t0 + 27ms);
  EXPECT_EQ(plan.frames, 1u);
  EXPECT_EQ(plan.first_deadline, t0 + 20ms);
  EXPECT_EQ(plan.wake_at, t0 + 40ms);
}

TEST(pacer, backlog_is_caught_up_one_extra_frame_per_period) {
  auto p = after_first_frame();
  // Woken 70 ms late: frames 1..4 are due (4 of them), only 2 go now.
  auto plan = p.tick(t0 + 90ms);
  EXPECT_EQ(plan.frames, 2u);
  EXPECT_EQ(plan.first_deadline, t0 + 20ms);
  // The rest waits for the next grid point, not an immediate burst.
  EXPECT_EQ(plan.wake_at, t0 + 100ms);
  plan = p.tick(plan.wake_at);  // frames 3, 4, 5 due
  EXPECT_EQ(plan.frames, 2u);
  plan = p.tick(plan.wake_at);  // frames 5, 6 due
  EXPECT_EQ(plan.frames, 2u);
  plan = p.tick(plan.wake_at);  // caught up: only frame 7
  EXPECT_EQ(plan.frames, 1u);
  EXPECT_EQ(p.planned(), 8u);
  EXPECT_EQ(owed(t0, t0 + 140ms, 20ms), 8);
  EXPECT_FALSE(plan.resynced);
}

TEST(pacer, a_stall_beyond_the_allowance_moves_the_schedule_instead_of_bursting) {
  auto p = after_first_frame();
  auto plan = p.tick(t0 + 500ms);
  EXPECT_TRUE(plan.resynced);
  EXPECT_EQ(plan.frames, 1u);
  EXPECT_EQ(plan.first_deadline, t0 + 500ms);
  EXPECT_EQ(plan.wake_at, t0 + 520ms);
}

TEST(pacer, never_plans_more_than_available) {
  pacer p(20ms);
  p.start(t0);
  auto plan = p.tick(t0 + 45ms, 1);
  EXPECT_EQ(plan.frames, 1u);
  EXPECT_EQ(p.planned(), 1u);
}

// Ten minutes of 20 ms frames (30 000) with every wake-up late by a random
// 0–19 ms and, now and then, a stall of up to 90 ms: outside the few periods
// of catch-up after a stall, the count planned is within one of
// elapsed / period, and the schedule ends exactly where it should.
TEST(pacer, no_drift_over_ten_simulated_minutes_of_late_wake_ups) {
  const auto period = 20ms;
  pacer p(period, 2, 5);
  std::mt19937 rng(20240817);
  std::uniform_int_distribution<int> late_us(0, 19'999);
  std::uniform_int_distribution<int> stall_us(20'000, 90'000);
  std::bernoulli_distribution stall(0.01);
  p.start(t0);
  clock::time_point now = t0;
  std::int64_t worst = 0;
  int resyncs = 0;
  int since_stall = 1000;
  while (p.planned() < 30'000) {
    auto plan = p.tick(now);
    resyncs += plan.resynced;
    const auto deviation = owed(t0, now, period) - static_cast<std::int64_t>(p.planned());
    if (since_stall++ > 5) worst = std::max(worst, std::abs(deviation));
    // One stall at a time: two inside one catch-up would exceed the allowance.
    const bool stalled = since_stall > 10 && stall(rng);
    if (stalled) since_stall = 0;
    now = plan.wake_at + std::chrono::microseconds(stalled ? stall_us(rng) : late_us(rng));
  }
  EXPECT_EQ(resyncs, 0);
  EXPECT_LE(worst, 1);
  // The 30 000th frame was planned at a wake-up about 10 minutes in.
  EXPECT_NEAR(std::chrono::duration<double>(p.next_deadline() - t0).count(), 600.0, 0.001);
}

}  // namespace
}  // namespace npcl::media
