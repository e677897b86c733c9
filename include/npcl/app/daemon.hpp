#pragma once
#include <cstdint>
#include <memory>

#include "npcl/config/settings.hpp"

namespace npcl::session {
class call_manager;
}

namespace npcl::app {

/// The whole daemon: one io_context on WORKER_THREADS threads hosting the ARI
/// clients, the call manager, media endpoints and the HTTP listener.
/// SIGTERM/SIGINT (or request_shutdown()) drains: new calls are refused,
/// active calls may run SHUTDOWN_GRACE, then are hung up; run() returns 0 once
/// every call is torn down. Under systemd it sends READY=1, STOPPING=1 and
/// watchdog pings.
class daemon {
 public:
  explicit daemon(config::settings settings);
  ~daemon();
  daemon(const daemon&) = delete;
  daemon& operator=(const daemon&) = delete;

  /// Runs until shutdown completes; returns the process exit status
  /// (0 after a clean drain, 1 when start-up failed, e.g. HTTP port taken).
  int run();
  /// Starts the drain, as SIGTERM does. Thread-safe; a second call ends every
  /// call at once.
  void request_shutdown();
  /// The bound HTTP port, once run() has started listening (0 before).
  std::uint16_t http_port() const;
  /// True once run() has started every component (any thread).
  bool started() const;
  /// The call manager (for tests and the HTTP API).
  session::call_manager& calls();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace npcl::app
