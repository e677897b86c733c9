// Paced sending of assistant audio, on a real io_context and the real clock:
// frames cut and ordered, one per 20 ms without drift, no burst after a
// pause, overflow, barge-in flush accounting, completions and stop.
#include "npcl/media/playout.hpp"

#include <gtest/gtest.h>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

namespace npcl::media {
namespace {

using namespace std::chrono_literals;
using clock = std::chrono::steady_clock;

constexpr std::size_t frame_samples = 160;  // 8 kHz, 20 ms

// A ramp that tells frames apart: sample i of an item is sign·(1 + i).
std::vector<std::int16_t> ramp(std::size_t from, std::size_t count, int sign = 1) {
  std::vector<std::int16_t> v(count);
  for (std::size_t i = 0; i < count; ++i) v[i] = static_cast<std::int16_t>(sign * static_cast<int>(1 + from + i));
  return v;
}

double ms(clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

// Percentile with linear interpolation between ranks (numpy's default), so
// p99 of 99 gaps is not simply the largest.
double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  const double pos = p * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<std::size_t>(pos);
  const auto hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (pos - static_cast<double>(lo));
}

// A bare timer on an absolute grid, on the same loop as the playout under
// test: it shows how late the platform itself wakes threads. A loaded machine
// (CPU-bound neighbours) wakes them several ms late, and no user-space loop
// can do better than that.
class reference_clock : public std::enable_shared_from_this<reference_clock> {
 public:
  reference_clock(executor ex, clock::duration period, std::size_t count)
      : timer_(ex), period_(period), count_(count) {}
  // Call on the loop; the first tick is due at t0.
  void start(clock::time_point t0) {
    t0_ = t0;
    arm();
  }
  std::future<std::vector<clock::time_point>> result() { return done_.get_future(); }

 private:
  void arm() {
    timer_.expires_at(t0_ + period_ * static_cast<clock::rep>(ticks_.size()));
    timer_.async_wait([self = shared_from_this()](error_code ec) {
      if (ec) return;
      self->ticks_.push_back(clock::now());
      if (self->ticks_.size() == self->count_)
        self->done_.set_value(self->ticks_);
      else
        self->arm();
    });
  }
  net::steady_timer timer_;
  clock::duration period_;                   // grid spacing
  std::size_t count_;                        // ticks to take
  clock::time_point t0_;                     // first grid point
  std::vector<clock::time_point> ticks_;     // when each tick ran
  std::promise<std::vector<clock::time_point>> done_;
};

// p99 of |gap − 20 ms| between consecutive instants, milliseconds.
double p99_gap_error_ms(const std::vector<clock::time_point>& at) {
  std::vector<double> error;
  for (std::size_t k = 1; k < at.size(); ++k) error.push_back(std::abs(ms(at[k] - at[k - 1]) - 20.0));
  return percentile(error, 0.99);
}

class playout_test : public testing::Test {
 protected:
  struct sent_frame {
    clock::time_point at;      // when the sink got it
    audio::frame frame;        // what it got
    bool first_of_spurt;       // the marker flag
  };

  template <class F>
  auto on_loop(F f) {
    std::packaged_task<decltype(f())()> task(std::move(f));
    auto result = task.get_future();
    net::post(strand_, [&task] { task(); });
    return result.get();
  }

  void SetUp() override {
    thread_ = std::thread([this] { ioc_.run(); });
  }
  void TearDown() override {
    on_loop([this] {
      player_.reset();
      return 0;
    });
    work_.reset();
    thread_.join();
  }

  void make(std::size_t max_frames = 3000) {
    on_loop([this, max_frames] {
      player_ = std::make_unique<playout>(strand_, format_, max_frames,
                                          [this](const audio::frame& f, bool first) { record(f, first); });
      return 0;
    });
  }

  void record(const audio::frame& f, bool first) {
    std::size_t index;
    {
      std::lock_guard lock(mutex_);
      index = sent_.size();
      sent_.push_back({clock::now(), f, first});
      events_.push_back(f.samples.front() > 0 ? "A" : "B");
    }
    changed_.notify_all();
    if (in_sink_) in_sink_(index);  // on the strand, like a real sink
  }

