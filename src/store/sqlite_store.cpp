#include "store/sqlite_store.hpp"

#include "npcl/obs/log.hpp"
#include "store/schema.hpp"

namespace npcl::store::detail {

sqlite_store::sqlite_store(const std::string& path, std::chrono::milliseconds busy_timeout)
    : db_(path, busy_timeout) {
  // BEGIN IMMEDIATE serialises migrations between processes opening the same file.
  migrate(schema_migrations(sql_dialect::sqlite), nullptr);
  spdlog::info("store: SQLite database {} at schema version {}", path, schema_version());
}

connection_lease sqlite_store::acquire() {
  mutex_.lock();
  return connection_lease(&db_, [this](sql_connection*) { mutex_.unlock(); });
}

}  // namespace npcl::store::detail
