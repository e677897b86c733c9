#include "npcl/ari/event.hpp"

#include <nlohmann/json.hpp>

#include <unordered_map>

namespace npcl::ari {
namespace {

using json = nlohmann::json;

// Field types are checked rather than trusted: ARI JSON is input from the
// network, and a wrong type must become a logged rejection, not an exception.
std::string get_string(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return {};
  return it->get<std::string>();
}

int get_int(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer()) return 0;
  return it->get<int>();
}

std::optional<channel> to_channel(const json& j, std::string& error) {
  if (!j.is_object()) {
    error = "channel is not an object";
    return std::nullopt;
  }
  channel c;
  c.id = get_string(j, "id");
  if (c.id.empty()) {
    error = "channel has no id";
    return std::nullopt;
  }
  c.name = get_string(j, "name");
  c.state = get_string(j, "state");
  if (auto it = j.find("caller"); it != j.end() && it->is_object()) {
    c.caller_number = get_string(*it, "number");
    c.caller_name = get_string(*it, "name");
  }
  if (auto it = j.find("dialplan"); it != j.end() && it->is_object()) {
    c.context = get_string(*it, "context");
    c.exten = get_string(*it, "exten");
  }
  return c;
}

event_type type_of(const std::string& name) {
  static const std::unordered_map<std::string, event_type> types = {
      {"StasisStart", event_type::stasis_start},
      {"StasisEnd", event_type::stasis_end},
      {"ChannelStateChange", event_type::channel_state_change},
      {"ChannelDtmfReceived", event_type::channel_dtmf_received},
      {"ChannelHangupRequest", event_type::channel_hangup_request},
      {"ChannelDestroyed", event_type::channel_destroyed},
      {"ChannelLeftBridge", event_type::channel_left_bridge},
      {"ChannelEnteredBridge", event_type::channel_entered_bridge},
      {"PlaybackStarted", event_type::playback_started},
      {"PlaybackFinished", event_type::playback_finished},
      {"ApplicationReplaced", event_type::application_replaced},
  };
  auto it = types.find(name);
  return it == types.end() ? event_type::other : it->second;
}

bool valid_digit(const std::string& d) {
  return d.size() == 1 && std::string_view("0123456789*#ABCD").find(d[0]) != std::string_view::npos;
}

}  // namespace

std::optional<event> parse_event(std::string_view text, std::string& error) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    error = "malformed JSON";
    return std::nullopt;
  }
  if (!j.is_object()) {
    error = "event is not a JSON object";
    return std::nullopt;
  }
  event e;
  e.type_name = get_string(j, "type");
  if (e.type_name.empty()) {
    error = "event has no type";
    return std::nullopt;
  }
  e.type = type_of(e.type_name);
  e.application = get_string(j, "application");
  if (e.type == event_type::other) return e;

  if (auto it = j.find("channel"); it != j.end()) {
    auto c = to_channel(*it, error);
    if (!c) return std::nullopt;
    e.chan = std::move(*c);
  }
  switch (e.type) {
    case event_type::stasis_start:
      if (auto it = j.find("args"); it != j.end()) {
        if (!it->is_array()) {
          error = "StasisStart args is not an array";
          return std::nullopt;
        }
        for (const auto& a : *it)
          if (a.is_string()) e.args.push_back(a.get<std::string>());
      }
      [[fallthrough]];
    case event_type::stasis_end:
    case event_type::channel_state_change:
    case event_type::channel_hangup_request:
    case event_type::channel_destroyed:
      if (!e.chan) {
        error = e.type_name + " without a channel";
        return std::nullopt;
      }
      e.cause = get_int(j, "cause");
      e.cause_txt = get_string(j, "cause_txt");
      if (auto it = j.find("soft"); it != j.end() && it->is_boolean()) e.soft = it->get<bool>();
      break;
    case event_type::channel_dtmf_received:
      e.digit = get_string(j, "digit");
      e.duration_ms = get_int(j, "duration_ms");
      if (!e.chan || !valid_digit(e.digit)) {
        error = "ChannelDtmfReceived without a channel or with an invalid digit";
        return std::nullopt;
      }
      break;
    case event_type::channel_left_bridge:
    case event_type::channel_entered_bridge:
      if (auto it = j.find("bridge"); it != j.end() && it->is_object()) e.bridge_id = get_string(*it, "id");
      if (!e.chan || e.bridge_id.empty()) {
        error = e.type_name + " without a channel or bridge";
        return std::nullopt;
      }
      break;
    case event_type::playback_started:
    case event_type::playback_finished:
      if (auto it = j.find("playback"); it != j.end() && it->is_object()) {
        e.playback_id = get_string(*it, "id");
        e.playback_state = get_string(*it, "state");
        e.target_uri = get_string(*it, "target_uri");
      }
      if (e.playback_id.empty()) {
        error = e.type_name + " without a playback id";
        return std::nullopt;
      }
      break;
    default:
      break;
  }
  return e;
}

std::optional<channel> parse_channel(std::string_view text, std::string& error) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) {
    error = "malformed JSON";
    return std::nullopt;
  }
  return to_channel(j, error);
}

std::optional<std::vector<channel>> parse_channel_list(std::string_view text, std::string& error) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_array()) {
    error = "expected a JSON array of channels";
    return std::nullopt;
  }
  std::vector<channel> out;
  for (const auto& item : j) {
    auto c = to_channel(item, error);
    if (!c) return std::nullopt;
    out.push_back(std::move(*c));
  }
  return out;
}

}  // namespace npcl::ari
