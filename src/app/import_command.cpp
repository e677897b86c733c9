#include "npcl/app/import_command.hpp"

#include <filesystem>
#include <fstream>
#include <iostream>

#include "npcl/store/store.hpp"

namespace npcl::app {

int run_import(const store::store_options& options, const std::string& kind, const std::string& file) {
  auto which = store::parse_import_kind(kind);
  if (!which) {
    std::cerr << "npcl-assistant import: unknown kind \"" << kind << "\" (consumers, bills or outages)\n";
    return 2;
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    std::cerr << "npcl-assistant import: cannot read " << file << "\n";
    return 2;
  }
  try {
    if (options.database_url.empty()) std::filesystem::create_directories(options.data_dir);
    auto db = store::open_store(options);
    auto result = db->import_csv(*which, in);
    for (const auto& e : result.errors) std::cerr << file << ": line " << e.line << ": " << e.reason << "\n";
    std::cout << "imported " << result.imported << " " << kind << " row(s) from " << file << ", rejected "
              << result.errors.size() << "\n";
    return result.errors.empty() ? 0 : 1;
  } catch (const std::exception& e) {
    std::cerr << "npcl-assistant import: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace npcl::app
