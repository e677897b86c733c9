#pragma once
#include <istream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "npcl/store/records.hpp"
#include "npcl/store/store_error.hpp"
#include "npcl/store/store_options.hpp"

namespace npcl::store {

/// The utility's records. Every method is SYNCHRONOUS and may block on disk or network:
/// call it from the blocking pool, never from the event loop, and post the result back.
/// Implementations are safe to call from many threads at once. Every method throws
/// store_error: `invalid` for rejected input, `unavailable` when the database cannot be
/// reached, `not_found` when a record the operation needs is missing. Lookups that find
/// nothing return an empty optional or vector instead of throwing.
class store {
 public:
  virtual ~store() = default;

  /// The consumer with this consumer number.
  virtual std::optional<consumer> find_consumer_by_number(const std::string& number) = 0;

  /// Consumers whose registered mobile matches `mobile` after normalize_phone (a caller id
  /// such as "+919000000001" works); one mobile may hold several connections. Ordered by number.
  virtual std::vector<consumer> find_consumers_by_mobile(const std::string& mobile) = 0;

  /// The bill with the latest period of this consumer.
  virtual std::optional<bill> latest_bill(const std::string& consumer_number) = 0;

  /// Outages in `area` (case-insensitive) not yet over at `now`: restoration unknown or later
  /// than `now`. Ordered by start.
  virtual std::vector<outage> outages_in_area(const std::string& area, timestamp now) = 0;

  /// Commits the complaint and returns it with its database-allocated number. When this
  /// returns, the number is durable and may be read out to the caller; two calls never get
  /// the same number. `invalid` for a missing area or description, an unusable callback
  /// number or an over-long field; `not_found` for a non-empty unknown consumer number.
  virtual complaint register_complaint(const new_complaint& c) = 0;

  /// The complaint with this number, given as parse_complaint_number accepts it.
  /// `invalid` for a malformed number.
  virtual std::optional<complaint> complaint_by_number(const std::string& number) = 0;

  /// Commits the request and returns it with its reference ("NC-2026-000123").
  /// `invalid` for a missing name, area or address or an unusable mobile.
  virtual connection_request create_connection_request(const new_connection_request& r) = 0;

  /// True when the utility supplies `area` (case-insensitive): an area of the demo data or
  /// of any imported consumer or outage.
  virtual bool is_area_served(const std::string& area) = 0;

  /// Inserts or replaces the record with this call id. `invalid` for an empty call id.
  virtual void save_call_record(const call_record& r) = 0;

  /// The call record with this call id.
  virtual std::optional<call_record> call_record_by_id(const std::string& call_id) = 0;

  /// Loads CSV rows (header line first, columns by name, any order). Consumers are upserted by
  /// number, bills by (consumer, period), outages by (area, sector, start). Good rows are
  /// committed in one transaction; bad rows are skipped and reported by line number.
  /// Columns: consumers: number,name,mobile,area,sector,status;
  /// bills: consumer,period,amount_paise,due_date,status;
  /// outages: area,sector,kind,start,eta,note (start/eta as Unix seconds or
  /// "YYYY-MM-DD HH:MM" UTC; eta may be empty). `invalid` when the header lacks a column.
  virtual import_result import_csv(import_kind kind, std::istream& csv) = 0;

  /// Adds clearly fictional demo records once ("Demo Consumer 1", consumer numbers
  /// 9990000001.., mobiles 9000000001.., area "Demo Nagar"); running it again changes nothing.
  virtual void seed_demo_data() = 0;

  /// The highest schema migration applied to the database.
  virtual int schema_version() = 0;
};

/// Opens the store named by `database_url` and brings its schema up to date.
/// Empty URL: SQLite at `data_dir`/npcl.db (the directory is created). "sqlite:PATH" or
/// "sqlite://PATH": SQLite at PATH. "postgres://..." or "postgresql://...": PostgreSQL via
/// libpq. Start-up only: throws store_error (`invalid` for an unknown scheme, `unavailable`
/// when the database cannot be opened or migrated).
std::unique_ptr<store> open_store(const std::string& database_url, const std::string& data_dir);

/// open_store(options.database_url, options.data_dir), then seed_demo_data() when
/// options.seed_demo_data. Start-up only; throws store_error like open_store.
std::unique_ptr<store> open_store(const store_options& options);

}  // namespace npcl::store