  void note(std::string event) {
    {
      std::lock_guard lock(mutex_);
      events_.push_back(std::move(event));
    }
    changed_.notify_all();
  }

  std::function<void(bool)> noting(std::string item) {
    return [this, item](bool played) { note(item + (played ? ":played" : ":flushed")); };
  }

  testing::AssertionResult wait_for(std::function<bool()> ready, clock::duration timeout, const char* what) {
    std::unique_lock lock(mutex_);
    if (changed_.wait_for(lock, timeout, ready)) return testing::AssertionSuccess();
    return testing::AssertionFailure() << "timed out waiting for " << what << " (" << sent_.size()
                                       << " frames sent)";
  }
  testing::AssertionResult wait_frames(std::size_t n, clock::duration timeout) {
    return wait_for([&] { return sent_.size() >= n; }, timeout, "frames");
  }

  // Runs `fn` on the strand after `d`; the timer keeps itself alive, and
  // TearDown's join waits for it.
  void after(clock::duration d, std::function<void()> fn) {
    net::post(strand_, [this, d, fn = std::move(fn)] {
      auto t = std::make_shared<net::steady_timer>(strand_, d);
      t->async_wait([t, fn](error_code ec) {
        if (!ec) fn();
      });
    });
  }

  // Lets `d` pass on the loop. Used only to observe that nothing happens in
  // a window, never to wait for something to happen.
  void observe_for(clock::duration d) {
    std::promise<void> done;
    net::steady_timer t(strand_, d);
    t.async_wait([&](error_code) { done.set_value(); });
    done.get_future().wait();
  }

  std::vector<sent_frame> sent() {
    std::lock_guard lock(mutex_);
    return sent_;
  }
  std::vector<std::string> events() {
    std::lock_guard lock(mutex_);
    return events_;
  }

