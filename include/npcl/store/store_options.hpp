#pragma once
#include <string>

namespace npcl::store {

/// Where the records live (DATA_DIR, DATABASE_URL, SEED_DEMO_DATA); pass to open_store.
struct store_options {
  std::string data_dir = "/var/lib/npcl-assistant";  ///< directory of npcl.db when database_url is empty
  std::string database_url;  ///< empty: SQLite in data_dir; "postgres://user:pw@host:port/db" or "sqlite:PATH"
  bool seed_demo_data = false;  ///< add the fictional demo records at start-up (idempotent)
};

}  // namespace npcl::store
