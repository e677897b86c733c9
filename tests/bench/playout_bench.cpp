// Paced sending of assistant audio: what one frame costs, and whether many
// calls on one loop keep their 20 ms clock.
//
// (a) Micro-benchmarks (Google Benchmark): cutting pushed PCM into frames,
//     and a flush, per frame.
// (b) A real-time run: N playouts (default 100) on one io_context run by 2
//     threads, each on its own strand and fed a burst of audio every second,
//     for a configurable time. Prints, per playout, frames sent against
//     elapsed / ptime (the worst deviation), the inter-frame gaps
//     (p50/p99/max over every playout), the playouts' own counters and the
//     CPU time per frame sent (timer wake-up, pacing and sink included).
//
//   npcl_bench_playout [--playouts 100] [--threads 2] [--seconds 10] [benchmark flags]
//   npcl_bench_playout --seconds 600          # the 10-minute figure
//   npcl_bench_playout --seconds 0            # micro-benchmarks only
#include <benchmark/benchmark.h>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "npcl/media/playout.hpp"

namespace {

using namespace npcl;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

constexpr audio::audio_format telephone{8000, 1, 20};
constexpr audio::audio_format wideband{24000, 1, 20};

std::vector<std::int16_t> tone(std::size_t count) {
  std::vector<std::int16_t> v(count);
  for (std::size_t i = 0; i < count; ++i) v[i] = static_cast<std::int16_t>(8000.0 * std::sin(0.07 * static_cast<double>(i)));
  return v;
}

// (a) push: a Realtime delta (the size OpenAI sends, not frame-aligned) is cut
// into frames and queued; the queue is flushed every 50 deltas so it stays
// short. Reported per frame queued.
void push_per_frame(benchmark::State& state, audio::audio_format format) {
  net::io_context ioc;
  media::playout p(ioc.get_executor(), format, 3000, [](const audio::frame&, bool) {});
  const auto delta = tone(static_cast<std::size_t>(state.range(0)));
  std::size_t samples = 0;
  int n = 0;
  // A flushed item's late audio is discarded, so each round is a new item.
  std::string item = "item-0";
  for (auto _ : state) {
    p.push(item, delta);
    samples += delta.size();
    if (++n % 50 == 0) {
      benchmark::DoNotOptimize(p.flush());
      ioc.poll();  // runs the cancelled timer's handler, as a running loop would
      item = "item-" + std::to_string(n);
    }
  }
  state.counters["frames"] = static_cast<double>(samples / format.samples_per_frame());
  state.counters["per_frame"] = benchmark::Counter(
      static_cast<double>(samples / format.samples_per_frame()),
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK_CAPTURE(push_per_frame, ulaw_8k_delta, telephone)->Arg(2400);
BENCHMARK_CAPTURE(push_per_frame, pcm_24k_delta, wideband)->Arg(7200);

// (a) flush of a queue of `range` frames (barge-in), per call.
void flush_queue(benchmark::State& state) {
  net::io_context ioc;
  media::playout p(ioc.get_executor(), telephone, 3000, [](const audio::frame&, bool) {});
  const auto audio = tone(static_cast<std::size_t>(state.range(0)) * telephone.samples_per_frame());
  int n = 0;
  for (auto _ : state) {
    state.PauseTiming();
    ioc.poll();
    p.push("item-" + std::to_string(++n), audio);
    state.ResumeTiming();
    benchmark::DoNotOptimize(p.flush());
  }
}
BENCHMARK(flush_queue)->Arg(50)->Arg(3000);

// Inter-frame gap histogram in 0.1 ms buckets up to 200 ms (last bucket: more).
struct gap_histogram {
  static constexpr std::size_t buckets = 2001;
  std::array<std::uint64_t, buckets> count{};
  double max_ms = 0;
  void add(double ms) {
    max_ms = std::max(max_ms, ms);
    count[std::min<std::size_t>(static_cast<std::size_t>(std::max(ms, 0.0) * 10.0), buckets - 1)]++;
  }
  void merge(const gap_histogram& o) {
    for (std::size_t i = 0; i < buckets; ++i) count[i] += o.count[i];
    max_ms = std::max(max_ms, o.max_ms);
  }
  double percentile(double p) const {
    std::uint64_t total = 0;
    for (auto c : count) total += c;
    if (total == 0) return 0;
    const auto rank = static_cast<std::uint64_t>(std::ceil(p * static_cast<double>(total)));
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < buckets; ++i) {
      seen += count[i];
      if (seen >= rank) return (static_cast<double>(i) + 0.5) / 10.0;
    }
    return max_ms;
  }
};

// One simulated call: a playout on its own strand, fed one second of audio
// every second (one second ahead), like Realtime deltas arriving in bursts.
struct call {
  explicit call(net::io_context& ioc, int index)
      : strand(net::make_strand(ioc)), feeder(strand), index(index) {}

  void start(clock_type::time_point first_feed) {
    player = std::make_unique<media::playout>(strand, telephone, 3000, [this](const audio::frame&, bool) {
      const auto now = clock_type::now();
      if (frames > 0) gaps.add(std::chrono::duration<double, std::milli>(now - last_frame).count());
      last_frame = now;
      ++frames;
    });
    next_feed = first_feed;
    wait_for_next_feed();
  }

  void wait_for_next_feed() {
    feeder.expires_at(next_feed);
    feeder.async_wait([this](npcl::error_code ec) {
      if (!ec && player) feed();
    });
  }

  void feed() {
    // Two seconds first so the queue never runs dry, then one per second.
    static const auto second = tone(8000);
    if (fed_seconds == 0) {
      first_push = clock_type::now();
      player->push(item, second);
    }
    player->push(item, second);
    fed_seconds += fed_seconds == 0 ? 2 : 1;
    next_feed += 1s;
    wait_for_next_feed();
  }

  // On the strand: frames sent against elapsed / ptime, then stop.
  void finish() {
    if (!player) return;
    const auto now = clock_type::now();
    if (fed_seconds > 0) {
      // The first frame is due at the first push: one frame per started ptime since.
      const auto owed = (now - first_push) / 20ms + 1;
      deviation = static_cast<long long>(frames) - static_cast<long long>(owed);
    }
    stats = player->stats();
    // A feed already due may still run after the cancel: it sees no player.
    feeder.cancel();
    player.reset();
  }

  executor strand;
  net::steady_timer feeder;              // the burst of each second
  int index;                             // which call
  std::string item = "item";             // one long assistant item
  std::unique_ptr<media::playout> player;
  clock_type::time_point next_feed;      // when the next burst arrives
  int fed_seconds = 0;                   // audio pushed so far, seconds
  std::uint64_t frames = 0;              // frames the sink got
  clock_type::time_point first_push;     // when the first burst was pushed (the schedule's start)
  clock_type::time_point last_frame;     // when the latest arrived
  gap_histogram gaps;                    // gaps between consecutive frames
  long long deviation = 0;               // frames sent − elapsed/ptime at the end
  media::playout_stats stats;            // the playout's own counters
};

double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

void real_time_run(int playouts, int threads, double seconds) {
  net::io_context ioc;
  auto work = net::make_work_guard(ioc);
  std::vector<std::unique_ptr<call>> calls;
  for (int i = 0; i < playouts; ++i) calls.push_back(std::make_unique<call>(ioc, i));
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) pool.emplace_back([&ioc] { ioc.run(); });

  const double cpu_before = process_cpu_seconds();
  const auto start = clock_type::now();
  // Calls start spread over one ptime, as real calls would not line up.
  for (auto& c : calls) {
    const auto offset = std::chrono::microseconds(20'000 * c->index / std::max(playouts, 1));
    net::post(c->strand, [&c, at = start + offset] { c->start(at); });
  }
  std::this_thread::sleep_until(start + std::chrono::duration<double>(seconds));
  std::atomic<int> left{playouts};
  std::promise<void> all_finished;
  for (auto& c : calls)
    net::post(c->strand, [&c, &left, &all_finished] {
      c->finish();
      if (--left == 0) all_finished.set_value();
    });
  all_finished.get_future().wait();
  const double elapsed = std::chrono::duration<double>(clock_type::now() - start).count();
  const double cpu = process_cpu_seconds() - cpu_before;
  work.reset();
  for (auto& t : pool) t.join();

  gap_histogram all;
  long long worst = 0;
  std::uint64_t frames = 0, late = 0, underruns = 0, dropped = 0, resyncs = 0;
  double max_late = 0;
  std::printf("\nreal-time run: %d playouts, %d threads, %.1f s (ptime 20 ms, 8 kHz)\n", playouts, threads, seconds);
  std::printf("%8s %10s %10s %9s %8s\n", "playout", "frames", "deviation", "late", "max_late");
  for (const auto& c : calls) {
    all.merge(c->gaps);
    if (std::llabs(c->deviation) > std::llabs(worst)) worst = c->deviation;
    frames += c->frames;
    late += c->stats.late_sends;
    underruns += c->stats.underruns;
    dropped += c->stats.dropped_frames;
    resyncs += c->stats.resyncs;
    max_late = std::max(max_late, c->stats.max_lateness_ms);
    if (c->index < 5 || c->index == playouts - 1)
      std::printf("%8d %10llu %+10lld %9llu %7.2fms\n", c->index, static_cast<unsigned long long>(c->frames),
                  c->deviation, static_cast<unsigned long long>(c->stats.late_sends), c->stats.max_lateness_ms);
  }
  std::printf("frames sent vs elapsed/ptime: max deviation %+lld frame(s) over %d playouts\n", worst, playouts);
  std::printf("inter-frame gap: p50 %.1f ms  p99 %.1f ms  p99.9 %.1f ms  max %.2f ms\n", all.percentile(0.5),
              all.percentile(0.99), all.percentile(0.999), all.max_ms);
  std::printf("late sends (>2 ms) %llu of %llu (%.3f%%), worst lateness %.2f ms, underruns %llu, dropped %llu, "
              "resyncs %llu\n",
              static_cast<unsigned long long>(late), static_cast<unsigned long long>(frames),
              frames ? 100.0 * static_cast<double>(late) / static_cast<double>(frames) : 0.0, max_late,
              static_cast<unsigned long long>(underruns), static_cast<unsigned long long>(dropped),
              static_cast<unsigned long long>(resyncs));
  std::printf("CPU: %.2f s over %.1f s (%.1f%% of one core), %.2f us per frame sent\n", cpu, elapsed,
              100.0 * cpu / elapsed, frames ? cpu * 1e6 / static_cast<double>(frames) : 0.0);
}

}  // namespace

int main(int argc, char** argv) {
  int playouts = 100;
  int threads = 2;
  double seconds = 10;
  // Our flags out, the rest to Google Benchmark.
  std::vector<char*> rest{argv[0]};
  for (int i = 1; i < argc; ++i) {
    const bool has_value = i + 1 < argc;
    if (std::strcmp(argv[i], "--playouts") == 0 && has_value)
      playouts = std::max(1, std::atoi(argv[++i]));
    else if (std::strcmp(argv[i], "--threads") == 0 && has_value)
      threads = std::max(1, std::atoi(argv[++i]));
    else if (std::strcmp(argv[i], "--seconds") == 0 && has_value)
      seconds = std::max(0.0, std::atof(argv[++i]));
    else
      rest.push_back(argv[i]);
  }
  int rest_count = static_cast<int>(rest.size());
  benchmark::Initialize(&rest_count, rest.data());
  if (benchmark::ReportUnrecognizedArguments(rest_count, rest.data())) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  if (seconds > 0) real_time_run(playouts, threads, seconds);
  return 0;
}
