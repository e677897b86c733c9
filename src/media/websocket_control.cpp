#include "npcl/media/websocket_control.hpp"

#include <nlohmann/json.hpp>

#include <array>
#include <charconv>
#include <utility>

namespace npcl::media {
namespace {

// Asterisk ignores longer commands (chan_websocket reads them into a fixed buffer).
constexpr std::size_t max_command_bytes = 128;

constexpr std::array<std::pair<std::string_view, control_event_kind>, 9> event_names{{
    {"MEDIA_START", control_event_kind::media_start},
    {"MEDIA_XOFF", control_event_kind::media_xoff},
    {"MEDIA_XON", control_event_kind::media_xon},
    {"QUEUE_DRAINED", control_event_kind::queue_drained},
    {"MEDIA_BUFFERING_COMPLETED", control_event_kind::media_buffering_completed},
    {"MEDIA_MARK_PROCESSED", control_event_kind::media_mark_processed},
    {"STATUS", control_event_kind::status},
    {"DTMF_END", control_event_kind::dtmf_end},
    {"ERROR", control_event_kind::error},
}};

control_event_kind kind_of(std::string_view name) {
  for (const auto& [n, k] : event_names)
    if (n == name) return k;
  return control_event_kind::unknown;
}

bool fail(std::string* why, std::string reason) {
  if (why) *why = std::move(reason);
  return false;
}

bool is_keypad_digit(char c) {
  return (c >= '0' && c <= '9') || c == '*' || c == '#' || (c >= 'A' && c <= 'D');
}

bool parse_count(std::string_view key, std::string_view value, int& out, std::string* why) {
  int v = 0;
  auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
  if (ec != std::errc{} || ptr != value.data() + value.size() || v < 0)
    return fail(why, std::string(key) + " is not a non-negative integer: '" + std::string(value) + "'");
  out = v;
  return true;
}

bool parse_flag(std::string_view key, std::string_view value, bool& out, std::string* why) {
  if (value == "true" || value == "false") {
    out = value == "true";
    return true;
  }
  return fail(why, std::string(key) + " is not true/false: '" + std::string(value) + "'");
}

bool parse_digit(std::string_view value, char& out, std::string* why) {
  if (value.size() != 1 || !is_keypad_digit(value[0]))
    return fail(why, "digit is not a keypad key: '" + std::string(value) + "'");
  out = value[0];
  return true;
}

// Stores one key of either format; keys this code does not use are ignored.
bool assign(control_event& e, std::string_view key, std::string_view value, std::string* why) {
  if (key == "connection_id") e.connection_id = value;
  else if (key == "channel") e.channel = value;
  else if (key == "channel_id") e.channel_id = value;
  else if (key == "format") e.media_format = value;
  else if (key == "correlation_id") e.correlation_id = value;
  else if (key == "error_text") e.error_text = value;
  else if (key == "digit") return parse_digit(value, e.digit, why);
  else if (key == "optimal_frame_size") return parse_count(key, value, e.optimal_frame_size, why);
  else if (key == "ptime") return parse_count(key, value, e.ptime_ms, why);
  else if (key == "queue_length") return parse_count(key, value, e.queue_length, why);
  else if (key == "xon_level") return parse_count(key, value, e.xon_level, why);
  else if (key == "xoff_level") return parse_count(key, value, e.xoff_level, why);
  else if (key == "queue_full") return parse_flag(key, value, e.queue_full, why);
  else if (key == "bulk_media") return parse_flag(key, value, e.bulk_media, why);
  else if (key == "media_paused") return parse_flag(key, value, e.media_paused, why);
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}

bool parse_plain(std::string_view text, control_event& e, std::string* why) {
  auto space = text.find(' ');
  e.name = std::string(text.substr(0, space));
  e.kind = kind_of(e.name);
  std::string_view rest = space == std::string_view::npos ? std::string_view{} : trim(text.substr(space + 1));
  if (e.kind == control_event_kind::media_mark_processed ||
      e.kind == control_event_kind::media_buffering_completed) {
    e.correlation_id = rest;  // a bare id, not key:value
    return true;
  }
  while (!rest.empty()) {
    auto end = rest.find(' ');
    std::string_view token = rest.substr(0, end);
    auto colon = token.find(':');
    if (colon != std::string_view::npos) {
      std::string_view key = token.substr(0, colon);
      if (key == "error_text") {  // free text with spaces, always last
        e.error_text = rest.substr(colon + 1);
        return true;
      }
      if (!assign(e, key, token.substr(colon + 1), why)) return false;
    }
    rest = end == std::string_view::npos ? std::string_view{} : trim(rest.substr(end + 1));
  }
  return true;
}

bool parse_json(std::string_view text, control_event& e, std::string* why) {
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return fail(why, "invalid JSON");
  if (!j.is_object()) return fail(why, "JSON control message is not an object");
  auto ev = j.find("event");
  if (ev == j.end() || !ev->is_string()) return fail(why, "JSON control message has no string \"event\"");
  e.name = ev->get<std::string>();
  e.kind = kind_of(e.name);
  for (const auto& [key, value] : j.items()) {
    if (key == "event") continue;
    if (key == "channel_variables") {
      if (!value.is_object()) return fail(why, "channel_variables is not an object");
      for (const auto& [name, v] : value.items())
        if (v.is_string()) e.channel_variables[name] = v.get<std::string>();
      continue;
    }
    std::string scalar;
    if (value.is_string()) scalar = value.get<std::string>();
    else if (value.is_number_integer() || value.is_boolean()) scalar = value.dump();
    else if (value.is_null() || value.is_object() || value.is_array()) continue;  // not ours
    else return fail(why, key + " has an unusable value: " + value.dump());
    if (!assign(e, key, scalar, why)) return false;
  }
  return true;
}

bool valid_argument(std::string_view s) {
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
              c == '_' || c == '.' || c == ':' || c == '@';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

std::optional<control_event> parse_control_event(std::string_view text, std::string* why) {
  text = trim(text);
  if (text.empty()) {
    fail(why, "empty control message");
    return std::nullopt;
  }
  control_event e;
  e.format = text.front() == '{' || text.front() == '[' ? control_format::json : control_format::plain;
  bool ok = e.format == control_format::json ? parse_json(text, e, why) : parse_plain(text, e, why);
  if (!ok) return std::nullopt;
  return e;
}

std::string_view control_command_name(control_command_kind command) noexcept {
  switch (command) {
    case control_command_kind::answer: return "ANSWER";
    case control_command_kind::hangup: return "HANGUP";
    case control_command_kind::flush_media: return "FLUSH_MEDIA";
    case control_command_kind::start_media_buffering: return "START_MEDIA_BUFFERING";
    case control_command_kind::stop_media_buffering: return "STOP_MEDIA_BUFFERING";
    case control_command_kind::mark_media: return "MARK_MEDIA";
    case control_command_kind::report_queue_drained: return "REPORT_QUEUE_DRAINED";
    case control_command_kind::get_status: return "GET_STATUS";
    case control_command_kind::pause_media: return "PAUSE_MEDIA";
    case control_command_kind::continue_media: return "CONTINUE_MEDIA";
  }
  return "";
}

std::optional<std::string> format_control_command(control_command_kind command, control_format format,
                                                  std::string_view argument) {
  const bool takes_argument = command == control_command_kind::mark_media ||
                              command == control_command_kind::stop_media_buffering;
  if (!takes_argument && !argument.empty()) return std::nullopt;
  if (command == control_command_kind::mark_media && argument.empty()) return std::nullopt;
  if (!valid_argument(argument)) return std::nullopt;

  const std::string name(control_command_name(command));
  std::string out;
  if (format == control_format::plain) {
    out = argument.empty() ? name : name + " " + std::string(argument);
  } else {
    nlohmann::json j{{"command", name}};
    if (!argument.empty()) j["correlation_id"] = std::string(argument);
    out = j.dump();
  }
  if (out.size() > max_command_bytes) return std::nullopt;
  return out;
}

}  // namespace npcl::media
