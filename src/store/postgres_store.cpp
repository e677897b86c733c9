#include "store/postgres_store.hpp"

#include "npcl/obs/log.hpp"
#include "npcl/store/store_error.hpp"
#include "store/schema.hpp"

namespace npcl::store::detail {

namespace {

// Any fixed number: every npcl-assistant migrating this database takes the same lock.
constexpr const char* migration_lock_sql = "SELECT pg_advisory_xact_lock(7305224117)";

}  // namespace

std::string redacted_url(const std::string& url) {
  auto scheme = url.find("://");
  if (scheme == std::string::npos) return url;
  auto at = url.find('@', scheme + 3);
  auto slash = url.find('/', scheme + 3);
  if (at == std::string::npos || (slash != std::string::npos && at > slash)) return url;
  return url.substr(0, scheme + 3) + "***" + url.substr(at);
}

postgres_store::postgres_store(const std::string& url, std::size_t pool_size,
                               std::chrono::milliseconds acquire_timeout, std::chrono::seconds connect_timeout)
    : url_(url),
      pool_size_(pool_size == 0 ? 1 : pool_size),
      acquire_timeout_(acquire_timeout),
      connect_timeout_(connect_timeout) {
  migrate(schema_migrations(sql_dialect::postgres), migration_lock_sql);
  spdlog::info("store: PostgreSQL database {} at schema version {}", redacted_url(url_), schema_version());
}

connection_lease postgres_store::acquire() {
  std::unique_lock lock(mutex_);
  bool ready = released_.wait_for(lock, acquire_timeout_, [&] { return !idle_.empty() || open_ < pool_size_; });
  if (!ready) {
    throw store_error(store_error_kind::unavailable, "postgres: no free connection within the acquire timeout");
  }
  auto deleter = [this](sql_connection* c) { release(static_cast<pg_connection*>(c)); };
  if (!idle_.empty()) {
    pg_connection* c = idle_.back().release();
    idle_.pop_back();
    return connection_lease(c, deleter);
  }
  ++open_;
  lock.unlock();
  try {
    return connection_lease(new pg_connection(url_, connect_timeout_), deleter);
  } catch (...) {
    lock.lock();
    --open_;
    released_.notify_one();
    throw;
  }
}

void postgres_store::release(pg_connection* connection) noexcept {
  std::unique_ptr<pg_connection> owned(connection);
  {
    std::lock_guard lock(mutex_);
    if (owned->healthy()) {
      idle_.push_back(std::move(owned));
    } else {
      spdlog::warn("store: dropped a lost PostgreSQL connection");
      --open_;
    }
  }
  released_.notify_one();
}

}  // namespace npcl::store::detail
