#include "npcl/config/config_error.hpp"

namespace npcl::config {

config_error::config_error(std::string variable, std::string value, std::string reason)
    : std::runtime_error(variable + "=\"" + value + "\": " + reason),
      variable_(std::move(variable)),
      value_(std::move(value)) {}

const std::string& config_error::variable() const { return variable_; }

const std::string& config_error::value() const { return value_; }

}  // namespace npcl::config
