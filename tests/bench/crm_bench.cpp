// Time from a tool call to its output with TOOL_BACKEND=http, against the fake CRM on
// loopback, plain HTTP and HTTPS: what the CRM back-end itself adds (a connection per call,
// TLS handshake, signing, reply checks), with the CRM answering at once.
//
// Calls run through the real tools::registry on an event loop of two threads, one strand per
// simulated phone call, `--concurrency` calls in flight at a time. Loopback has no network
// delay, so the figures are the daemon's and the fake's CPU work and scheduling; on a real
// network add about three round trips (TCP, TLS 1.3, request) per call.
//
// Usage: npcl_bench_crm [--calls N] [--concurrency N]
#include <sys/resource.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "fakes/fake_crm_server.hpp"
#include "npcl/obs/log.hpp"
#include "npcl/obs/metrics.hpp"
#include "npcl/tools/crm_tools.hpp"
#include "npcl/tools/registry.hpp"

namespace {

namespace net = boost::asio;
using clock_type = std::chrono::steady_clock;

class no_actions final : public npcl::tools::call_actions {
 public:
  void end_call_after_speech(std::string) override {}
  void transfer_after_speech(std::string) override {}
  void set_language(std::string) override {}
  std::string call_id() const override { return "00000000-0000-4000-8000-000000000000"; }
};

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string one;
  in >> one;
  return one;
}

void run(bool tls, int calls, int concurrency) {
  npcl::fakes::fake_crm_server crm(npcl::fakes::fake_crm_options{"npcl-bench-crm-signing-key", tls});
  crm.set_default_reply({200, "application/json",
                         R"({"consumer_number":"9990000001","billing_period":"2026-10","amount_rupees":"2417.30",)"
                         R"("amount_spoken":"2417 rupees 30 paise","due_date":"2026-11-20","status":"unpaid"})"});
  net::io_context io;
  auto work = net::make_work_guard(io);
  std::vector<std::thread> loop;
  for (int i = 0; i < 2; ++i) loop.emplace_back([&io] { io.run(); });
  net::thread_pool pool(1);
  npcl::obs::metrics_registry metrics;
  npcl::tools::registry tools(pool, std::chrono::seconds(5), metrics);
  npcl::tools::tools_options o;
  o.backend = npcl::tools::tool_backend::http;
  o.endpoint = {tls, "127.0.0.1", crm.port(), "/npcl/tools"};
  o.secret = crm.secret();
  o.ca_file = crm.ca_file();
  npcl::tools::add_crm_tools(tools, o, metrics);

  no_actions actions;
  std::mutex m;
  std::condition_variable cv;
  std::vector<double> ms;
  int failed = 0, in_flight = 0, started = 0;
  std::vector<npcl::executor> strands;
  for (int i = 0; i < concurrency; ++i) strands.push_back(net::make_strand(io));

  const auto begin = clock_type::now();
  std::unique_lock lock(m);
  while (started < calls) {
    cv.wait(lock, [&] { return in_flight < concurrency; });
    const auto t0 = clock_type::now();
    ++in_flight;
    auto strand = strands[static_cast<std::size_t>(started % concurrency)];
    ++started;
    lock.unlock();
    tools.invoke({"bench", "get_bill_summary", R"({"consumer_number":"9990000001"})"}, actions, strand,
                 [&, t0](npcl::tools::tool_result r) {
                   std::lock_guard g(m);
                   ms.push_back(std::chrono::duration<double, std::milli>(clock_type::now() - t0).count());
                   if (!r.ok) ++failed;
                   --in_flight;
                   cv.notify_all();
                 });
    lock.lock();
  }
  cv.wait(lock, [&] { return in_flight == 0; });
  const double wall = std::chrono::duration<double>(clock_type::now() - begin).count();
  lock.unlock();
  std::printf("| %s | %d | %d | %.2f ms | %.2f ms | %.2f ms | %.2f ms | %.0f | %d |\n", tls ? "https" : "http", calls,
              concurrency, percentile(ms, 0.5), percentile(ms, 0.9), percentile(ms, 0.99), percentile(ms, 1.0),
              calls / wall, failed);
  work.reset();
  io.stop();
  for (auto& t : loop) t.join();
  pool.join();
}

}  // namespace

int main(int argc, char** argv) {
  int calls = 2000;
  int concurrency = 8;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--calls") == 0) calls = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--concurrency") == 0) concurrency = std::atoi(argv[i + 1]);
  }
  if (calls <= 0 || concurrency <= 0) {
    std::fprintf(stderr, "usage: npcl_bench_crm [--calls N] [--concurrency N]\n");
    return 2;
  }
  spdlog::set_level(spdlog::level::warn);
  std::printf("load average at start: %s\n\n", load_average().c_str());
  std::printf("| scheme | calls | in flight | p50 | p90 | p99 | max | calls/s | failed |\n|---|---|---|---|---|---|---|---|---|\n");
  for (int c : {1, concurrency}) {
    run(false, calls, c);
    run(true, calls, c);
  }
  std::printf("\nload average at end: %s\n", load_average().c_str());
  return 0;
}
