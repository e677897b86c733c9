#include "store/sql_store.hpp"

#include <charconv>

#include "npcl/obs/log.hpp"
#include "store/csv_import.hpp"
#include "store/demo_data.hpp"
#include "store/record_checks.hpp"

namespace npcl::store::detail {

namespace {

using params = std::vector<sql_param>;

timestamp now_seconds() { return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()); }

std::int64_t unix_of(timestamp t) { return t.time_since_epoch().count(); }

std::string cell(const sql_row& row, std::size_t i) { return row.at(i).value_or(std::string{}); }

std::optional<std::int64_t> optional_int(const sql_row& row, std::size_t i) {
  const auto& v = row.at(i);
  if (!v) return std::nullopt;
  std::int64_t out = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), out);
  if (ec != std::errc{} || p != v->data() + v->size()) {
    throw store_error(store_error_kind::unavailable, "database returned a non-integer where one was expected");
  }
  return out;
}

std::int64_t integer(const sql_row& row, std::size_t i) { return optional_int(row, i).value_or(0); }

timestamp time_cell(const sql_row& row, std::size_t i) { return timestamp{std::chrono::seconds{integer(row, i)}}; }

std::optional<timestamp> optional_time(const sql_row& row, std::size_t i) {
  auto v = optional_int(row, i);
  if (!v) return std::nullopt;
  return timestamp{std::chrono::seconds{*v}};
}

sql_param text_or_null(const std::string& s) {
  if (s.empty()) return nullptr;
  return s;
}

sql_param int_or_null(const std::optional<timestamp>& t) {
  if (!t) return nullptr;
  return unix_of(*t);
}

// A value the schema only ever receives from to_string: anything else means someone edited
// the database by hand, and the record is still worth returning.
template <class E>
E enum_cell(std::optional<E> parsed, E fallback, std::string_view column) {
  if (!parsed) spdlog::warn("store: unknown {} value in the database, read as {}", column, to_string(fallback));
  return parsed.value_or(fallback);
}

constexpr const char* consumer_columns = "number, masked_name, registered_mobile, area, sector, status";

consumer consumer_from(const sql_row& r) {
  consumer c;
  c.number = cell(r, 0);
  c.masked_name = cell(r, 1);
  c.registered_mobile = cell(r, 2);
  c.area = cell(r, 3);
  c.sector = cell(r, 4);
  c.status = enum_cell(parse_consumer_status(cell(r, 5)), consumer_status::active, "consumer status");
  return c;
}

constexpr const char* complaint_columns =
    "id, consumer_number, category, area, address, description, callback_number, priority, "
    "expected_resolution_at, status, call_id, created_at";

complaint complaint_from(const sql_row& r) {
  complaint c;
  c.number = format_complaint_number(integer(r, 0));
  c.consumer_number = cell(r, 1);
  c.category = enum_cell(parse_complaint_category(cell(r, 2)), complaint_category::other, "category");
  c.area = cell(r, 3);
  c.address = cell(r, 4);
  c.description = cell(r, 5);
  c.callback_number = cell(r, 6);
  c.priority = enum_cell(parse_complaint_priority(cell(r, 7)), complaint_priority::normal, "priority");
  c.expected_resolution = time_cell(r, 8);
  c.status = enum_cell(parse_complaint_status(cell(r, 9)), complaint_status::registered, "complaint status");
  c.call_id = cell(r, 10);
  c.created_at = time_cell(r, 11);
  return c;
}

bill bill_from(const sql_row& r) {
  bill b;
  b.consumer_number = cell(r, 0);
  b.period = cell(r, 1);
  b.amount_paise = integer(r, 2);
  b.due_date = cell(r, 3);
  b.status = enum_cell(parse_bill_status(cell(r, 4)), bill_status::unpaid, "bill status");
  return b;
}

