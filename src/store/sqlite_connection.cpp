#include "store/sqlite_connection.hpp"

#include <sqlite3.h>

#include "npcl/store/store_error.hpp"
#include "store/sqlite_statement.hpp"

namespace npcl::store::detail {

namespace {

// SQLite numbers parameters ?1, ?2 ...; the shared SQL writes them $1, $2 ...
std::string positional(std::string_view sql) {
  std::string out(sql);
  for (std::size_t i = 0; i + 1 < out.size(); ++i) {
    if (out[i] == '$' && out[i + 1] >= '0' && out[i + 1] <= '9') out[i] = '?';
  }
  return out;
}

}  // namespace

sqlite_connection::sqlite_connection(const std::string& path, std::chrono::milliseconds busy_timeout) {
  int rc = sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                           nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close(db_);
    db_ = nullptr;
    throw store_error(store_error_kind::unavailable, "sqlite: cannot open " + path + ": " + message);
  }
  try {
    sqlite3_busy_timeout(db_, static_cast<int>(busy_timeout.count()));
    sqlite3_extended_result_codes(db_, 1);
    // Switching a new file to WAL needs it to itself, and SQLite reports "database is
    // locked" at once, without its busy handler, while another process opening the same
    // file does the same: several daemons starting together would fail. Keep trying for
    // as long as a busy database is waited for anyway.
    const auto give_up = std::chrono::steady_clock::now() + busy_timeout;
    for (int rc = sqlite3_exec(db_, "PRAGMA journal_mode = WAL", nullptr, nullptr, nullptr);
         rc != SQLITE_OK; rc = sqlite3_exec(db_, "PRAGMA journal_mode = WAL", nullptr, nullptr, nullptr)) {
      if ((rc & 0xff) != SQLITE_BUSY || std::chrono::steady_clock::now() >= give_up)
        sqlite_exec(db_, "PRAGMA journal_mode = WAL");  // throws with SQLite's own message
      sqlite3_sleep(5);
    }
    sqlite_exec(db_, "PRAGMA synchronous = FULL");
    sqlite_exec(db_, "PRAGMA foreign_keys = ON");
  } catch (...) {
    sqlite3_close(db_);
    throw;
  }
}

sqlite_connection::~sqlite_connection() { sqlite3_close(db_); }

std::vector<sql_row> sqlite_connection::query(std::string_view sql, const std::vector<sql_param>& params) {
  sqlite_statement stmt(db_, positional(sql));
  for (std::size_t i = 0; i < params.size(); ++i) {
    int index = static_cast<int>(i + 1);
    std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, std::nullptr_t>) {
            stmt.bind_null(index);
          } else {
            stmt.bind(index, v);
          }
        },
        params[i]);
  }
  std::vector<sql_row> rows;
  while (stmt.step()) {
    sql_row row;
    for (int col = 0, n = stmt.columns(); col < n; ++col) {
      if (stmt.is_null(col)) {
        row.emplace_back();
      } else {
        row.emplace_back(stmt.text(col));
      }
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

void sqlite_connection::exec_script(std::string_view sql) { sqlite_exec(db_, std::string(sql).c_str()); }

}  // namespace npcl::store::detail
