// Timing as the caller's phone sees it: 100 simultaneous calls on loopback,
// each echoing a burst-free stream; every packet the fake Asterisk receives
// should be 20 ms after the previous one.
#include <gtest/gtest.h>
#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <thread>
#include <vector>

#include "app/daemon_harness.hpp"
#include "fakes/rtp_peer.hpp"

namespace npcl::test {
namespace {

// The longest a thread of this process waited past a 1 ms wake-up while it ran, with one
// such thread pinned to each CPU. A shared virtual machine sometimes stops a virtual CPU, or
// the whole guest, for tens of milliseconds; a gap measured then says nothing about the
// daemon's pacing, and this shows when it happened. One watch on one CPU misses a stall of
// the other, which is where the daemon's threads may be.
class stall_watch {
 public:
  stall_watch() {
    const unsigned cpus = std::max(1u, std::thread::hardware_concurrency());
    for (unsigned cpu = 0; cpu < cpus; ++cpu) {
      threads_.emplace_back([this, cpu] {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
        pthread_setaffinity_np(pthread_self(), sizeof set, &set);
        auto next = std::chrono::steady_clock::now();
        while (!stop_.load()) {
          next += 1ms;
          std::this_thread::sleep_until(next);
          auto late = std::chrono::steady_clock::now() - next;
          auto seen = worst_.load();
          while (late > seen && !worst_.compare_exchange_weak(seen, late)) {
          }
          if (late > 5ms) next = std::chrono::steady_clock::now();
        }
      });
    }
  }
  ~stall_watch() { stop(); }
  std::chrono::steady_clock::duration stop() {
    stop_.store(true);
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
    return worst_.load();
  }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<std::chrono::steady_clock::duration> worst_{};
  std::vector<std::thread> threads_;
};

struct pacing_figures {
  double p1 = 0, p50 = 0, p99 = 0, max = 0;
  std::chrono::steady_clock::duration worst_stall{};
};

void measure_pacing(pacing_figures& f) {
  constexpr int calls = 100;
  fakes::fake_ari_server fake;
  auto s = settings_for(fake, 43000);
  running_daemon d(std::move(s));
  ASSERT_TRUE(fake.wait_for_events_connection(5s));

  std::vector<std::unique_ptr<fakes::rtp_peer>> peers;
  std::vector<std::string> callers;
  for (int i = 0; i < calls; ++i) {
    fakes::rtp_peer_options o;
    o.seed = static_cast<std::uint32_t>(i + 1);
    peers.push_back(std::make_unique<fakes::rtp_peer>(o));
    fake.set_unicastrtp_port(peers.back()->port());
    auto before = fake.requests().size();
    callers.push_back(fake.place_call("55520" + std::to_string(100 + i), "Load", {"media-test"}, "1001"));
    ASSERT_TRUE(fake.wait_for_bridged(callers.back(), 10s));
    std::string host;
    auto requests = fake.requests();
    for (std::size_t r = before; r < requests.size(); ++r)
      if (requests[r].path == "/channels/externalMedia") host = requests[r].query.at("external_host");
    ASSERT_FALSE(host.empty());
    peers.back()->set_target(static_cast<std::uint16_t>(std::stoi(host.substr(host.rfind(':') + 1))));
  }
  // 3 s of speech-level tone from every caller at once.
  std::vector<std::int16_t> signal(8000 * 3);
  for (std::size_t i = 0; i < signal.size(); ++i)
    signal[i] = static_cast<std::int16_t>(6000 * std::sin(2 * M_PI * 300 * static_cast<double>(i) / 8000));
  stall_watch watch;
  for (auto& p : peers) p->play(signal);
  for (auto& p : peers) ASSERT_TRUE(p->wait_for_received(150, 15s));
  f.worst_stall = watch.stop();

  std::vector<double> gaps_ms;
  for (auto& p : peers) {
    auto gaps = p->inter_arrival_gaps();
    // Skip the first gap of the stream: the echo starts when the daemon's first frame is due.
    for (std::size_t i = 1; i < gaps.size() && i < 149; ++i) gaps_ms.push_back(gaps[i].count() / 1000.0);
  }
  ASSERT_FALSE(gaps_ms.empty());
  std::sort(gaps_ms.begin(), gaps_ms.end());
  auto pct = [&](double q) { return gaps_ms[static_cast<std::size_t>(q * (gaps_ms.size() - 1))]; };
  f = {pct(0.01), pct(0.5), pct(0.99), gaps_ms.back(), f.worst_stall};
  std::printf("inter-packet gaps over %zu samples, %d calls: p1 %.2f ms, p50 %.2f ms, p99 %.2f ms, max %.2f ms; "
              "worst stall of a 1 ms watch thread per CPU %.2f ms\n",
              gaps_ms.size(), calls, f.p1, f.p50, f.p99, f.max,
              std::chrono::duration<double, std::milli>(f.worst_stall).count());
  for (auto& c : callers) fake.caller_hangup(c);
  EXPECT_TRUE(fake.wait_for_idle(10s));
}

TEST(pacing, hundred_calls_keep_inter_packet_gaps_within_2ms_at_p99) {
  // A run during which the machine itself stalled is measured again, up to five times in all.
  // If every run stalled, the one the machine disturbed least is judged: bad pacing shows in
  // every run, a stall only in some, so a daemon that paces badly still fails.
  constexpr int attempts = 5;
  pacing_figures f;
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    pacing_figures run;
    measure_pacing(run);
    if (HasFatalFailure()) return;
    if (attempt == 1 || run.worst_stall < f.worst_stall) f = run;
    if (run.worst_stall <= 5ms) break;
    std::printf("the machine stalled during run %d; the figures above do not count\n", attempt);
  }
  if (f.worst_stall > 5ms) {
    std::printf("every run stalled; judging the least disturbed (stall %.2f ms)\n",
                std::chrono::duration<double, std::milli>(f.worst_stall).count());
  }
  EXPECT_NEAR(f.p50, 20.0, 0.5);
  EXPECT_GE(f.p1, 18.0);
  EXPECT_LE(f.p99, 22.0);
}

}  // namespace
}  // namespace npcl::test