call_record call_record_from(const sql_row& row) {
  call_record r;
  r.call_id = cell(row, 0);
  r.caller_number = cell(row, 1);
  r.started = time_cell(row, 2);
  r.ended = optional_time(row, 3);
  r.language = cell(row, 4);
  r.outcome = cell(row, 5);
  r.transcript_json = cell(row, 6);
  r.tool_calls_json = cell(row, 7);
  r.input_tokens = integer(row, 8);
  r.output_tokens = integer(row, 9);
  return r;
}

// The record in the first row, if any.
template <class Map>
auto first(const std::vector<sql_row>& rows, Map map) -> std::optional<decltype(map(rows.front()))> {
  if (rows.empty()) return std::nullopt;
  return map(rows.front());
}

bool consumer_exists(sql_connection& db, const std::string& number) {
  return !db.query("SELECT 1 FROM consumers WHERE number = $1", {number}).empty();
}

void mark_served(sql_connection& db, const std::string& area) {
  db.query("INSERT INTO served_areas (area_key, area) VALUES ($1, $2) ON CONFLICT (area_key) DO NOTHING",
           {area_key(area), area});
}

// Writes imported and demo rows on the connection of the open transaction.
class sql_record_writer final : public record_writer {
 public:
  explicit sql_record_writer(sql_connection& db) : db_(db) {}

  bool consumer_exists(const std::string& number) override { return detail::consumer_exists(db_, number); }

  void upsert(const consumer& c) override {
    db_.query(
        "INSERT INTO consumers (number, masked_name, registered_mobile, area, sector, status) "
        "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (number) DO UPDATE SET "
        "masked_name = excluded.masked_name, registered_mobile = excluded.registered_mobile, "
        "area = excluded.area, sector = excluded.sector, status = excluded.status",
        {c.number, c.masked_name, c.registered_mobile, c.area, c.sector, std::string(to_string(c.status))});
    mark_served(db_, c.area);
  }

  void upsert(const bill& b) override {
    db_.query(
        "INSERT INTO bills (consumer_number, period, amount_paise, due_date, status) "
        "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (consumer_number, period) DO UPDATE SET "
        "amount_paise = excluded.amount_paise, due_date = excluded.due_date, status = excluded.status",
        {b.consumer_number, b.period, b.amount_paise, b.due_date, std::string(to_string(b.status))});
  }

  void upsert(const outage& o) override {
    db_.query(
        "INSERT INTO outages (area, area_key, sector, kind, start_at, eta_at, note) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (area_key, sector, start_at) DO UPDATE SET "
        "area = excluded.area, kind = excluded.kind, eta_at = excluded.eta_at, note = excluded.note",
        {o.area, area_key(o.area), o.sector, std::string(to_string(o.kind)), unix_of(o.start), int_or_null(o.eta),
         o.note});
    mark_served(db_, o.area);
  }

 private:
  sql_connection& db_;  ///< inside the import's transaction
};

}  // namespace

