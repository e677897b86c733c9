#pragma once
#include <stdexcept>
#include <string>

namespace npcl::config {

/// A setting with a bad value: names the variable and the offending value.
/// what() reads `VARIABLE="value": reason`; for a secret the value is the
/// placeholder `<secret>`, so the message can be logged as it is. The caller
/// at start-up maps this to exit status 2.
class config_error : public std::runtime_error {
 public:
  /// `variable` is the setting name (or the env-file path for syntax errors),
  /// `value` what was given (already redacted by the thrower for secrets),
  /// `reason` what is wrong with it and, where useful, what is allowed.
  config_error(std::string variable, std::string value, std::string reason);

  /// The setting (or env-file path) the error is about.
  const std::string& variable() const;
  /// The offending value as reported in what(); `<secret>` for secrets.
  const std::string& value() const;

 private:
  std::string variable_;  ///< setting name or env-file path
  std::string value_;     ///< offending value, never a secret's real text
};

}  // namespace npcl::config
