// fake_ari_server: a stand-in Asterisk to watch the daemon handle calls by hand.
//   fake_ari_server --port 8088 --user asterisk --password 1234 --app openai-voice-assistant
//                   --calls 1 --call-length 10s
// Waits for the daemon's events socket, places the calls one after another (each hung up by
// the caller after --call-length, 0 = never), prints every request, reply and event as one
// line, and exits on SIGINT/SIGTERM.
#include <atomic>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>

#include <CLI/CLI.hpp>

#include "fakes/fake_ari_server.hpp"

namespace {

volatile std::sig_atomic_t g_stop = 0;  // set by SIGINT/SIGTERM
void on_signal(int) { g_stop = 1; }

// "10s", "1500ms", "2m", "0": a duration in milliseconds, or -1 if unreadable.
long long parse_duration_ms(const std::string& text) {
  std::size_t used = 0;
  long long value = 0;
  try {
    value = std::stoll(text, &used);
  } catch (...) {
    return -1;
  }
  const std::string unit = text.substr(used);
  if (value < 0) return -1;
  if (unit.empty() || unit == "s") return value * 1000;
  if (unit == "ms") return value;
  if (unit == "m") return value * 60000;
  return -1;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace std::chrono_literals;
  npcl::fakes::fake_ari_options opts;
  int calls = 1;
  std::string call_length = "10s";
  std::string caller = "5551000";
  CLI::App cli{"Fake Asterisk ARI server that places test calls to the daemon"};
  cli.add_option("--port", opts.port, "TCP port on 127.0.0.1 (0 = any)")->capture_default_str();
  cli.add_option("--user", opts.username, "ARI user")->capture_default_str();
  cli.add_option("--password", opts.password, "ARI password")->capture_default_str();
  cli.add_option("--app", opts.app, "Stasis application extension 1000 runs")->capture_default_str();
  cli.add_option("--calls", calls, "number of calls to place, one after another")->capture_default_str();
  cli.add_option("--call-length", call_length, "caller hangs up after this long (10s, 500ms, 0 = never)")
      ->capture_default_str();
  cli.add_option("--caller", caller, "caller number")->capture_default_str();
  CLI11_PARSE(cli, argc, argv);
  const long long length_ms = parse_duration_ms(call_length);
  if (length_ms < 0) {
    std::cerr << "--call-length: cannot read '" << call_length << "' (use e.g. 10s, 500ms, 0)\n";
    return 2;
  }

  std::mutex out_mu;
  const auto say = [&](std::string_view line) {
    std::lock_guard lk(out_mu);
    std::cout << line << std::endl;
  };
  opts.trace = say;
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);

  try {
    npcl::fakes::fake_ari_server server(opts);
    say("listening on " + server.base_url() + " (user " + opts.username + ", app " + opts.app + ")");
    for (int n = 1; n <= calls && !g_stop; ++n) {
      say("call " + std::to_string(n) + ": waiting for the daemon's events socket");
      while (!g_stop && !server.wait_for_events_connection(200ms)) {
      }
      std::string id;
      while (!g_stop && (id = server.place_call(caller)).empty()) server.wait_for_events_connection(200ms);
      if (g_stop) break;
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(length_ms);
      bool gone = false;
      while (!g_stop && !gone && (length_ms == 0 || std::chrono::steady_clock::now() < deadline))
        gone = static_cast<bool>(server.wait_for_channel_gone(id, 200ms));
      if (!gone && !g_stop) server.caller_hangup(id);
      while (!g_stop && !server.wait_for_idle(200ms)) {
      }
      say("call " + std::to_string(n) + ": finished");
    }
    if (!g_stop) say("all calls done; serving until SIGINT/SIGTERM");
    while (!g_stop) std::this_thread::sleep_for(200ms);
    say("stopping");
  } catch (const std::exception& e) {
    std::cerr << "fake_ari_server: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
