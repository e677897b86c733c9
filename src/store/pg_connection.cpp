#include "store/pg_connection.hpp"

#include <libpq-fe.h>

#include <memory>

#include "npcl/obs/log.hpp"
#include "npcl/store/store_error.hpp"

namespace npcl::store::detail {

namespace {

using result_ptr = std::unique_ptr<PGresult, decltype(&PQclear)>;

std::string trimmed(const char* message) {
  std::string s = message ? message : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// Unique violations and serialisation failures are worth a retry by the caller; anything else
// means the database is not doing its job.
[[noreturn]] void fail(PGconn* conn, const PGresult* res) {
  const char* state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  std::string code = state ? state : "";
  std::string message = trimmed(res ? PQresultErrorMessage(res) : PQerrorMessage(conn));
  if (message.empty()) message = trimmed(PQerrorMessage(conn));
  bool conflict = code.starts_with("23") || code == "40001" || code == "40P01";
  throw store_error(conflict ? store_error_kind::conflict : store_error_kind::unavailable,
                    "postgres: " + (code.empty() ? "" : code + " ") + message);
}

void check(PGconn* conn, const PGresult* res) {
  auto status = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) fail(conn, res);
}

void quiet_notice(void*, const PGresult* res) {
  // "relation already exists, skipping" and the like: expected on every start.
  spdlog::debug("postgres: {}", trimmed(PQresultErrorMessage(res)));
}

}  // namespace

pg_connection::pg_connection(const std::string& url, std::chrono::seconds connect_timeout) {
  std::string timeout = std::to_string(connect_timeout.count());
  // Values from the URL come later and win, except these client-side settings come first.
  const char* keywords[] = {"connect_timeout", "application_name", "client_encoding", "keepalives",
                            "keepalives_idle", "keepalives_interval", "keepalives_count", "tcp_user_timeout",
                            "dbname",          nullptr};
  const char* values[] = {timeout.c_str(), "npcl-assistant", "UTF8", "1", "15", "5", "3", "20000", url.c_str(),
                          nullptr};
  conn_ = PQconnectdbParams(keywords, values, 1);
  if (!conn_ || PQstatus(conn_) != CONNECTION_OK) {
    std::string why = conn_ ? trimmed(PQerrorMessage(conn_)) : "out of memory";
    PQfinish(conn_);
    conn_ = nullptr;
    throw store_error(store_error_kind::unavailable, "postgres: cannot connect: " + why);
  }
  PQsetNoticeReceiver(conn_, quiet_notice, nullptr);
}

pg_connection::~pg_connection() { PQfinish(conn_); }

bool pg_connection::healthy() const { return PQstatus(conn_) == CONNECTION_OK; }

std::vector<sql_row> pg_connection::query(std::string_view sql, const std::vector<sql_param>& params) {
  std::vector<std::string> storage(params.size());
  std::vector<const char*> values(params.size(), nullptr);
  for (std::size_t i = 0; i < params.size(); ++i) {
    if (auto text = std::get_if<std::string>(&params[i])) {
      values[i] = text->c_str();
    } else if (auto number = std::get_if<std::int64_t>(&params[i])) {
      storage[i] = std::to_string(*number);
      values[i] = storage[i].c_str();
    }
  }
  std::string statement(sql);
  result_ptr res(PQexecParams(conn_, statement.c_str(), static_cast<int>(params.size()), nullptr, values.data(),
                              nullptr, nullptr, 0),
                 &PQclear);
  check(conn_, res.get());
  std::vector<sql_row> rows;
  int n = PQntuples(res.get()), columns = PQnfields(res.get());
  rows.reserve(static_cast<std::size_t>(n));
  for (int r = 0; r < n; ++r) {
    sql_row row;
    row.reserve(static_cast<std::size_t>(columns));
    for (int c = 0; c < columns; ++c) {
      if (PQgetisnull(res.get(), r, c)) {
        row.emplace_back();
      } else {
        row.emplace_back(std::string(PQgetvalue(res.get(), r, c), static_cast<std::size_t>(PQgetlength(res.get(), r, c))));
      }
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

void pg_connection::exec_script(std::string_view sql) {
  std::string script(sql);
  result_ptr res(PQexec(conn_, script.c_str()), &PQclear);
  check(conn_, res.get());
}

}  // namespace npcl::store::detail
