#include "store/store_backends.hpp"

#include <libpq-fe.h>

#include <cstdlib>
#include <random>

namespace npcl::store::test {

namespace {

std::string random_suffix() {
  std::random_device rd;
  std::uniform_int_distribution<unsigned long long> dist;
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", dist(rd));
  return buf;
}

// Runs one administrative statement; the names in it are generated hex, never input.
std::string admin(const std::string& url, const std::string& sql) {
  PGconn* conn = PQconnectdb(url.c_str());
  std::string error;
  if (PQstatus(conn) != CONNECTION_OK) {
    error = PQerrorMessage(conn);
  } else {
    PGresult* res = PQexec(conn, sql.c_str());
    if (PQresultStatus(res) != PGRES_COMMAND_OK) error = PQresultErrorMessage(res);
    PQclear(res);
  }
  PQfinish(conn);
  return error;
}

// The URL with its database path replaced: postgres://u:p@h:port/<database>?params
std::string with_database(const std::string& url, const std::string& database) {
  auto authority = url.find("://");
  auto slash = url.find('/', authority + 3);
  auto query = url.find('?', authority + 3);
  std::string head = url.substr(0, std::min(slash, query));
  std::string tail = query == std::string::npos ? "" : url.substr(query);
  return head + "/" + database + tail;
}

}  // namespace

bool in_ci() {
  const char* ci = std::getenv("CI");
  return ci && std::string(ci) == "true";
}

sqlite_backend::sqlite_backend()
    : dir_(std::filesystem::temp_directory_path() / ("npcl-store-test-" + random_suffix())) {}

sqlite_backend::~sqlite_backend() {
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::string postgres_backend::prepare() {
  const char* url = std::getenv("NPCL_TEST_PG_URL");
  if (!url || !*url) {
    return "NPCL_TEST_PG_URL is not set: start a server with scripts/postgres-test and export its URL";
  }
  admin_url_ = url;
  std::string name = "npcl_t_" + random_suffix();
  std::string error = admin(admin_url_, "CREATE DATABASE " + name);
  if (!error.empty()) return "cannot create a test database on NPCL_TEST_PG_URL: " + error;
  database_ = name;
  url_ = with_database(admin_url_, database_);
  return {};
}

std::string postgres_backend::drop_connections() {
  PGconn* conn = PQconnectdb(admin_url_.c_str());
  std::string error;
  if (PQstatus(conn) != CONNECTION_OK) {
    error = PQerrorMessage(conn);
  } else {
    const char* values[] = {database_.c_str()};
    PGresult* res = PQexecParams(conn, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1",
                                 1, nullptr, values, nullptr, nullptr, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) error = PQresultErrorMessage(res);
    else if (PQntuples(res) == 0) error = "no session to end";
    PQclear(res);
  }
  PQfinish(conn);
  return error;
}

postgres_backend::~postgres_backend() {
  if (!database_.empty()) admin(admin_url_, "DROP DATABASE IF EXISTS " + database_ + " WITH (FORCE)");
}

}  // namespace npcl::store::test