std::string area_key(std::string_view area) {
  std::string out;
  for (char c : area) {
    bool space = c == ' ' || c == '\t';
    if (space) {
      if (!out.empty() && out.back() != ' ') out.push_back(' ');
    } else {
      out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
    }
  }
  if (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

template <class Work>
auto sql_store::in_transaction(Work&& work) {
  auto db = acquire();
  db->exec_script(db->begin_write_sql());
  try {
    auto result = work(*db);
    db->exec_script("COMMIT");
    return result;
  } catch (...) {
    try {
      db->exec_script("ROLLBACK");
    } catch (const store_error&) {
      // The connection is already gone; the server drops the transaction with it.
    }
    throw;
  }
}

void sql_store::migrate(const std::vector<migration>& steps, const char* lock_sql) {
  int latest = steps.empty() ? 0 : steps.back().version;
  int applied = in_transaction([&](sql_connection& db) {
    if (lock_sql) db.query(lock_sql, {});
    db.exec_script(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)");
    auto rows = db.query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", {});
    int current = static_cast<int>(integer(rows.at(0), 0));
    if (current > latest) {
      throw store_error(store_error_kind::unavailable,
                        "database schema version " + std::to_string(current) +
                            " is newer than this build supports (" + std::to_string(latest) + ")");
    }
    int count = 0;
    for (const auto& step : steps) {
      if (step.version <= current) continue;
      db.exec_script(step.sql);
      db.query("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
               {std::int64_t{step.version}, step.name, unix_of(now_seconds())});
      spdlog::info("store: applied migration {} ({})", step.version, step.name);
      ++count;
    }
    return count;
  });
  if (applied == 0) spdlog::debug("store: schema at version {}, nothing to migrate", latest);
}

std::optional<consumer> sql_store::find_consumer_by_number(const std::string& number) {
  check_text("consumer_number", number, max_short_text, false);
  auto db = acquire();
  return first(db->query(std::string("SELECT ") + consumer_columns + " FROM consumers WHERE number = $1", {number}),
               consumer_from);
}

std::vector<consumer> sql_store::find_consumers_by_mobile(const std::string& mobile) {
  check_text("mobile", mobile, max_short_text, false);
  std::string normalized = normalize_phone(mobile);
  if (normalized.empty()) return {};
  auto db = acquire();
  auto rows = db->query(
      std::string("SELECT ") + consumer_columns + " FROM consumers WHERE registered_mobile = $1 ORDER BY number",
      {normalized});
  std::vector<consumer> out;
  for (const auto& r : rows) out.push_back(consumer_from(r));
  return out;
}

std::optional<bill> sql_store::latest_bill(const std::string& consumer_number) {
  check_text("consumer_number", consumer_number, max_short_text, false);
  auto db = acquire();
  return first(db->query("SELECT consumer_number, period, amount_paise, due_date, status FROM bills "
                         "WHERE consumer_number = $1 ORDER BY period DESC LIMIT 1",
                         {consumer_number}),
               bill_from);
}

std::vector<outage> sql_store::outages_in_area(const std::string& area, timestamp now) {
  check_text("area", area, max_short_text, false);
  auto db = acquire();
  auto rows = db->query(
      "SELECT id, area, sector, kind, start_at, eta_at, note FROM outages "
      "WHERE area_key = $1 AND (eta_at IS NULL OR eta_at > $2) ORDER BY start_at, id",
      {area_key(area), unix_of(now)});
  std::vector<outage> out;
  for (const auto& r : rows) {
    outage o;
    o.id = integer(r, 0);
    o.area = cell(r, 1);
    o.sector = cell(r, 2);
    o.kind = enum_cell(parse_outage_kind(cell(r, 3)), outage_kind::unplanned, "outage kind");
    o.start = time_cell(r, 4);
    o.eta = optional_time(r, 5);
    o.note = cell(r, 6);
    out.push_back(std::move(o));
  }
  return out;
}

complaint sql_store::register_complaint(const new_complaint& input) {
  new_complaint c = checked(input);
  timestamp created = now_seconds();
  auto id = in_transaction([&](sql_connection& db) {
    if (!c.consumer_number.empty() && !consumer_exists(db, c.consumer_number)) {
      throw store_error(store_error_kind::not_found, "consumer_number: no such consumer");
    }
    auto rows = db.query(
        "INSERT INTO complaints (consumer_number, category, area, address, description, callback_number, "
        "priority, expected_resolution_at, status, call_id, created_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
        {text_or_null(c.consumer_number), std::string(to_string(c.category)), c.area, c.address, c.description,
         c.callback_number, std::string(to_string(c.priority)), unix_of(c.expected_resolution),
         std::string(to_string(complaint_status::registered)), c.call_id, unix_of(created)});
    return integer(rows.at(0), 0);
  });
  complaint out;
  static_cast<new_complaint&>(out) = std::move(c);
  out.number = format_complaint_number(id);
  out.status = complaint_status::registered;
  out.created_at = created;
  spdlog::info("store: complaint {} registered ({}, {})", out.number, to_string(out.category),
               to_string(out.priority));
  return out;
}

std::optional<complaint> sql_store::complaint_by_number(const std::string& number) {
  auto id = parse_complaint_number(number);
  if (!id) throw store_error(store_error_kind::invalid, "complaint number: expected 1 to 9 digits");
  auto db = acquire();
  return first(db->query(std::string("SELECT ") + complaint_columns + " FROM complaints WHERE id = $1", {*id}),
               complaint_from);
}

connection_request sql_store::create_connection_request(const new_connection_request& input) {
  new_connection_request r = checked(input);
  timestamp created = now_seconds();
  std::string status = "received";
  auto reference = in_transaction([&](sql_connection& db) {
    auto rows = db.query(
        "INSERT INTO connection_requests (applicant_name, mobile, area, address, load_category, call_id, "
        "status, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        {r.applicant_name, r.mobile, r.area, r.address, r.load_category, r.call_id, status, unix_of(created)});
    std::int64_t id = integer(rows.at(0), 0);
    int year = static_cast<int>(std::chrono::year_month_day{std::chrono::floor<std::chrono::days>(created)}.year());
    char buf[32];
    std::snprintf(buf, sizeof buf, "NC-%04d-%06lld", year, static_cast<long long>(id));
    db.query("UPDATE connection_requests SET reference = $1 WHERE id = $2", {std::string(buf), id});
    return std::string(buf);
  });
  connection_request out;
  static_cast<new_connection_request&>(out) = std::move(r);
  out.reference = std::move(reference);
  out.status = status;
  out.created_at = created;
  spdlog::info("store: connection request {} created", out.reference);
  return out;
}

bool sql_store::is_area_served(const std::string& area) {
  check_text("area", area, max_short_text, false);
  auto db = acquire();
  return !db->query("SELECT 1 FROM served_areas WHERE area_key = $1", {area_key(area)}).empty();
}

void sql_store::save_call_record(const call_record& r) {
  check(r);
  auto db = acquire();
  db->query(
      "INSERT INTO call_records (call_id, caller_number, started_at, ended_at, language, outcome, "
      "transcript_json, tool_calls_json, input_tokens, output_tokens) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (call_id) DO UPDATE SET "
      "caller_number = excluded.caller_number, started_at = excluded.started_at, ended_at = excluded.ended_at, "
      "language = excluded.language, outcome = excluded.outcome, transcript_json = excluded.transcript_json, "
      "tool_calls_json = excluded.tool_calls_json, input_tokens = excluded.input_tokens, "
      "output_tokens = excluded.output_tokens",
      {r.call_id, r.caller_number, unix_of(r.started), int_or_null(r.ended), r.language, r.outcome, r.transcript_json,
       r.tool_calls_json, r.input_tokens, r.output_tokens});
}

std::optional<call_record> sql_store::call_record_by_id(const std::string& call_id) {
  check_text("call_id", call_id, max_short_text, false);
  auto db = acquire();
  return first(db->query("SELECT call_id, caller_number, started_at, ended_at, language, outcome, transcript_json, "
                         "tool_calls_json, input_tokens, output_tokens FROM call_records WHERE call_id = $1",
                         {call_id}),
               call_record_from);
}

import_result sql_store::import_csv(import_kind kind, std::istream& csv) {
  return in_transaction([&](sql_connection& db) {
    sql_record_writer writer(db);
    return import_rows(kind, csv, writer);
  });
}

void sql_store::seed_demo_data() {
  in_transaction([&](sql_connection& db) {
    sql_record_writer writer(db);
    write_demo_data(writer, now_seconds());
    return true;
  });
}

int sql_store::schema_version() {
  auto db = acquire();
  auto rows = db->query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", {});
  return static_cast<int>(integer(rows.at(0), 0));
}

}  // namespace npcl::store::detail
