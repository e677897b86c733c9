#pragma once
// The two databases the store suite runs against, each giving every test a fresh, empty one.
#include <filesystem>
#include <string>

namespace npcl::store::test {

/// SQLite in a new temporary DATA_DIR, removed afterwards.
class sqlite_backend {
 public:
  static constexpr const char* name = "sqlite";
  sqlite_backend();
  ~sqlite_backend();
  /// Empty when the backend can be used; otherwise why not (the test then skips or fails).
  std::string prepare() { return {}; }
  std::string url() const { return {}; }
  std::string data_dir() const { return dir_.string(); }

 private:
  std::filesystem::path dir_;  ///< this test's DATA_DIR
};

/// A new database on the server named by NPCL_TEST_PG_URL, dropped afterwards.
class postgres_backend {
 public:
  static constexpr const char* name = "postgres";
  postgres_backend() = default;
  ~postgres_backend();
  /// Creates the database; returns why it could not (unset URL, server down).
  std::string prepare();
  std::string url() const { return url_; }
  std::string data_dir() const { return {}; }
  /// Has the server end every session on the test database, as a server restart or a
  /// failover does. Returns an error message, empty on success.
  std::string drop_connections();

 private:
  std::string admin_url_;  ///< NPCL_TEST_PG_URL, used to create and drop the test database
  std::string database_;   ///< name of this test's database, empty until created
  std::string url_;        ///< admin_url_ pointing at database_
};

/// True when the suite runs in CI (CI=true), where a missing PostgreSQL is a failure, not a skip.
bool in_ci();

}  // namespace npcl::store::test
