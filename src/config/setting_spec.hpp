#pragma once
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "npcl/config/settings.hpp"

namespace npcl::config::detail {

/// One variable the daemon understands: how to read it into settings and how
/// to show it. The table of these is the single list of known names, used by
/// parse(), describe() and the unknown-key warnings.
struct setting_spec {
  std::string_view name;  ///< the environment variable, e.g. "ARI_BASE_URL"
  bool secret;            ///< never echoed: shown as *** and reported as <secret>
  /// Validates one value and stores it; throws config_error. Applied in table
  /// order, so an entry may rely on the ones before it (AUDIO_SAMPLE_RATE on
  /// AUDIO_FORMAT).
  std::function<void(settings& s, const std::string& value)> apply;
  /// The current value as text parse would accept again (secrets in clear:
  /// the caller masks them).
  std::function<std::string(const settings& s)> show;
};

/// Every known setting, in the order describe() prints them.
const std::vector<setting_spec>& setting_specs();

/// The entry for `name`, or nullptr when the name is not a setting.
const setting_spec* find_setting(std::string_view name);

}  // namespace npcl::config::detail
