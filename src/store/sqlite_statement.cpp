#include "store/sqlite_statement.hpp"

#include <sqlite3.h>

#include "npcl/store/store_error.hpp"

namespace npcl::store::detail {

namespace {

store_error to_error(int rc, const std::string& message) {
  int primary = rc & 0xFF;
  auto kind = primary == SQLITE_CONSTRAINT ? store_error_kind::conflict : store_error_kind::unavailable;
  return store_error(kind, "sqlite: " + message);
}

}  // namespace

sqlite_statement::sqlite_statement(sqlite3* db, std::string_view sql) : db_(db), stmt_(nullptr) {
  int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt_, nullptr);
  if (rc != SQLITE_OK) fail(rc, "prepare");
}

sqlite_statement::~sqlite_statement() { sqlite3_finalize(stmt_); }

sqlite_statement& sqlite_statement::bind(int index, std::string_view text) {
  int rc = sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  if (rc != SQLITE_OK) fail(rc, "bind");
  return *this;
}

sqlite_statement& sqlite_statement::bind(int index, std::int64_t value) {
  int rc = sqlite3_bind_int64(stmt_, index, value);
  if (rc != SQLITE_OK) fail(rc, "bind");
  return *this;
}

sqlite_statement& sqlite_statement::bind_null(int index) {
  int rc = sqlite3_bind_null(stmt_, index);
  if (rc != SQLITE_OK) fail(rc, "bind");
  return *this;
}

bool sqlite_statement::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  fail(rc, "step");
}

std::string sqlite_statement::text(int col) const {
  auto p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
  if (!p) return {};
  return std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)));
}

std::int64_t sqlite_statement::integer(int col) const { return sqlite3_column_int64(stmt_, col); }

int sqlite_statement::columns() const { return sqlite3_column_count(stmt_); }

bool sqlite_statement::is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

void sqlite_statement::fail(int rc, const char* what) const {
  throw to_error(rc, std::string(what) + ": " + sqlite3_errmsg(db_));
}

void sqlite_exec(sqlite3* db, const char* sql) {
  char* message = nullptr;
  int rc = sqlite3_exec(db, sql, nullptr, nullptr, &message);
  if (rc != SQLITE_OK) {
    std::string text = message ? message : sqlite3_errstr(rc);
    sqlite3_free(message);
    throw to_error(rc, text);
  }
}

}  // namespace npcl::store::detail
