#pragma once
#include <vector>

#include "npcl/store/store.hpp"
#include "store/schema.hpp"
#include "store/sql_connection.hpp"

namespace npcl::store::detail {

/// The store's logic written once in SQL both SQLite and PostgreSQL accept ($N parameters,
/// INSERT ... RETURNING, ON CONFLICT upserts). Backends supply connections and the DDL.
class sql_store : public store {
 public:
  std::optional<consumer> find_consumer_by_number(const std::string& number) override;
  std::vector<consumer> find_consumers_by_mobile(const std::string& mobile) override;
  std::optional<bill> latest_bill(const std::string& consumer_number) override;
  std::vector<outage> outages_in_area(const std::string& area, timestamp now) override;
  complaint register_complaint(const new_complaint& c) override;
  std::optional<complaint> complaint_by_number(const std::string& number) override;
  connection_request create_connection_request(const new_connection_request& r) override;
  bool is_area_served(const std::string& area) override;
  void save_call_record(const call_record& r) override;
  std::optional<call_record> call_record_by_id(const std::string& call_id) override;
  import_result import_csv(import_kind kind, std::istream& csv) override;
  void seed_demo_data() override;
  int schema_version() override;

 protected:
  /// Exclusive use of one connection; throws store_error(unavailable) when none can be had.
  virtual connection_lease acquire() = 0;

  /// Applies the steps newer than the database's version, all in one transaction, after
  /// running `lock_sql` (when not null) inside it so concurrent starters wait for each other.
  /// Throws store_error(unavailable) when the database is newer than `steps` knows.
  void migrate(const std::vector<migration>& steps, const char* lock_sql);

 private:
  /// Runs `work(connection)` inside a write transaction: committed when it returns, rolled
  /// back when it throws.
  template <class Work>
  auto in_transaction(Work&& work);
};

/// Area names compared the way callers say them: trimmed, single spaces, ASCII lower case.
std::string area_key(std::string_view area);

}  // namespace npcl::store::detail
