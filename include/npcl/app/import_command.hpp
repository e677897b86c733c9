#pragma once
#include <string>

#include "npcl/store/store_options.hpp"

namespace npcl::app {

/// `npcl-assistant import consumers|bills|outages FILE.csv`: loads the rows
/// into the database named by DATA_DIR / DATABASE_URL and prints every
/// rejected row with its line number. Returns the process exit status: 0 all
/// rows loaded, 1 some rows rejected or the database failed, 2 bad arguments.
int run_import(const store::store_options& options, const std::string& kind, const std::string& file);

}  // namespace npcl::app