  net::io_context ioc_;
  net::executor_work_guard<net::io_context::executor_type> work_ = net::make_work_guard(ioc_);
  executor strand_ = net::make_strand(ioc_);
  std::thread thread_;
  audio::audio_format format_{8000, 1, 20};
  std::unique_ptr<playout> player_;        // lives and dies on the strand
  std::function<void(std::size_t)> in_sink_;  // test action run inside the sink, with the frame index
  std::mutex mutex_;                       // guards sent_ and events_
  std::condition_variable changed_;
  std::vector<sent_frame> sent_;           // every frame the sink got, in order
  std::vector<std::string> events_;        // "A"/"B" per frame (by sample sign) and completions
  std::function<void()> feed_;             // a test's feeder, run on the strand
  std::size_t fed_ = 0;                    // samples the feeder has pushed
};

TEST_F(playout_test, cuts_frames_in_order_and_pads_the_last_one) {
  make();
  on_loop([this] {
    // 550 samples of A in odd pieces, then 320 of B: A is 3 frames + 70 samples.
    player_->push("A", ramp(0, 100));
    player_->push("A", ramp(100, 250));
    player_->push("A", ramp(350, 200));
    player_->end_item("A");
    player_->push("B", ramp(0, 320, -1));
    player_->end_item("B");
    return 0;
  });
  ASSERT_TRUE(wait_frames(6, 2s));
  const auto s = sent();
  ASSERT_EQ(s.size(), 6u);
  for (std::size_t k = 0; k < 3; ++k) EXPECT_EQ(s[k].frame.samples, ramp(k * frame_samples, frame_samples)) << k;
  auto padded = ramp(3 * frame_samples, 70);
  padded.resize(frame_samples, 0);
  EXPECT_EQ(s[3].frame.samples, padded);
  EXPECT_EQ(s[4].frame.samples, ramp(0, frame_samples, -1));
  EXPECT_EQ(s[5].frame.samples, ramp(frame_samples, frame_samples, -1));
  for (std::size_t k = 0; k < s.size(); ++k) {
    EXPECT_EQ(s[k].frame.sample_rate_hz, 8000);
    EXPECT_EQ(s[k].first_of_spurt, k == 0) << k;
  }
  EXPECT_EQ(on_loop([this] { return player_->stats().frames_sent; }), 6u);
}

TEST_F(playout_test, a_burst_of_100_frames_leaves_one_every_20_ms) {
  // 20 ms ± 2 ms at p99 where the machine can keep time; where CPU-bound
  // neighbours wake threads late, no worse than a bare timer on the same grid
  // and loop. A preemption hitting the playout's handler but not the bare
  // timer's is noise, so the burst is tried up to three times; a playout that
  // bursts or drifts fails every time.
  std::string attempts;
  bool met = false;
  for (int attempt = 0; attempt < 3 && !met; ++attempt) {
    on_loop([this] {
      std::lock_guard lock(mutex_);
      sent_.clear();
      return 0;
    });
    make();
    auto platform = std::make_shared<reference_clock>(strand_, 20ms, 100);
    on_loop([this, platform] {
      platform->start(clock::now());
      player_->push("A", ramp(0, 100 * frame_samples));
      player_->end_item("A");
      return 0;
    });
    ASSERT_TRUE(wait_frames(100, 5s));
    auto reference = platform->result();
    ASSERT_EQ(reference.wait_for(5s), std::future_status::ready);
    const auto s = sent();
    ASSERT_EQ(s.size(), 100u);
    std::vector<clock::time_point> at;
    for (const auto& f : s) at.push_back(f.at);
    const double ours = p99_gap_error_ms(at);
    const double platforms = p99_gap_error_ms(reference.get());
    const double span = ms(s.back().at - s.front().at);
    attempts += " [p99 gap error " + std::to_string(ours) + " ms, bare timer's " + std::to_string(platforms) +
                " ms, first to last " + std::to_string(span) + " ms]";
    // 99 periods from first to last within one frame: not a burst, not stretched.
    met = ours <= std::max(2.0, platforms + 1.0) && std::abs(span - 1980.0) <= 20.0;
  }
  EXPECT_TRUE(met) << attempts;
}

TEST_F(playout_test, after_a_pause_a_new_spurt_starts_without_a_burst) {
  make();
  on_loop([this] {
    player_->push("A", ramp(0, 5 * frame_samples));
    player_->end_item("A");
    return 0;
  });
  ASSERT_TRUE(wait_frames(5, 2s));
  // The pause: a loop timer pushes B 60 ms after A's last frame was seen,
  // long enough for a schedule kept from A to owe B several frames.
  const auto pause_started = clock::now();
  std::promise<clock::time_point> pushed;
  after(60ms, [this, &pushed] {
    pushed.set_value(clock::now());
    player_->push("B", ramp(0, 5 * frame_samples, -1));
    player_->end_item("B");
  });
  ASSERT_TRUE(wait_frames(10, 2s));
  const auto push_at = pushed.get_future().get();
  const auto s = sent();
  EXPECT_GE(ms(s[5].at - pause_started), 60.0);
  EXPECT_TRUE(s[5].first_of_spurt);
  for (std::size_t k = 6; k < 10; ++k) {
    EXPECT_FALSE(s[k].first_of_spurt);
    // The pause is not owed: B's frame j leaves no earlier than j periods
    // after its push, so there is no catch-up burst.
    EXPECT_GE(ms(s[k].at - push_at), 20.0 * static_cast<double>(k - 5) - 0.5) << k;
  }
  EXPECT_EQ(on_loop([this] { return player_->stats().underruns; }), 0u);
}

TEST_F(playout_test, a_queue_running_dry_inside_an_item_counts_an_underrun) {
  make();
  on_loop([this] {
    player_->push("A", ramp(0, 3 * frame_samples + 40));  // more of A is still to come
    return 0;
  });
  ASSERT_TRUE(wait_frames(3, 2s));
  // The deadline after the last frame finds the queue empty.
  const auto deadline = clock::now() + 2s;
  while (on_loop([this] { return player_->stats().underruns; }) == 0 && clock::now() < deadline) observe_for(5ms);
  EXPECT_EQ(on_loop([this] { return player_->stats().underruns; }), 1u);
  on_loop([this] {
    player_->push("A", ramp(3 * frame_samples + 40, frame_samples));
    return 0;
  });
  ASSERT_TRUE(wait_frames(4, 2s));
  EXPECT_TRUE(sent()[3].first_of_spurt);
  // The frame joins the kept 40-sample tail.
  EXPECT_EQ(sent()[3].frame.samples, ramp(3 * frame_samples, frame_samples));
}

TEST_F(playout_test, ten_seconds_fed_in_bursts_stay_within_one_frame_of_the_clock) {
  make();
  // OpenAI-like delivery: 5601 samples (700 ms and a bit) every 300 ms.
  static constexpr std::size_t total = 500 * frame_samples;
  static constexpr std::size_t chunk = 5601;
  std::promise<clock::time_point> started;
  auto platform = std::make_shared<reference_clock>(strand_, 20ms, 500);
  feed_ = [this, &started, platform] {
    if (!player_) return;
    if (fed_ == 0) {
      const auto now = clock::now();
      started.set_value(now);
      platform->start(now);
    }
    const auto n = std::min(chunk, total - fed_);
    player_->push("A", ramp(fed_, n));
    fed_ += n;
    if (fed_ == total)
      player_->end_item("A");
    else
      after(300ms, feed_);
  };
  net::post(strand_, feed_);
  ASSERT_TRUE(wait_frames(500, 15s));
  auto reference = platform->result();
  ASSERT_EQ(reference.wait_for(5s), std::future_status::ready);
  const auto t0 = started.get_future().get();
  const auto s = sent();
  ASSERT_EQ(s.size(), 500u);
  // At each send, frames sent so far against elapsed / 20 ms since the first
  // push: within one (a frame early or a drifting schedule is not). A machine
  // whose CPU-bound neighbours stall the loop shifts both this and a bare
  // timer on the same grid by the stall, which is allowed for.
  double worst = 0;
  for (std::size_t k = 0; k < s.size(); ++k) {
    const double owed = ms(s[k].at - t0) / 20.0;
    worst = std::max(worst, std::abs(static_cast<double>(k + 1) - owed));
    EXPECT_EQ(s[k].first_of_spurt, k == 0) << k;
  }
  const auto ticks = reference.get();
  double stall_ms = 0;
  for (std::size_t k = 0; k < ticks.size(); ++k)
    stall_ms = std::max(stall_ms, ms(ticks[k] - t0) - 20.0 * static_cast<double>(k));
  EXPECT_LE(worst, 1.0 + stall_ms / 20.0) << "a bare timer on the same grid was up to " << stall_ms << " ms late";
  const auto st = on_loop([this] { return player_->stats(); });
  EXPECT_EQ(st.frames_sent, 500u);
  EXPECT_EQ(st.underruns, 0u);
}

TEST_F(playout_test, a_full_queue_drops_the_oldest_frames) {
  make(10);
  on_loop([this] {
    player_->push("A", ramp(0, 30 * frame_samples));
    player_->end_item("A");
    return 0;
  });
  ASSERT_TRUE(wait_frames(10, 2s));
  const auto s = sent();
  for (std::size_t k = 0; k < s.size(); ++k)
    EXPECT_EQ(s[k].frame.samples.front(), static_cast<std::int16_t>(1 + (20 + k) * frame_samples)) << k;
  EXPECT_EQ(on_loop([this] { return player_->stats().dropped_frames; }), 20u);
}

TEST_F(playout_test, flush_inside_the_sink_reports_exactly_what_was_sent) {
  make();
  std::promise<std::vector<flushed_item>> flushed;
  in_sink_ = [&](std::size_t index) {
    if (index == 14) flushed.set_value(player_->flush());
  };
  on_loop([this] {
    player_->push("A", ramp(0, 8000));  // 1 s
    return 0;
  });
  auto result = flushed.get_future();
  ASSERT_EQ(result.wait_for(5s), std::future_status::ready);
  const auto items = result.get();
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].item_id, "A");
  EXPECT_EQ(items[0].played, 15 * 20ms);
  // Late deltas of the cancelled item are discarded; B is the marker that
  // proves nothing of A was sent after the flush.
  on_loop([this] {
    player_->push("A", ramp(8000, 1600));
    player_->end_item("A");
    player_->push("B", ramp(0, frame_samples, -1));
    player_->end_item("B");
    return 0;
  });
  ASSERT_TRUE(wait_for([&] { return !events_.empty() && events_.back() == "B"; }, 2s, "marker B"));
  const auto e = events();
  EXPECT_EQ(std::count(e.begin(), e.end(), "A"), 15);
  EXPECT_EQ(e.size(), 16u);
  EXPECT_TRUE(sent().back().first_of_spurt);
}

