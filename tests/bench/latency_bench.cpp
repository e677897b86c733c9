// Latency the daemon adds to a call's audio, both directions, with many calls
// at once. The real daemon runs in-process against the fake Asterisk (ARI and
// one rtp_peer per call) and one fake OpenAI Realtime server, all on loopback:
//
//  - RTP in → append out: from the moment a peer's packet left its socket
//    (rtp_peer's send record) to the moment the fake Realtime server handled
//    the input_audio_buffer.append carrying that audio (its trace callback,
//    stamped with steady_clock). With REALTIME_APPEND_INTERVAL = 20 ms one
//    packet makes one append. Appends are matched to packets by content: each
//    caller streams its own noise, so every 20 ms payload is unique.
//  - Realtime delta in → RTP out: with the call's playout idle, from the fake
//    queueing the first audio delta of a response (trace callback) to the peer
//    reading the first RTP packet of that response, checked by content.
//
// Both include loopback sockets and the fakes' own threads; on a shared
// 2-core machine they also include scheduling delays of everything else
// running, which is why the load average is printed with the figures.
//
// Usage: npcl_bench_latency [--calls N] [--turns N] [--rtp-port P] [--fake-nagle]
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <numbers>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "app/daemon_harness.hpp"
#include "fakes/fake_realtime_server.hpp"
#include "fakes/rtp_peer.hpp"
#include "npcl/audio/g711.hpp"
#include "npcl/obs/log.hpp"
#include "realtime/base64.hpp"

namespace npcl::bench {
namespace {

using namespace std::chrono_literals;
using clock = std::chrono::steady_clock;
using json = nlohmann::json;

constexpr std::size_t samples_per_packet = 160;  // 20 ms at 8 kHz, μ-law
constexpr int turn_ms = 2000;                    // one caller turn: speech, then quiet while the answer plays
constexpr int speech_ms = 400;                   // voiced part of a turn, long enough for the fake's VAD
constexpr int answer_ms = 300;                   // assistant audio per response

/// What to run, from the command line.
struct bench_options {
  int calls = 100;                 ///< concurrent calls
  int turns = 8;                   ///< caller turns per call (each one answered)
  std::uint16_t rtp_first = 46000;  ///< first local RTP port of the daemon's range
  bool fake_nagle = false;          ///< leave Nagle's algorithm on in the fake Realtime server's sockets
};

/// Steady-clock stamps of the fake Realtime server's trace lines, in trace
/// order: the k-th "<-" line is received()[k], the k-th "->" line sent()[k].
class event_clock {
 public:
  /// The fake's trace hook; runs on its thread with its lock held, so it only stamps.
  void on_line(std::string_view line) {
    const auto now = clock::now();
    if (line.size() < 4) return;
    const bool in = line.starts_with("<- ");
    if (!in && !line.starts_with("-> ")) return;
    int connection = 0;
    std::from_chars(line.data() + 3, line.data() + line.size(), connection);
    std::lock_guard lk(mu_);
    (in ? received_ : sent_).push_back({connection, now});
  }

  /// One traced event: its connection (1 = first accepted) and when it was handled.
  struct stamp {
    int connection = 0;    ///< fake's connection number
    clock::time_point at;  ///< steady clock when the trace line was written
  };
  /// Stamps of client events received, in order.
  std::vector<stamp> received() const {
    std::lock_guard lk(mu_);
    return received_;
  }
  /// Stamps of server events queued for sending, in order.
  std::vector<stamp> sent() const {
    std::lock_guard lk(mu_);
    return sent_;
  }

 private:
  mutable std::mutex mu_;        ///< the trace runs on the fake's thread, the report on main
  std::vector<stamp> received_;  ///< one per "<-" line
  std::vector<stamp> sent_;      ///< one per "->" line
};

/// Latency samples of one direction (milliseconds) and how they were found.
struct direction {
  std::vector<double> ms;  ///< one per matched packet or response
  std::size_t unmatched = 0;  ///< events that could not be tied to their counterpart
};

double percentile(const std::vector<double>& sorted, double q) {
  return sorted[static_cast<std::size_t>(std::lround(q * static_cast<double>(sorted.size() - 1)))];
}

void print_direction(const char* name, direction d, const char* unmatched_what) {
  if (d.ms.empty()) {
    std::printf("%-32s no samples (%zu %s)\n", name, d.unmatched, unmatched_what);
    return;
  }
  std::sort(d.ms.begin(), d.ms.end());
  std::printf("%-32s %7zu samples  p50 %7.3f ms  p90 %7.3f ms  p99 %7.3f ms  max %8.3f ms  goal p99 < 2 ms: %s"
              "  (%zu %s)\n",
              name, d.ms.size(), percentile(d.ms, 0.5), percentile(d.ms, 0.9), percentile(d.ms, 0.99), d.ms.back(),
              percentile(d.ms, 0.99) < 2.0 ? "met" : "MISSED", d.unmatched, unmatched_what);
}

std::string load_average() {
  std::ifstream f("/proc/loadavg");
  std::string one, five, fifteen;
  f >> one >> five >> fifteen;
  return one + " " + five + " " + fifteen;
}

/// Machine-wide CPU time counters (clock ticks) from the first line of /proc/stat.
struct machine_cpu {
  double busy = 0;   ///< user, nice, system, irq, softirq: every process on the machine
  double idle = 0;   ///< idle and iowait
  double steal = 0;  ///< taken by the hypervisor for other guests

