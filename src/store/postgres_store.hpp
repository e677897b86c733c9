#pragma once
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "store/pg_connection.hpp"
#include "store/sql_store.hpp"

namespace npcl::store::detail {

/// PostgreSQL through libpq, for several daemons sharing one record. A small pool of
/// connections, opened on demand and guarded by a mutex; a lost connection is dropped and a
/// new one opened by the next call.
class postgres_store final : public sql_store {
 public:
  /// Connects, then applies pending migrations under an advisory lock so daemons starting
  /// together take turns. Throws store_error(unavailable) when the server cannot be reached.
  explicit postgres_store(const std::string& url, std::size_t pool_size = 4,
                          std::chrono::milliseconds acquire_timeout = std::chrono::milliseconds{10000},
                          std::chrono::seconds connect_timeout = std::chrono::seconds{5});

 protected:
  /// Waits up to the acquire timeout for a free connection; throws store_error(unavailable).
  connection_lease acquire() override;

 private:
  void release(pg_connection* connection) noexcept;

  std::string url_;                                   ///< libpq URI, holds the password
  std::size_t pool_size_;                             ///< most connections open at once
  std::chrono::milliseconds acquire_timeout_;         ///< longest wait for a free connection
  std::chrono::seconds connect_timeout_;              ///< longest wait to open one
  std::mutex mutex_;                                  ///< guards idle_ and open_
  std::condition_variable released_;                  ///< signalled when a connection frees up
  std::vector<std::unique_ptr<pg_connection>> idle_;  ///< open and not leased
  std::size_t open_{0};                               ///< idle plus leased connections
};

/// `url` with its user-info replaced by "***", fit for logs.
std::string redacted_url(const std::string& url);

}  // namespace npcl::store::detail
