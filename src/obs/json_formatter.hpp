#pragma once
#include <spdlog/formatter.h>

#include <memory>
#include <string_view>

namespace npcl::obs {

/// Appends `text` to `out` as the body of a JSON string (no surrounding
/// quotes): quotes, backslashes and control characters escaped, invalid UTF-8
/// replaced by U+FFFD, so any byte sequence yields valid JSON.
void append_json_escaped(std::string_view text, spdlog::memory_buf_t& out);

/// Appends `text` to `out` for a text log line: control characters (CR, LF, ...)
/// are written as escapes so a hostile message cannot forge extra lines.
void append_text_escaped(std::string_view text, spdlog::memory_buf_t& out);

/// The name of a level as written in log lines and accepted by LOG_LEVEL.
std::string_view level_name(spdlog::level::level_enum level) noexcept;

/// Formats each record as one JSON object on one line:
/// {"ts":"<UTC ISO-8601 ms>Z","level":"info","msg":"...","call_id":"...","channel_id":"..."}
/// The two id keys appear only for lines logged with a call context.
class json_formatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override;
  std::unique_ptr<spdlog::formatter> clone() const override;
};

}  // namespace npcl::obs
