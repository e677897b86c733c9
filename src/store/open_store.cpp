#include <filesystem>

#include "npcl/store/store.hpp"
#include "store/postgres_store.hpp"
#include "store/sqlite_store.hpp"

namespace npcl::store {

std::unique_ptr<store> open_store(const std::string& database_url, const std::string& data_dir) {
  if (database_url.starts_with("postgres://") || database_url.starts_with("postgresql://")) {
    return std::make_unique<detail::postgres_store>(database_url);
  }
  std::string path;
  if (database_url.empty()) {
    std::filesystem::path dir = data_dir.empty() ? "." : data_dir;
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) {
      throw store_error(store_error_kind::unavailable,
                        "DATA_DIR " + dir.string() + " cannot be created: " + ec.message());
    }
    path = (dir / "npcl.db").string();
  } else if (database_url.starts_with("sqlite://")) {
    path = database_url.substr(9);
  } else if (database_url.starts_with("sqlite:")) {
    path = database_url.substr(7);
  } else {
    throw store_error(store_error_kind::invalid,
                      "DATABASE_URL must start with postgres://, postgresql:// or sqlite: (or be empty)");
  }
  if (path.empty()) throw store_error(store_error_kind::invalid, "DATABASE_URL names no SQLite file");
  return std::make_unique<detail::sqlite_store>(path);
}

std::unique_ptr<store> open_store(const store_options& options) {
  auto opened = open_store(options.database_url, options.data_dir);
  if (options.seed_demo_data) opened->seed_demo_data();
  return opened;
}

}  // namespace npcl::store
