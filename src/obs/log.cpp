#include "npcl/obs/log.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include <array>
#include <memory>
#include <mutex>
#include <stdexcept>

#include "obs/call_scope.hpp"
#include "obs/json_formatter.hpp"

namespace npcl::obs {
namespace {

/// `%&` in the text pattern: the call prefix and the message, control
/// characters escaped so a caller-supplied string cannot start a new line.
class call_message_flag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    if (const log_context* ctx = call_scope::current()) {
      dest.append(std::string_view("[call="));
      append_text_escaped(ctx->call_id, dest);
      dest.append(std::string_view(" chan="));
      append_text_escaped(ctx->channel_id, dest);
      dest.append(std::string_view("] "));
    }
    append_text_escaped(std::string_view(msg.payload.data(), msg.payload.size()), dest);
  }
  std::unique_ptr<spdlog::custom_flag_formatter> clone() const override {
    return std::make_unique<call_message_flag>();
  }
};

spdlog::level::level_enum parse_level(const std::string& name) {
  // spdlog::level::from_str maps every unknown name to "off", which would
  // silently disable logging on a typo; LOG_LEVEL must name a real level.
  static constexpr std::array<std::pair<std::string_view, spdlog::level::level_enum>, 9> names{{
      {"trace", spdlog::level::trace},
      {"debug", spdlog::level::debug},
      {"info", spdlog::level::info},
      {"warn", spdlog::level::warn},
      {"warning", spdlog::level::warn},
      {"error", spdlog::level::err},
      {"err", spdlog::level::err},
      {"critical", spdlog::level::critical},
      {"off", spdlog::level::off},
  }};
  for (const auto& [n, level] : names) {
    if (n == name) return level;
  }
  throw std::invalid_argument("LOG_LEVEL: unknown level '" + name +
                              "' (expected trace, debug, info, warn, error, critical or off)");
}

/// The one stderr sink of the process. It is created once and re-configured
/// by later init_logging calls: replacing spdlog's default logger is not safe
/// while other threads log, changing a sink's formatter is.
std::shared_ptr<spdlog::sinks::stderr_color_sink_mt> stderr_sink() {
  static std::once_flag once;
  static std::shared_ptr<spdlog::sinks::stderr_color_sink_mt> sink;
  std::call_once(once, [] {
    sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>(spdlog::color_mode::automatic);
    auto logger = std::make_shared<spdlog::logger>("npcl", sink);
    spdlog::set_default_logger(std::move(logger));
  });
  return sink;
}

}  // namespace

void init_logging(const log_options& options) {
  const spdlog::level::level_enum level = parse_level(options.level);
  auto sink = stderr_sink();
  if (options.format == log_format::json) {
    sink->set_color_mode(spdlog::color_mode::never);
    sink->set_formatter(std::make_unique<json_formatter>());
  } else {
    // Re-evaluated on every call: stderr may have been redirected since.
    sink->set_color_mode(spdlog::color_mode::automatic);
    auto formatter = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
    formatter->add_flag<call_message_flag>('&').set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%-5l%$ %&");
    sink->set_formatter(std::move(formatter));
  }
  sink->set_level(spdlog::level::trace);
  spdlog::default_logger_raw()->set_level(level);
}

void write(spdlog::level::level_enum level, const log_context& ctx, std::string_view message) {
  call_scope scope(ctx);
  spdlog::default_logger_raw()->log(level, message);
}

std::string redact(std::string text, std::initializer_list<std::string_view> secrets) {
  for (std::string_view secret : secrets) {
    if (secret.empty()) continue;
    for (auto pos = text.find(secret); pos != std::string::npos; pos = text.find(secret, pos + 3)) {
      text.replace(pos, secret.size(), "***");
    }
  }
  return text;
}

}  // namespace npcl::obs
