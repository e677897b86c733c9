#pragma once
#include <chrono>
#include <mutex>
#include <string>

#include "store/sql_store.hpp"
#include "store/sqlite_connection.hpp"

namespace npcl::store::detail {

/// The embedded default: one SQLite file (WAL, synchronous=FULL) used through one connection.
/// Calls from many threads take turns on it; SQLite writes one transaction at a time anyway.
class sqlite_store final : public sql_store {
 public:
  /// Opens or creates the database at `path` and applies pending migrations.
  /// Throws store_error(unavailable) when the file cannot be opened or migrated.
  explicit sqlite_store(const std::string& path,
                        std::chrono::milliseconds busy_timeout = std::chrono::milliseconds{5000});

 protected:
  connection_lease acquire() override;

 private:
  std::mutex mutex_;         ///< held for the lifetime of a lease
  sqlite_connection db_;     ///< the one connection
};

}  // namespace npcl::store::detail
