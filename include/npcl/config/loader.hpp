#pragma once
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "npcl/config/config_error.hpp"
#include "npcl/config/settings.hpp"

namespace npcl::config {

/// Variable name → value, as read from the environment or an env file.
using env_map = std::map<std::string, std::string>;

/// A copy of this process's environment (`environ`). An empty value is kept:
/// `ARI_PASSWORD=` means "set to empty", not "unset".
env_map process_environment();

/// Reads a `KEY=VALUE` env file: blank lines and `#` comments are skipped, an
/// `export ` prefix is allowed, values may be single- or double-quoted (quotes
/// stripped, `#` inside kept) and an unquoted value loses a trailing ` # comment`.
/// A later line for the same key wins. Throws config_error with variable = path
/// when the file cannot be read or a line is malformed (the value names the line
/// number; line text is never echoed because it may hold a secret).
env_map parse_env_file(const std::string& path);

/// What load() produced.
struct load_result {
  settings values;                    ///< the effective settings
  std::string env_file;               ///< the env file used, empty if none
  std::vector<std::string> warnings;  ///< e.g. unknown NPCL-looking keys in the env file, empty ARI_PASSWORD
};

/// Merges process_env over the env file over defaults and validates everything.
/// `env_file` (from `--env-file`) must be readable; without it the first of
/// `default_env_files` that exists is used, and none existing is fine.
/// Throws config_error naming the first bad setting.
load_result load(const env_map& process_env, const std::optional<std::string>& env_file,
                 const std::vector<std::string>& default_env_files =
                     {"/etc/npcl-assistant/npcl-assistant.env", ".env"});

/// Validates `merged` (keys not known here are ignored) into settings; any
/// setting absent from `merged` keeps its default. Throws config_error.
settings parse(const env_map& merged);

/// `NAME=value` lines of every setting in a fixed order, secrets shown as `***`
/// (or `(unset)`). Values with spaces or `#` are double-quoted, so the text is
/// itself a valid env file.
std::string describe(const settings& s);

}  // namespace npcl::config