TEST_F(playout_test, flush_from_outside_reports_what_the_sink_received) {
  make();
  on_loop([this] {
    player_->push("A", ramp(0, 8000));
    player_->push("B", ramp(0, 800, -1));  // touched, never reached
    return 0;
  });
  ASSERT_TRUE(wait_frames(15, 2s));
  auto [items, got] = on_loop([this] { return std::make_pair(player_->flush(), sent_.size()); });
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].item_id, "A");
  EXPECT_EQ(items[0].played, static_cast<long>(got) * 20ms);
  EXPECT_EQ(items[1].item_id, "B");
  EXPECT_EQ(items[1].played, 0ms);
  EXPECT_TRUE(on_loop([this] { return player_->idle() && player_->queued() == 0ms; }));
  observe_for(100ms);
  EXPECT_EQ(sent().size(), got);
}

TEST_F(playout_test, on_item_played_fires_after_the_last_frame_and_false_on_flush) {
  make();
  on_loop([this] {
    player_->push("A", ramp(0, 3 * frame_samples));
    player_->end_item("A");
    player_->push("B", ramp(0, 2 * frame_samples, -1));
    player_->end_item("B");
    player_->on_item_played("A", noting("A"));
    player_->on_item_played("B", noting("B"));
    return 0;
  });
  ASSERT_TRUE(wait_for([&] { return events_.size() >= 7; }, 2s, "two items played"));
  EXPECT_EQ(events(), (std::vector<std::string>{"A", "A", "A", "A:played", "B", "B", "B:played"}));
  // Already played, or never pushed: at once.
  on_loop([this] {
    player_->on_item_played("A", noting("A again"));
    player_->on_item_played("never", noting("never"));
    player_->push("C", ramp(0, 50 * frame_samples));
    player_->on_item_played("C", noting("C"));
    return 0;
  });
  ASSERT_TRUE(wait_for([&] { return events_.size() >= 10; }, 2s, "C under way"));
  on_loop([this] {
    player_->flush();
    player_->on_item_played("C", noting("C again"));
    return 0;
  });
  ASSERT_TRUE(wait_for([&] { return events_.back() == "C again:flushed"; }, 2s, "flush completions"));
  auto e = events();
  EXPECT_NE(std::find(e.begin(), e.end(), "A again:played"), e.end());
  EXPECT_NE(std::find(e.begin(), e.end(), "never:played"), e.end());
  EXPECT_NE(std::find(e.begin(), e.end(), "C:flushed"), e.end());
}

