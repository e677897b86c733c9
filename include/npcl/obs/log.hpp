#pragma once
// Logging facade. fmt (bundled with spdlog) is the one third-party header
// exposed here: it is what makes call-scoped, type-checked log lines cheap.
#include <spdlog/spdlog.h>

#include <string>
#include <string_view>

#include "npcl/obs/obs_options.hpp"

namespace npcl::obs {

/// Configures the process-wide logger: level and text/JSON format.
/// Text goes to stderr with colours on a terminal; JSON is one object per line
/// with keys ts, level, msg and, for call lines, call_id and channel_id.
/// Throws std::invalid_argument for an unknown level name.
void init_logging(const log_options& options);

/// Identity of a call, attached to every line logged about it.
struct log_context {
  std::string call_id;     ///< our call id (UUID)
  std::string channel_id;  ///< the caller's Asterisk channel id
};

/// Writes one line with the call's identity. In text format the line reads
/// `[call=<id> chan=<id>] message`; in JSON the ids are separate keys.
void write(spdlog::level::level_enum level, const log_context& ctx, std::string_view message);

template <class... Args>
void log(spdlog::level::level_enum level, const log_context& ctx,
         fmt::format_string<Args...> format, Args&&... args) {
  if (!spdlog::should_log(level)) return;
  write(level, ctx, fmt::format(format, std::forward<Args>(args)...));
}

/// Replaces every occurrence of each non-empty secret in `text` with "***".
std::string redact(std::string text, std::initializer_list<std::string_view> secrets);

}  // namespace npcl::obs
