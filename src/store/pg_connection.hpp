#pragma once
#include <chrono>
#include <string>

#include "store/sql_connection.hpp"

struct pg_conn;

namespace npcl::store::detail {

/// One libpq connection. Parameters travel separately from the SQL text (PQexecParams), in
/// text form. TCP keep-alives and a user timeout stop a dead server from hanging a worker.
class pg_connection final : public sql_connection {
 public:
  /// Connects to `url` (a libpq URI). Throws store_error(unavailable) with libpq's reason,
  /// which never contains the password.
  pg_connection(const std::string& url, std::chrono::seconds connect_timeout);
  ~pg_connection() override;
  pg_connection(const pg_connection&) = delete;
  pg_connection& operator=(const pg_connection&) = delete;

  std::vector<sql_row> query(std::string_view sql, const std::vector<sql_param>& params) override;
  void exec_script(std::string_view sql) override;
  const char* begin_write_sql() const override { return "BEGIN"; }

  /// False once the connection was lost; the pool then drops it instead of reusing it.
  bool healthy() const;

 private:
  pg_conn* conn_{nullptr};  ///< owned libpq handle (PGconn)
};

}  // namespace npcl::store::detail