  /// The counters as they stand; all zero if /proc/stat cannot be read.
  static machine_cpu now() {
    std::ifstream f("/proc/stat");
    std::string cpu;
    double v[8] = {};
    f >> cpu;
    for (double& x : v) f >> x;
    return {v[0] + v[1] + v[2] + v[5] + v[6], v[3] + v[4], v[7]};
  }
};

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// Threads of this process, by kernel thread id.
std::set<int> thread_ids() {
  std::set<int> ids;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/task", ec)) {
    const auto name = entry.path().filename().string();
    int id = 0;
    if (std::from_chars(name.data(), name.data() + name.size(), id).ec == std::errc()) ids.insert(id);
  }
  return ids;
}

// CPU time (user + system) one thread has used so far, in seconds; 0 once it is gone.
double thread_cpu_seconds(int tid) {
  std::ifstream f("/proc/self/task/" + std::to_string(tid) + "/stat");
  std::string stat;
  std::getline(f, stat);
  // Fields after the parenthesised name: state is field 3, utime 14, stime 15.
  const auto close = stat.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream rest(stat.substr(close + 2));
  std::string field;
  double ticks = 0;
  for (int n = 3; n <= 15 && rest >> field; ++n)
    if (n >= 14) ticks += std::stod(field);
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

/// The threads of one component of the run (the daemon, a fake), told apart
/// by when they appeared, so that the CPU each one used can be reported.
struct component {
  std::string name;      ///< what runs on these threads
  std::set<int> tids;    ///< kernel thread ids
  std::map<int, double> start;  ///< CPU seconds of each thread when streaming began

  /// Starts the measurement window: remembers each thread's CPU time so far.
  void mark() {
    for (int t : tids) start[t] = thread_cpu_seconds(t);
  }
  /// Total CPU seconds since mark(), and the busiest single thread's share.
  std::pair<double, double> used() const {
    double total = 0, busiest = 0;
    for (int t : tids) {
      const auto it = start.find(t);
      const double d = thread_cpu_seconds(t) - (it == start.end() ? 0 : it->second);
      total += d;
      busiest = std::max(busiest, d);
    }
    return {total, busiest};
  }
};

std::set<int> new_threads(const std::set<int>& before) {
  std::set<int> out;
  for (int t : thread_ids())
    if (!before.count(t)) out.insert(t);
  return out;
}

// A μ-law payload as linear PCM bytes: the daemon decodes and re-encodes, and
// 0x7F and 0xFF (both zero) may swap on the way, so payloads compare decoded.
std::string audio_key(std::span<const std::uint8_t> ulaw) {
  std::vector<std::int16_t> pcm(ulaw.size());
  audio::ulaw_decode(ulaw, pcm);
  return {reinterpret_cast<const char*>(pcm.data()), pcm.size() * sizeof(std::int16_t)};
}

// One caller's stream: a quiet lead-in that staggers the turns of different
// calls, then `turns` × (speech, quiet). Noise under everything (seeded per
// call) makes every packet's payload unique; the quiet parts stay below the
// fake's VAD threshold.
std::vector<std::int16_t> caller_signal(int call, int turns) {
  std::mt19937 rng(static_cast<std::uint32_t>(7919 * (call + 1)));
  std::uniform_int_distribution<int> noise(-200, 200);
  const int lead_ms = (call % 10) * (turn_ms / 10);
  const auto total = static_cast<std::size_t>(8 * (lead_ms + turns * turn_ms));
  std::vector<std::int16_t> pcm(total);
  for (std::size_t i = 0; i < total; ++i) {
    const long ms = static_cast<long>(i / 8) - lead_ms;
    double v = noise(rng);
    if (ms >= 0 && ms % turn_ms < speech_ms) {
      const double t = static_cast<double>(i) / 8000;
      v += 6000 * std::sin(2 * std::numbers::pi * 220 * t) * (0.6 + 0.4 * std::sin(2 * std::numbers::pi * 4 * t));
    }
    pcm[i] = static_cast<std::int16_t>(v);
  }
  return pcm;
}

// What the peer sends for `pcm`, packet by packet, keyed by decoded audio.
void index_packets(const std::vector<std::int16_t>& pcm, int call,
                   std::unordered_map<std::string, std::pair<int, std::size_t>>& index, std::set<std::string>& ambiguous) {
  std::vector<std::uint8_t> ulaw(samples_per_packet);
  for (std::size_t at = 0, k = 0; at + samples_per_packet <= pcm.size(); at += samples_per_packet, ++k) {
    audio::ulaw_encode(std::span(pcm).subspan(at, samples_per_packet), ulaw);
    auto key = audio_key(ulaw);
    if (!index.emplace(key, std::pair(call, k)).second) ambiguous.insert(std::move(key));
  }
}

// Decoded audio of a client or server event's base64 field; empty if absent.
std::vector<std::uint8_t> audio_of(const std::string& raw, const char* field) {
  std::vector<std::uint8_t> bytes;
  const json ev = json::parse(raw, nullptr, false);
  if (ev.is_discarded() || !ev.contains(field) || !ev[field].is_string()) return bytes;
  if (!realtime::detail::base64_decode(ev[field].get<std::string>(), bytes)) bytes.clear();
  return bytes;
}

direction rtp_to_append(const fakes::fake_realtime_server& rt, const event_clock& stamps,
                        const std::vector<std::unique_ptr<fakes::rtp_peer>>& peers,
                        const std::unordered_map<std::string, std::pair<int, std::size_t>>& index,
                        const std::set<std::string>& ambiguous) {
  direction d;
  const auto events = rt.received();
  const auto at = stamps.received();
  std::vector<std::vector<fakes::rtp_peer_sent>> sent;
  for (const auto& p : peers) sent.push_back(p->sent());
  for (std::size_t k = 0; k < events.size() && k < at.size(); ++k) {
    if (events[k].type != "input_audio_buffer.append") continue;
    const auto key = audio_key(audio_of(events[k].raw, "audio"));
    auto hit = index.find(key);
    if (hit == index.end() || ambiguous.count(key) || hit->second.second >= sent[hit->second.first].size()) {
      ++d.unmatched;
      continue;
    }
    const auto left = sent[hit->second.first][hit->second.second].at;
    d.ms.push_back(std::chrono::duration<double, std::milli>(at[k].at - left).count());
  }
  return d;
}

// Answers to caller turns only: responses whose first delta went out after `from`.
direction delta_to_rtp(const fakes::fake_realtime_server& rt, const event_clock& stamps,
                       const std::vector<std::unique_ptr<fakes::rtp_peer>>& peers, clock::time_point from) {
  direction d;
  const auto events = rt.sent();
  const auto at = stamps.sent();
  std::vector<std::vector<fakes::rtp_peer_packet>> heard;
  for (const auto& p : peers) heard.push_back(p->received());
  std::set<std::string> responses;
  for (std::size_t k = 0; k < events.size() && k < at.size(); ++k) {
    if (at[k].at < from || events[k].find("\"response.output_audio.delta\"") == std::string::npos) continue;
    const json ev = json::parse(events[k], nullptr, false);
    if (ev.is_discarded() || ev.value("type", "") != "response.output_audio.delta") continue;
    if (!responses.insert(ev.value("response_id", "")).second) continue;  // not the first delta
    // Connections were opened one call at a time, so connection n is call n - 1.
    const auto call = static_cast<std::size_t>(at[k].connection - 1);
    const auto delta = audio_of(events[k], "delta");
    if (call >= heard.size() || delta.size() < samples_per_packet) {
      ++d.unmatched;
      continue;
    }
    const auto& packets = heard[call];
    auto first = std::find_if(packets.begin(), packets.end(),
                              [&](const fakes::rtp_peer_packet& p) { return p.is_rtp && p.arrival >= at[k].at; });
    if (first == packets.end() ||
        audio_key(first->payload) != audio_key(std::span(delta).first(samples_per_packet))) {
      ++d.unmatched;
      continue;
    }
    d.ms.push_back(std::chrono::duration<double, std::milli>(first->arrival - at[k].at).count());
  }
  return d;
}

// The fake Realtime server leaves Nagle's algorithm on: a delta written while
// the previous event is unacknowledged waits for the daemon's (delayed) ACK,
// up to 40 ms, which is the fake's sending and not the daemon's work. The fake
// has no option for it, so its sockets (found by their local port among this
// process's descriptors) get TCP_NODELAY from here. Returns how many.
int disable_nagle_on_port(std::uint16_t port) {
  int count = 0;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd", ec)) {
    int fd = -1;
    const auto name = entry.path().filename().string();
    if (std::from_chars(name.data(), name.data() + name.size(), fd).ec != std::errc()) continue;
    sockaddr_in local{};
    socklen_t len = sizeof local;
    int type = 0;
    socklen_t type_len = sizeof type;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) != 0 || local.sin_family != AF_INET ||
        ntohs(local.sin_port) != port || getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &type_len) != 0 ||
        type != SOCK_STREAM)
      continue;
    const int one = 1;
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == 0) ++count;
  }
  return count;
}