TEST_F(playout_test, stop_with_audio_queued_sends_nothing_more) {
  make();
  on_loop([this] {
    player_->push("A", ramp(0, 8000));
    player_->on_item_played("A", noting("A"));
    return 0;
  });
  ASSERT_TRUE(wait_frames(3, 2s));
  const auto got = on_loop([this] {
    player_->stop();
    player_->stop();  // idempotent
    player_->push("A", ramp(0, 1600));
    return sent_.size();
  });
  ASSERT_TRUE(wait_for([&] { return events_.back() == "A:flushed"; }, 2s, "stop completion"));
  observe_for(100ms);
  EXPECT_EQ(sent().size(), got);
  EXPECT_TRUE(on_loop([this] { return player_->idle(); }));
}

TEST_F(playout_test, destroying_it_with_audio_queued_sends_nothing_more) {
  make();
  on_loop([this] {
    player_->push("A", ramp(0, 8000));
    return 0;
  });
  ASSERT_TRUE(wait_frames(2, 2s));
  const auto got = on_loop([this] {
    player_.reset();
    return sent_.size();
  });
  observe_for(100ms);
  EXPECT_EQ(sent().size(), got);
}

TEST_F(playout_test, rejects_a_format_it_cannot_frame) {
  auto sink = [](const audio::frame&, bool) {};
  EXPECT_THROW(playout(strand_, audio::audio_format{11025, 1, 10}, 10, sink), std::invalid_argument);
  EXPECT_THROW(playout(strand_, audio::audio_format{8000, 2, 20}, 10, sink), std::invalid_argument);
  EXPECT_THROW(playout(strand_, format_, 10, nullptr), std::invalid_argument);
}

}  // namespace
}  // namespace npcl::media
