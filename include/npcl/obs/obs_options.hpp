#pragma once
#include <string>

namespace npcl::obs {

enum class log_format { text, json };

/// Logging settings (LOG_LEVEL, LOG_FORMAT).
struct log_options {
  std::string level = "info";        ///< spdlog level name: trace debug info warn error critical off
  log_format format = log_format::text;  ///< text on a terminal, JSON lines for journald/Loki
};

}  // namespace npcl::obs