bool parse_args(int argc, char** argv, bench_options& o) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--fake-nagle") {
      o.fake_nagle = true;
      continue;
    }
    if (i + 1 >= argc) return false;
    const std::string_view v = argv[++i];
    int n = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec != std::errc() || end != v.data() + v.size() || n < 1) return false;
    if (a == "--calls" && n <= 190) {
      o.calls = n;
    } else if (a == "--turns") {
      o.turns = n;
    } else if (a == "--rtp-port" && n >= 1024 && n <= 65000) {
      o.rtp_first = static_cast<std::uint16_t>(n);
    } else {
      return false;
    }
  }
  return true;
}

int fail(const char* what, const testing::AssertionResult& r) {
  std::fprintf(stderr, "npcl_bench_latency: %s: %s\n", what, r.message());
  return 2;
}

int run(const bench_options& o) {
  std::printf("npcl_bench_latency: %d calls, %d turns each, load average before: %s\n", o.calls, o.turns,
              load_average().c_str());
  event_clock stamps;
  fakes::fake_realtime_options ro;
  ro.trace = [&stamps](std::string_view line) { stamps.on_line(line); };
  auto seen = thread_ids();
  fakes::fake_realtime_server rt(ro);
  rt.set_default_response({fakes::fake_realtime_server::tone(answer_ms, 440), "Hello.", {}, {}});
  component fake_rt{"fake Realtime server", new_threads(seen), {}};
  seen = thread_ids();
  fakes::fake_ari_server ari;
  component fake_ari{"fake ARI server", new_threads(seen), {}};
  component rtp_peers{"rtp_peer x calls", {}, {}};

  auto s = test::settings_for(ari, o.rtp_first);
  s.log.level = "warn";  // per-call lines would be most of the output
  obs::init_logging(s.log);
  s.session.assistant = true;
  s.session.vad_silence = 300ms;
  s.realtime.url = rt.url();
  s.realtime.service.api_key = ro.api_key;
  s.realtime.append_interval = 20ms;
  seen = thread_ids();
  test::running_daemon d(std::move(s));
  if (!d->started()) return fail("daemon start", testing::AssertionFailure() << "did not start");
  seen.insert(static_cast<int>(gettid()));
  if (auto r = ari.wait_for_events_connection(5s); !r) return fail("ARI events", r);

  std::vector<std::unique_ptr<fakes::rtp_peer>> peers;
  std::vector<std::string> callers;
  for (int i = 0; i < o.calls; ++i) {
    fakes::rtp_peer_options po;
    po.seed = static_cast<std::uint32_t>(i + 1);
    const auto before_peer = thread_ids();
    peers.push_back(std::make_unique<fakes::rtp_peer>(po));
    rtp_peers.tids.merge(new_threads(before_peer));
    ari.set_unicastrtp_port(peers.back()->port());
    const auto before = ari.requests().size();
    callers.push_back(ari.place_call("55530" + std::to_string(100 + i), "Bench"));
    if (auto r = ari.wait_for_bridged(callers.back(), 10s); !r) return fail("call set-up", r);
    const auto requests = ari.requests();
    for (std::size_t r = before; r < requests.size(); ++r)
      if (requests[r].path == "/channels/externalMedia") {
        const auto& host = requests[r].query.at("external_host");
        peers.back()->set_target(static_cast<std::uint16_t>(std::stoi(host.substr(host.rfind(':') + 1))));
      }
    // One call at a time, so that connection i + 1 of the fake belongs to call i.
    if (auto r = rt.wait_for_connections(i + 1, 10s); !r) return fail("Realtime connection", r);
  }
  // Every connection is open now; the greetings' deltas come after this.
  const int nodelay = o.fake_nagle ? 0 : disable_nagle_on_port(rt.port());
  // The greeting is every call's first answer; it must be over before the caller speaks.
  for (auto& p : peers)
    if (auto r = p->wait_for_received(answer_ms / 20, 20s); !r) return fail("greeting", r);

  // Whatever appeared since the daemon was built and is not a peer is the daemon's.
  component daemon{"daemon (all its threads)", {}, {}};
  for (int t : new_threads(seen))
    if (!rtp_peers.tids.count(t)) daemon.tids.insert(t);
  std::vector<component*> parts{&daemon, &fake_rt, &fake_ari, &rtp_peers};
  for (auto* c : parts) c->mark();
  std::unordered_map<std::string, std::pair<int, std::size_t>> index;
  std::set<std::string> ambiguous;
  const auto cpu0 = cpu_seconds();
  const auto machine0 = machine_cpu::now();
  const auto t0 = clock::now();
  for (int i = 0; i < o.calls; ++i) {
    auto pcm = caller_signal(i, o.turns);
    index_packets(pcm, i, index, ambiguous);
    // Spread the calls' packet phases over the 20 ms tick, as independent
    // phones would be; this is a start schedule, not a wait for anything.
    std::this_thread::sleep_until(t0 + 20ms * i / o.calls);
    peers[static_cast<std::size_t>(i)]->play(std::move(pcm));
  }
  const auto stream_ms = std::chrono::milliseconds(turn_ms * (o.turns + 1));
  for (auto& p : peers)
    if (auto r = p->wait_for_played(stream_ms + 10s); !r) return fail("caller audio", r);
  const int answers = o.calls * (o.turns + 1);
  auto answered = rt.wait_for_sent("response.done", 10s, answers);
  const double wall = std::chrono::duration<double>(clock::now() - t0).count();
  const double cpu = cpu_seconds() - cpu0;
  const auto machine1 = machine_cpu::now();
  std::vector<std::pair<double, double>> cpu_of;
  for (auto* c : parts) cpu_of.push_back(c->used());
  const auto load_after = load_average();

  auto in = rtp_to_append(rt, stamps, peers, index, ambiguous);
  auto out = delta_to_rtp(rt, stamps, peers, t0);
  const auto handshakes = rt.handshakes().size();
  for (auto& c : callers) ari.caller_hangup(c);
  ari.wait_for_idle(20s);

  std::printf("load average after: %s; process CPU %.1f s over %.1f s of streaming (%.0f %% of one core)\n",
              load_after.c_str(), cpu, wall, 100 * cpu / wall);
  {
    const double busy = machine1.busy - machine0.busy, steal = machine1.steal - machine0.steal;
    const double total = busy + steal + machine1.idle - machine0.idle;
    const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
    std::printf("machine: %ld cores, %.0f %% busy (this process: %.0f %% of that), %.1f %% stolen by the hypervisor\n",
                sysconf(_SC_NPROCESSORS_ONLN), 100 * busy / total, 100 * cpu * ticks / busy, 100 * steal / total);
  }
  for (std::size_t i = 0; i < parts.size(); ++i)
    std::printf("  CPU %-26s %6.2f s (%5.1f %% of one core; %2zu threads, busiest %5.1f %%)\n", parts[i]->name.c_str(),
                cpu_of[i].first, 100 * cpu_of[i].first / wall, parts[i]->tids.size(), 100 * cpu_of[i].second / wall);
  std::printf("fake Realtime sockets with Nagle disabled: %d%s\n", nodelay,
              o.fake_nagle ? " (--fake-nagle: delta -> RTP includes the fake's Nagle wait)" : "");
  std::printf("Realtime connections: %zu for %d calls%s; answers: %s\n", handshakes, o.calls,
              handshakes == static_cast<std::size_t>(o.calls) ? "" : " (reconnects: the delta→RTP pairing is off)",
              answered ? "all" : answered.message());
  print_direction("RTP in -> append out:", std::move(in), "appends not matched to a packet");
  print_direction("Realtime delta in -> RTP out:", std::move(out), "responses without a matching first packet");
  return 0;
}

}  // namespace
}  // namespace npcl::bench

int main(int argc, char** argv) {
  npcl::bench::bench_options o;
  if (!npcl::bench::parse_args(argc, argv, o)) {
    std::fprintf(stderr, "usage: %s [--calls N (1..190)] [--turns N] [--rtp-port P] [--fake-nagle]\n", argv[0]);
    return 64;
  }
  return npcl::bench::run(o);
}
