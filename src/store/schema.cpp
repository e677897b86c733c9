#include "store/schema.hpp"

#include <utility>

namespace npcl::store::detail {

namespace {

// Times are Unix seconds (BIGINT); money is paise. @..._id@ stands for a dialect's id column.
constexpr const char* tables_v1 = R"sql(
CREATE TABLE consumers (
  number TEXT PRIMARY KEY,
  masked_name TEXT NOT NULL,
  registered_mobile TEXT NOT NULL,
  area TEXT NOT NULL,
  sector TEXT NOT NULL,
  status TEXT NOT NULL
);
CREATE INDEX consumers_by_mobile ON consumers (registered_mobile);
CREATE TABLE bills (
  consumer_number TEXT NOT NULL REFERENCES consumers (number),
  period TEXT NOT NULL,
  amount_paise BIGINT NOT NULL CHECK (amount_paise >= 0),
  due_date TEXT NOT NULL,
  status TEXT NOT NULL,
  PRIMARY KEY (consumer_number, period)
);
CREATE TABLE outages (
  id @outage_id@,
  area TEXT NOT NULL,
  area_key TEXT NOT NULL,
  sector TEXT NOT NULL,
  kind TEXT NOT NULL,
  start_at BIGINT NOT NULL,
  eta_at BIGINT,
  note TEXT NOT NULL,
  UNIQUE (area_key, sector, start_at)
);
CREATE TABLE served_areas (
  area_key TEXT PRIMARY KEY,
  area TEXT NOT NULL
);
CREATE TABLE complaints (
  id @complaint_id@,
  consumer_number TEXT REFERENCES consumers (number),
  category TEXT NOT NULL,
  area TEXT NOT NULL,
  address TEXT NOT NULL,
  description TEXT NOT NULL,
  callback_number TEXT NOT NULL,
  priority TEXT NOT NULL,
  expected_resolution_at BIGINT NOT NULL,
  status TEXT NOT NULL,
  call_id TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE TABLE connection_requests (
  id @request_id@,
  reference TEXT UNIQUE,
  applicant_name TEXT NOT NULL,
  mobile TEXT NOT NULL,
  area TEXT NOT NULL,
  address TEXT NOT NULL,
  load_category TEXT NOT NULL,
  call_id TEXT NOT NULL,
  status TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE TABLE call_records (
  call_id TEXT PRIMARY KEY,
  caller_number TEXT NOT NULL,
  started_at BIGINT NOT NULL,
  ended_at BIGINT,
  language TEXT NOT NULL,
  outcome TEXT NOT NULL,
  transcript_json TEXT NOT NULL,
  tool_calls_json TEXT NOT NULL,
  input_tokens BIGINT NOT NULL,
  output_tokens BIGINT NOT NULL
);
CREATE INDEX call_records_by_start ON call_records (started_at);
)sql";

constexpr const char* postgres_sequences_v1 = R"sql(
CREATE SEQUENCE complaint_number_seq MINVALUE 1 MAXVALUE 999999999 NO CYCLE;
CREATE SEQUENCE connection_request_seq MINVALUE 1 NO CYCLE;
)sql";

constexpr const char* postgres_owners_v1 = R"sql(
ALTER SEQUENCE complaint_number_seq OWNED BY complaints.id;
ALTER SEQUENCE connection_request_seq OWNED BY connection_requests.id;
)sql";

std::string substituted(std::string text, const std::vector<std::pair<std::string, std::string>>& tokens) {
  for (const auto& [token, value] : tokens) {
    for (auto at = text.find(token); at != std::string::npos; at = text.find(token, at + value.size())) {
      text.replace(at, token.size(), value);
    }
  }
  return text;
}

}  // namespace

std::vector<migration> schema_migrations(sql_dialect dialect) {
  std::string v1;
  if (dialect == sql_dialect::sqlite) {
    // Complaint numbers have nine digits: the CHECK stops the tenth before it is committed.
    v1 = substituted(tables_v1, {{"@outage_id@", "INTEGER PRIMARY KEY AUTOINCREMENT"},
                                 {"@complaint_id@", "INTEGER PRIMARY KEY AUTOINCREMENT CHECK (id <= 999999999)"},
                                 {"@request_id@", "INTEGER PRIMARY KEY AUTOINCREMENT"}});
  } else {
    v1 = postgres_sequences_v1 +
         substituted(tables_v1, {{"@outage_id@", "BIGSERIAL PRIMARY KEY"},
                                 {"@complaint_id@", "BIGINT PRIMARY KEY DEFAULT nextval('complaint_number_seq')"},
                                 {"@request_id@", "BIGINT PRIMARY KEY DEFAULT nextval('connection_request_seq')"}}) +
         postgres_owners_v1;
  }
  return {{1, "consumers, bills, outages, complaints, connection requests, calls", std::move(v1)}};
}

}  // namespace npcl::store::detail
