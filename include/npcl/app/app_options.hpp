#pragma once
#include <chrono>

namespace npcl::app {

/// Process-wide settings (WORKER_THREADS, SHUTDOWN_GRACE).
struct app_options {
  unsigned worker_threads = 0;             ///< WORKER_THREADS: event-loop threads (0: number of cores)
  std::chrono::seconds shutdown_grace{30}; ///< SHUTDOWN_GRACE: how long active calls may run after SIGTERM
};

}  // namespace npcl::app
