#pragma once
// Runs a real daemon in-process against a fake_ari_server.
#include <atomic>
#include <chrono>
#include <filesystem>
#include <unistd.h>
#include <functional>
#include <thread>

#include <gtest/gtest.h>

#include "fakes/fake_ari_server.hpp"
#include "npcl/app/daemon.hpp"
#include "npcl/session/call_manager.hpp"
#include "npcl/config/settings.hpp"

namespace npcl::test {

using namespace std::chrono_literals;

/// Settings pointing at `fake`, with short deadlines and a private RTP range.
inline config::settings settings_for(const fakes::fake_ari_server& fake, std::uint16_t rtp_first = 42000) {
  config::settings s;
  s.ari.base_url = fake.base_url();
  s.ari.host = "127.0.0.1";
  s.ari.port = fake.port();
  s.ari.path_prefix = "/ari";
  s.ari.username = "asterisk";
  s.ari.password = "1234";
  s.ari.request_timeout = 2s;
  s.ari.connect_timeout = 2s;
  s.ari.reconnect_min = 50ms;
  s.ari.reconnect_max = 200ms;
  s.http.port = 0;
  s.media.rtp_port_min = rtp_first;
  s.media.rtp_port_max = static_cast<std::uint16_t>(rtp_first + 199);
  s.app.worker_threads = 2;
  s.app.shutdown_grace = 30s;
  s.session.assistant = false;  // call control and media only; the model has its own tests
  s.session.locales_dir = NPCL_SOURCE_DIR "/config/locales";
  // A private SQLite database per daemon run.
  static std::atomic<int> runs{0};
  s.store.data_dir = (std::filesystem::temp_directory_path() /
                      ("npcl-test-" + std::to_string(::getpid()) + "-" + std::to_string(runs++))).string();
  return s;
}

/// Polls `pred` until true or `timeout`; for daemon-side state the fake cannot see.
inline testing::AssertionResult eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout,
                                           const char* what) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return testing::AssertionSuccess();
    std::this_thread::yield();
    std::this_thread::sleep_for(5ms);  // polling interval, not synchronisation
  }
  return testing::AssertionFailure() << "timed out waiting for " << what;
}

/// A daemon on its own thread; the destructor drains it and checks it exited 0.
class running_daemon {
 public:
  explicit running_daemon(config::settings s) : data_dir_(s.store.data_dir), daemon_(std::move(s)) {
    thread_ = std::thread([this] { exit_code_ = daemon_.run(); done_ = true; });
    EXPECT_TRUE(eventually([this] { return daemon_.started() || done_.load(); }, 5s, "daemon start"));
  }
  ~running_daemon() {
    if (!done_) daemon_.request_shutdown();
    thread_.join();
    std::error_code ignored;
    if (data_dir_.find("npcl-test-") != std::string::npos) std::filesystem::remove_all(data_dir_, ignored);
  }
  app::daemon& operator*() { return daemon_; }
  app::daemon* operator->() { return &daemon_; }
  /// Waits for run() to return and gives its exit status (-1 on timeout).
  int wait_exit(std::chrono::milliseconds timeout) {
    if (!eventually([this] { return done_.load(); }, timeout, "daemon exit")) return -1;
    return exit_code_;
  }

 private:
  std::string data_dir_;  ///< the run's private database directory, removed afterwards
  app::daemon daemon_;
  std::atomic<bool> done_{false};
  int exit_code_ = -1;
  std::thread thread_;
};

}  // namespace npcl::test
