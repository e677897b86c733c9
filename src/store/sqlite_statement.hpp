#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace npcl::store::detail {

/// One prepared SQLite statement with positional parameters (?1, ?2 ...). Values only ever
/// reach SQL through bind(), never through the SQL text. Errors throw store_error:
/// `conflict` for a constraint violation, `unavailable` for anything else (busy, I/O, full).
class sqlite_statement {
 public:
  /// Prepares `sql` on `db`, which must outlive the statement.
  sqlite_statement(sqlite3* db, std::string_view sql);
  ~sqlite_statement();
  sqlite_statement(const sqlite_statement&) = delete;
  sqlite_statement& operator=(const sqlite_statement&) = delete;

  /// Binds parameter `index` (1-based); an empty optional binds NULL.
  sqlite_statement& bind(int index, std::string_view text);
  sqlite_statement& bind(int index, std::int64_t value);
  sqlite_statement& bind_null(int index);

  /// Runs one step; true when a result row is available.
  bool step();

  /// Number of columns in a result row.
  int columns() const;

  /// Column `col` (0-based) of the current row; NULL reads as "" or 0.
  std::string text(int col) const;
  std::int64_t integer(int col) const;
  bool is_null(int col) const;

 private:
  [[noreturn]] void fail(int rc, const char* what) const;

  sqlite3* db_;          ///< the connection, not owned
  sqlite3_stmt* stmt_;   ///< owned, finalised in the destructor
};

/// Runs SQL without parameters or results (pragmas, BEGIN, DDL scripts); throws like the statement.
void sqlite_exec(sqlite3* db, const char* sql);

}  // namespace npcl::store::detail
