#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>

#include "npcl/app/daemon.hpp"
#include "npcl/app/import_command.hpp"
#include "npcl/config/loader.hpp"
#include "npcl/obs/log.hpp"

#ifndef NPCL_VERSION
#define NPCL_VERSION "0.0.0"
#endif

int main(int argc, char** argv) {
  CLI::App cli{"npcl-assistant: NPCL's telephone voice assistant (Asterisk ARI + OpenAI Realtime)"};
  std::string env_file;
  bool check_config = false;
  cli.add_option("--env-file", env_file,
                 "settings file (KEY=VALUE); default: /etc/npcl-assistant/npcl-assistant.env, else ./.env");
  cli.add_flag("--check-config", check_config, "print the effective settings (secrets hidden) and exit");
  cli.set_version_flag("--version", std::string("npcl-assistant ") + NPCL_VERSION);
  std::string import_kind, import_file;
  auto* import_cmd = cli.add_subcommand("import", "load a utility's records from CSV into the database and exit");
  import_cmd->add_option("kind", import_kind, "consumers, bills or outages")->required();
  import_cmd->add_option("file", import_file, "CSV file with a header row")->required();
  CLI11_PARSE(cli, argc, argv);

  npcl::config::load_result loaded;
  try {
    std::optional<std::string> file;
    if (!env_file.empty()) file = env_file;
    loaded = npcl::config::load(npcl::config::process_environment(), file);
  } catch (const npcl::config::config_error& e) {
    std::cerr << "npcl-assistant: configuration error: " << e.what() << "\n";
    return 2;
  }

  if (*import_cmd) return npcl::app::run_import(loaded.values.store, import_kind, import_file);

  if (check_config) {
    std::cout << "# env file: " << (loaded.env_file.empty() ? "(none)" : loaded.env_file) << "\n";
    for (const auto& w : loaded.warnings) std::cout << "# warning: " << w << "\n";
    std::cout << npcl::config::describe(loaded.values) << "configuration OK\n";
    return 0;
  }

  try {
    npcl::obs::init_logging(loaded.values.log);
  } catch (const std::exception& e) {
    std::cerr << "npcl-assistant: configuration error: LOG_LEVEL: " << e.what() << "\n";
    return 2;
  }
  for (const auto& w : loaded.warnings) spdlog::warn("{}", w);
  if (!loaded.env_file.empty()) spdlog::info("settings read from {}", loaded.env_file);
  npcl::app::daemon d(std::move(loaded.values));
  return d.run();
}
