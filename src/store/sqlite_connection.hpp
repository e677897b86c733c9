#pragma once
#include <chrono>
#include <string>

#include "store/sql_connection.hpp"

struct sqlite3;

namespace npcl::store::detail {

/// An open SQLite database file in WAL mode with synchronous=FULL (a committed complaint
/// survives a power cut), foreign keys on and a busy timeout for other processes' writes.
class sqlite_connection final : public sql_connection {
 public:
  /// Opens or creates `path`; throws store_error(unavailable) naming the path on failure.
  sqlite_connection(const std::string& path, std::chrono::milliseconds busy_timeout);
  ~sqlite_connection() override;
  sqlite_connection(const sqlite_connection&) = delete;
  sqlite_connection& operator=(const sqlite_connection&) = delete;

  std::vector<sql_row> query(std::string_view sql, const std::vector<sql_param>& params) override;
  void exec_script(std::string_view sql) override;
  /// IMMEDIATE takes the write lock at BEGIN, so two writers wait instead of deadlocking.
  const char* begin_write_sql() const override { return "BEGIN IMMEDIATE"; }

 private:
  sqlite3* db_{nullptr};  ///< owned handle
};

}  // namespace npcl::store::detail
