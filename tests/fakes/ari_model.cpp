#include "fakes/ari_model.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <optional>
#include <set>
#include <utility>

#include <nlohmann/json.hpp>

#include "npcl/util/ids.hpp"

namespace npcl::fakes {
namespace {

// Asterisk keeps the order in which it adds keys; ordered_json does too.
using json = nlohmann::ordered_json;

constexpr const char* k_asterisk_id = "02:fc:00:00:00:01";

// Asterisk's timestamp form: 2026-11-24T08:00:04.524+0000 (UTC here).
std::string now_timestamp() {
  using namespace std::chrono;
  const auto ms = duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char day[32];
  std::strftime(day, sizeof day, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[48];
  std::snprintf(out, sizeof out, "%s.%03d+0000", day, static_cast<int>(ms % 1000));
  return out;
}

// Untrusted strings (caller names, parameters) may hold invalid UTF-8: replace, never throw.
std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

ari_reply ok(const json& body) { return {200, dump(body), {}}; }
ari_reply no_content() { return {204, {}, {}}; }
ari_reply error(unsigned status, const std::string& message) {
  return {status, ari_model::error_body(message), {}};
}

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> out;
  std::string::size_type start = 0;
  for (;;) {
    const auto pos = text.find(sep, start);
    out.push_back(text.substr(start, pos - start));
    if (pos == std::string::npos) return out;
    start = pos + 1;
  }
}

std::string param(const std::map<std::string, std::string>& params, const std::string& key) {
  const auto it = params.find(key);
  return it == params.end() ? std::string{} : it->second;
}

bool iequals(const std::string& a, const std::string& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// Audio formats of a stock Asterisk build (codec and format modules loaded).
bool known_format(const std::string& f) {
  static const std::set<std::string> formats{
      "ulaw",   "alaw",   "gsm",    "g722",   "g726",  "g726aal2", "g729",    "adpcm",
      "ilbc",   "lpc10",  "speex",  "speex16", "speex32", "opus",  "siren7",  "siren14",
      "g719",   "testlaw", "slin",  "slin12", "slin16", "slin24",  "slin32",  "slin44",
      "slin48", "slin96", "slin192"};
  return formats.count(f) != 0;
}

// Bytes per 20 ms, as chan_websocket reports in MEDIA_WEBSOCKET_OPTIMAL_FRAME_SIZE.
int optimal_frame_size(const std::string& f) {
  if (f == "slin") return 320;
  if (f.rfind("slin", 0) == 0) return std::atoi(f.c_str() + 4) * 2 * 20;
  return 160;
}

}  // namespace

// ---------------------------------------------------------------------------------------------

struct ari_model::state {
  struct channel {
    std::uint64_t seq = 0;  // creation order, for listings
    std::string id, name, state;
    std::string caller_name, caller_number, connected_name, connected_number;
    std::string context, exten;
    int priority = 1;
    std::string app_name, app_data;
    std::string creationtime;
    std::string app;             // Stasis application it is in or was created for
    bool in_stasis = false;
    bool from_dialplan = false;
    bool app_created = false;    // created by externalMedia: the app sees it until ChannelDestroyed
    bool dial_pending = false;   // externalMedia reply sent, dial not run yet
    std::string bridge_id;
    std::vector<std::pair<std::string, std::string>> vars;  // channel variables, in the order set
    std::string partner_id;      // the other half of a Local pair
    std::vector<std::string> stasis_args;
    std::string dialstring;
  };
  struct bridge {
    std::uint64_t seq = 0;
    std::string id, type, name, creationtime, app;
    std::vector<std::string> channels;
  };

  std::string default_app;
  event_sink sink;
  std::set<std::string> active_apps;
  std::map<std::string, channel> channels;
  std::map<std::string, bridge> bridges;
  std::uint64_t seq = 0;          // creation counter for channels and bridges
  std::uint64_t unique_counter = 0;  // the ".N" part of generated channel ids
  std::uint32_t local_counter = 0;   // the hex suffix of Local channel names
  std::uint16_t fixed_rtp_port = 0;
  std::string fixed_media_id;  // MEDIA_WEBSOCKET_CONNECTION_ID to hand out; empty: a fresh UUID
  std::uint16_t next_rtp_port = 10000;
  std::string startup_time = now_timestamp();

  // ----- lookups -----
  channel* find_channel(const std::string& id) {
    const auto it = channels.find(id);
    return it == channels.end() ? nullptr : &it->second;
  }
  bridge* find_bridge(const std::string& id) {
    const auto it = bridges.find(id);
    return it == bridges.end() ? nullptr : &it->second;
  }
  static std::string var(const channel& c, const std::string& name) {
    for (const auto& [k, v] : c.vars)
      if (k == name) return v;
    return {};
  }
  static bool has_var(const channel& c, const std::string& name) {
    return std::any_of(c.vars.begin(), c.vars.end(), [&](const auto& kv) { return kv.first == name; });
  }
  static void put_var(channel& c, const std::string& name, const std::string& value) {
    for (auto& [k, v] : c.vars)
      if (k == name) {
        v = value;
        return;
      }
    c.vars.emplace_back(name, value);
  }
  std::string new_channel_id() {
    return std::to_string(std::time(nullptr)) + "." + std::to_string(unique_counter++);
  }
  bool app_registered(const std::string& app) const {
    if (active_apps.count(app)) return true;
    return std::any_of(channels.begin(), channels.end(),
                       [&](const auto& kv) { return kv.second.in_stasis && kv.second.app == app; });
  }

  // ----- JSON shapes, keys in the captured order -----
  static json channel_json(const channel& c) {
    json j;
    j["id"] = c.id;
    j["name"] = c.name;
    j["state"] = c.state;
    j["protocol_id"] = "";
    j["caller"] = json{{"name", c.caller_name}, {"number", c.caller_number}};
    j["connected"] = json{{"name", c.connected_name}, {"number", c.connected_number}};
    j["accountcode"] = "";
    j["dialplan"] = json{{"context", c.context},     {"exten", c.exten},
                         {"priority", c.priority},   {"app_name", c.app_name},
                         {"app_data", c.app_data}};
    j["creationtime"] = c.creationtime;
    j["language"] = "en";
    return j;
  }
  static json bridge_json(const bridge& b) {
    json j;
    j["id"] = b.id;
    if (b.type == "holding")
      j["technology"] = "holding_bridge";
    else
      j["technology"] = b.channels.size() >= 3 ? "softmix" : "simple_bridge";
    j["bridge_type"] = b.type;
    j["bridge_class"] = "stasis";
    j["creator"] = "Stasis";
    j["name"] = b.name;
    j["channels"] = b.channels;
    j["creationtime"] = b.creationtime;
    j["video_mode"] = "talker";
    return j;
  }

  // ----- events -----
  // `head` holds keys Asterisk puts before "type" (ChannelVarset, ChannelHangupRequest);
  // `tail` the keys between "timestamp" and the trailing asterisk_id/application.
  void emit(const std::string& app, json head, const char* type, const json& tail) {
    if (!active_apps.count(app)) return;  // no socket: lost, never replayed
    json e = head.is_object() ? std::move(head) : json::object();
    e["type"] = type;
    e["timestamp"] = now_timestamp();
    if (tail.is_object())
      for (const auto& [k, v] : tail.items()) e[k] = v;
    e["asterisk_id"] = k_asterisk_id;
    e["application"] = app;
    sink(app, dump(e));
  }
  void emit_channel(const channel& c, json head, const char* type, json tail = json::object()) {
    tail["channel"] = channel_json(c);
    emit(c.app, std::move(head), type, tail);
  }
  void emit_varset(channel& c, const std::string& name, const std::string& value) {
    put_var(c, name, value);
    emit_channel(c, json{{"variable", name}, {"value", value}}, "ChannelVarset");
  }
  void emit_bridge_channel(const channel& c, const bridge& b, const char* type) {
    json tail;
    tail["bridge"] = bridge_json(b);
    tail["channel"] = channel_json(c);
    emit(c.app, json::object(), type, tail);
  }

  // ----- behaviour -----
  void enter_bridge(channel& c, bridge& b) {
    b.channels.push_back(c.id);
    c.bridge_id = b.id;
    if (b.app.empty()) b.app = c.app;
    emit_bridge_channel(c, b, "ChannelEnteredBridge");
  }

  // After entering, members learn their peer (BRIDGEPEER) and, two-party, the connected line.
  void update_peers(bridge& b) {
    if (b.channels.size() == 2) {
      channel* first = find_channel(b.channels[0]);
      channel* second = find_channel(b.channels[1]);
      if (!first || !second) return;
      if (var(*first, "BRIDGEPEER") == second->name && var(*second, "BRIDGEPEER") == first->name) return;
      emit_varset(*first, "BRIDGEPEER", second->name);
      emit_varset(*second, "BRIDGEPEER", first->name);
      second->connected_name = first->caller_name;
      second->connected_number = first->caller_number;
      emit_channel(*second, json::object(), "ChannelConnectedLine");
      first->connected_name = second->caller_name;
      first->connected_number = second->caller_number;
      emit_channel(*first, json::object(), "ChannelConnectedLine");
    } else if (b.channels.size() > 2) {
      for (const auto& id : b.channels) {
        channel* member = find_channel(id);
        if (!member) continue;
        std::string others;
        for (const auto& other : b.channels) {
          if (other == id) continue;
          if (const channel* o = find_channel(other)) others += (others.empty() ? "" : ",") + o->name;
        }
        if (var(*member, "BRIDGEPEER") != others) emit_varset(*member, "BRIDGEPEER", others);
      }
    }
  }

  void leave_bridge(channel& c) {
    bridge* b = find_bridge(c.bridge_id);
    c.bridge_id.clear();
    if (!b) return;
    b->channels.erase(std::remove(b->channels.begin(), b->channels.end(), c.id), b->channels.end());
    if (!var(c, "BRIDGEPEER").empty()) emit_varset(c, "BRIDGEPEER", "");
    emit_bridge_channel(c, *b, "ChannelLeftBridge");
  }

  // The channel leaves Stasis; a channel the app created is then hung up and destroyed,
  // and the app, still subscribed to it, sees that. A dialplan channel's subscription ends
  // with StasisEnd.
  void end_stasis(channel& c) {
    if (!c.bridge_id.empty()) leave_bridge(c);
    c.in_stasis = false;
    emit_channel(c, json::object(), "StasisEnd");
  }

  void destroy_app_channel(channel& c) {
    emit_varset(c, "STASISSTATUS", "SUCCESS");
    c.app_name = "AppDial2";
    c.app_data = "(Outgoing Line)";
    emit_channel(c, json::object(), "ChannelDestroyed",
                 json{{"cause", 16}, {"cause_txt", "Normal Clearing"}});
  }

  void remove_channel(const std::string& id) {
    const channel* c = find_channel(id);
    if (!c) return;
    const std::string partner = c->partner_id;
    channels.erase(id);
    if (!partner.empty()) channels.erase(partner);  // a Local pair goes as one
  }

  // `soft` is a hangup requested over ARI (cause carries the soft-hangup flag 32); otherwise
  // the far end hung up with Q.850 `cause`.
  void hangup(channel& c, bool soft, int cause) {
    if (c.dial_pending) {
      // Still dialing: it never reached Stasis, the app only sees it go.
      emit_channel(c, json::object(), "ChannelDestroyed",
                   json{{"cause", 16}, {"cause_txt", "Normal Clearing"}});
    } else if (c.in_stasis) {
      json head{{"cause", soft ? 32 : cause}};
      if (soft) head["soft"] = true;
      emit_channel(c, std::move(head), "ChannelHangupRequest");
      end_stasis(c);
      if (c.app_created) destroy_app_channel(c);
    } else if (!c.bridge_id.empty()) {
      leave_bridge(c);
    }
    remove_channel(c.id);
  }

  // ----- REST handlers -----
  using params_t = std::map<std::string, std::string>;

  // find_control(): 404 if the channel does not exist, 409 outside Stasis, 412 while Down.
  std::optional<ari_reply> control_error(const std::string& id, channel*& out, bool check_state = true) {
    out = find_channel(id);
    if (!out) return error(404, "Channel not found");
    if (!out->in_stasis) return error(409, "Channel not in Stasis application");
    if (check_state && out->state == "Down") return error(412, "Channel in invalid state");
    return std::nullopt;
  }

  ari_reply asterisk_info() {
    json j;
    j["build"] = json{{"os", "Linux"},           {"kernel", "6.18.44-fc-v782"},
                      {"machine", "x86_64"},     {"options", "OPTIONAL_API"},
                      {"date", "2026-11-24 07:33:53 UTC"}, {"user", "root"}};
    j["system"] = json{{"version", "23.4.1"}, {"entity_id", k_asterisk_id}};
    j["config"] = json{{"name", ""}, {"default_language", "en"},
                       {"setid", json{{"user", ""}, {"group", ""}}}};
    j["status"] = json{{"startup_time", startup_time}, {"last_reload_time", startup_time}};
    return ok(j);
  }

  std::vector<const channel*> ordered_channels() const {
    std::vector<const channel*> out;
    for (const auto& [id, c] : channels) out.push_back(&c);
    std::sort(out.begin(), out.end(), [](auto* a, auto* b) { return a->seq < b->seq; });
    return out;
  }
  std::vector<const bridge*> ordered_bridges() const {
    std::vector<const bridge*> out;
    for (const auto& [id, b] : bridges) out.push_back(&b);
    std::sort(out.begin(), out.end(), [](auto* a, auto* b) { return a->seq < b->seq; });
    return out;
  }

  ari_reply list_channels() {
    json arr = json::array();
    for (const channel* c : ordered_channels()) arr.push_back(channel_json(*c));
    return ok(arr);
  }

  ari_reply get_channel(const std::string& id) {
    const channel* c = find_channel(id);
    if (!c) return error(404, "Channel not found");
    return ok(channel_json(*c));
  }

  ari_reply delete_channel(const std::string& id, const params_t& p) {
    channel* c = find_channel(id);
    if (!c) return error(404, "Channel not found");
    static const std::set<std::string> reasons{
        "normal",         "busy",           "congestion",     "no_answer",   "timeout",
        "rejected",       "unallocated",    "normal_unspecified", "number_incomplete",
        "codec_mismatch", "interworking",   "failure",        "answered_elsewhere"};
    const std::string reason = param(p, "reason");
    const std::string reason_code = param(p, "reason_code");
    if (!reason.empty() && !reason_code.empty())
      return error(400, "The reason and reason_code can't both be specified");
    if (!reason.empty() && !reasons.count(reason)) return error(400, "Invalid reason for hangup provided");
    if (!reason_code.empty() &&
        !std::all_of(reason_code.begin(), reason_code.end(), [](unsigned char ch) { return std::isdigit(ch); }))
      return error(400, "Invalid reason for hangup provided");
    if (!c->in_stasis && !c->partner_id.empty()) {
      // Hanging up the caller's half of a Local pair: the Stasis half sees a far-end hangup.
      if (channel* partner = find_channel(c->partner_id); partner && partner->in_stasis) {
        hangup(*partner, false, 16);
        return no_content();
      }
    }
    hangup(*c, true, 32);
    return no_content();
  }

  ari_reply answer(const std::string& id) {
    channel* c = nullptr;
    if (auto e = control_error(id, c)) return *e;
    if (c->state != "Up") {
      c->state = "Up";
      emit_channel(*c, json::object(), "ChannelStateChange");
    }
    return no_content();
  }

  ari_reply continue_in_dialplan(const std::string& id, const params_t& p) {
    channel* c = nullptr;
    if (auto e = control_error(id, c)) return *e;
    const std::string context = param(p, "context");
    const std::string exten = param(p, "extension");
    const std::string priority = param(p, "priority");
    if (!context.empty()) c->context = context;
    if (!exten.empty()) c->exten = exten;
    c->priority = priority.empty() ? (context.empty() && exten.empty() ? c->priority + 1 : 1)
                                   : std::atoi(priority.c_str());
    leave_stasis_for_dialplan(*c);
    return no_content();
  }

  void leave_stasis_for_dialplan(channel& c) {
    end_stasis(c);
    c.app_name.clear();
    c.app_data.clear();
    if (c.app_created) {
      // An externalMedia channel has no dialplan to go back to: Dial() ends and hangs it up.
      destroy_app_channel(c);
      remove_channel(c.id);
    }
  }

  ari_reply redirect(const std::string& id, const params_t& p) {
    channel* c = nullptr;
    if (auto e = control_error(id, c)) return *e;
    const std::string endpoint = param(p, "endpoint");
    if (endpoint.empty()) return error(400, "Required parameter 'endpoint' not provided.");
    const auto slash = endpoint.find('/');
    if (slash == std::string::npos || slash == 0)
      return error(422, "Endpoint parameter '" + endpoint + "' does not contain tech/resource");
    if (slash + 1 == endpoint.size())
      return error(422, "No resource provided in endpoint parameter '" + endpoint + "'");
    const std::string tech = endpoint.substr(0, slash);
    const std::string channel_tech = c->name.substr(0, c->name.find('/'));
    if (!iequals(tech, channel_tech))
      return error(422, "Endpoint technology '" + tech + "' does not match channel technology '" +
                            channel_tech + "'");
    leave_stasis_for_dialplan(*c);
    return no_content();
  }

  ari_reply dtmf(const std::string& id, const params_t& p) {
    channel* c = nullptr;
    if (auto e = control_error(id, c)) return *e;
    if (param(p, "dtmf").empty()) return error(400, "DTMF is required");
    return no_content();
  }

  ari_reply get_variable(const std::string& id, const params_t& p) {
    const std::string name = param(p, "variable");
    if (name.empty()) return error(400, "Variable name is required");
    const channel* c = find_channel(id);
    if (!c) return error(404, "Provided channel was not found");
    if (!has_var(*c, name)) return error(404, "Provided variable was not found");
    return ok(json{{"value", var(*c, name)}});
  }

  ari_reply set_variable(const std::string& id, const params_t& p) {
    const std::string name = param(p, "variable");
    if (name.empty()) return error(400, "Variable name is required");
    channel* c = nullptr;
    if (auto e = control_error(id, c, false)) return *e;
    emit_varset(*c, name, param(p, "value"));
    return no_content();
  }

  ari_reply rtp_statistics(const std::string& id) {
    if (!find_channel(id)) return error(404, "Channel not found");
    return error(404, "RTP info not found");  // UnicastRTP and Local channels have none
  }

  ari_reply external_media(params_t p, const json* variables) {
    const std::string app = param(p, "app");
    if (app.empty()) return error(400, "app cannot be empty");
    const std::string host = param(p, "external_host");
    const std::string format = param(p, "format");
    std::string encapsulation = param(p, "encapsulation");
    std::string transport = param(p, "transport");
    std::string connection_type = param(p, "connection_type");
    std::string direction = param(p, "direction");
    const std::string data = param(p, "data");
    const std::string transport_data = param(p, "transport_data");
    const std::string channel_id = param(p, "channelId");
    if (encapsulation.empty()) encapsulation = "rtp";
    if (transport.empty()) transport = "udp";
    if (connection_type.empty()) connection_type = "client";
    if (direction.empty()) direction = "both";
    if (format.empty()) return error(400, "format cannot be empty");

    if (transport == "websocket" && encapsulation != "none")
      return error(400, "encapsulation must be 'none' for websocket transport");
    if (encapsulation == "rtp" && transport != "udp")
      return error(400, "transport must be 'udp' for rtp encapsulation");
    if (encapsulation == "audiosocket" && transport != "tcp")
      return error(400, "transport must be 'tcp' for audiosocket encapsulation");
    if (encapsulation == "none" && transport != "websocket")
      return error(400, "transport must be 'websocket' for none encapsulation");
    if (encapsulation != "rtp" && encapsulation != "audiosocket" && encapsulation != "none")
      return error(501, "The encapsulation and/or transport is not supported");
    if (connection_type != "client" && connection_type != "server")
      return error(400, "connection_type must be 'client' or 'server'");
    if (connection_type == "server" && transport != "websocket")
      return error(400, "connection_type 'server' is only valid for websocket transport");
    if (direction != "both" && direction != "in" && direction != "out")
      return error(400, "direction must be 'both', 'in' or 'out'");

    const bool websocket = transport == "websocket";
    if (!websocket) {
      const auto colon = host.rfind(':');
      const bool has_port = colon != std::string::npos && colon + 1 < host.size() && colon > 0 &&
                            std::all_of(host.begin() + static_cast<long>(colon) + 1, host.end(),
                                        [](unsigned char ch) { return std::isdigit(ch); });
      if (!has_port)
        return error(400, "external_host must be <host>:<port> for all transports other than websocket");
    } else if (connection_type == "client" && host.empty()) {
      return error(400, "external_host is required for websocket client connections");
    }
    if (encapsulation == "audiosocket") {
      if (data.empty()) return error(400, "data can not be empty");
      unsigned char raw[16];
      if (!util::parse_uuid(data, raw)) return error(400, "data must be a valid UUID");
    }
    if (!known_format(format))
      return error(500, "An internal error prevented this request from being handled");

    std::vector<std::pair<std::string, std::string>> given;
    if (variables) {
      if (!variables->is_object()) return error(400, "Only string values in the 'variables' object allowed");
      for (const auto& [k, v] : variables->items()) {
        if (v.is_string())
          given.emplace_back(k, v.get<std::string>());
        else if (v.is_object() && v.contains("value") && v["value"].is_string())
          given.emplace_back(k, v["value"].get<std::string>());
        else
          return error(400, "Only string values in the 'variables' object allowed");
      }
    }
    if (!channel_id.empty() && find_channel(channel_id))
      return error(409, "Channel with given unique ID already exists");

    channel c;
    c.seq = seq++;
    c.id = channel_id.empty() ? new_channel_id() : channel_id;
    char pointer[24];
    std::snprintf(pointer, sizeof pointer, "0x7f1d%08llx",
                  static_cast<unsigned long long>(0x48000000ull + c.seq * 0x27f0ull));
    c.state = "Down";
    c.context = "default";
    c.exten = "s";
    c.priority = 1;
    c.app_name = "AppDial2";
    c.app_data = "(Outgoing Line)";
    c.creationtime = now_timestamp();
    c.app = app;
    c.app_created = true;
    c.dial_pending = true;
    if (!data.empty()) c.stasis_args.push_back(data);
    // With variables, Asterisk reports STASISSTATUS (still empty) and them first.
    if (!given.empty()) {
      put_var(c, "STASISSTATUS", "");
      for (const auto& [k, v] : given) put_var(c, k, v);
    }
    if (encapsulation == "rtp") {
      c.name = "UnicastRTP/" + host + "-" + pointer;
      c.dialstring = host + "/c(" + format + ")";
      std::uint16_t port = fixed_rtp_port;
      if (port == 0) {
        port = next_rtp_port;
        next_rtp_port = static_cast<std::uint16_t>(next_rtp_port >= 20000 ? 10000 : next_rtp_port + 2);
      }
      put_var(c, "UNICASTRTP_LOCAL_PORT", std::to_string(port));
      put_var(c, "UNICASTRTP_LOCAL_ADDRESS", "127.0.0.1");
    } else if (encapsulation == "audiosocket") {
      c.name = "AudioSocket/" + host + "-" + data;
      c.dialstring = host + "/" + data;
      put_var(c, "AUDIOSOCKET_SERVICE", host);
      put_var(c, "AUDIOSOCKET_UUID", data);
    } else {
      const bool server = connection_type == "server";
      const std::string target = server ? "INCOMING" : host;
      c.name = "WebSocket/" + target + "/" + pointer;
      c.dialstring = target;
      if (!transport_data.empty()) c.dialstring += "/" + transport_data;
      if (direction != "both") c.dialstring += "/d(" + direction + ")";
      put_var(c, "MEDIA_WEBSOCKET_CONNECTION_ID",
              server ? (fixed_media_id.empty() ? util::make_uuid() : fixed_media_id) : host);
      put_var(c, "MEDIA_WEBSOCKET_OPTIMAL_FRAME_SIZE", std::to_string(optimal_frame_size(format)));
    }

    json reply = channel_json(c);
    json vars = json::object();
    for (const auto& [k, v] : c.vars) vars[k] = v;
    reply["channelvars"] = vars;
    const std::string id = c.id;
    channels.emplace(id, std::move(c));
    ari_reply r = ok(reply);
    r.dial_channel_id = id;
    return r;
  }

  ari_reply list_bridges() {
    json arr = json::array();
    for (const bridge* b : ordered_bridges()) arr.push_back(bridge_json(*b));
    return ok(arr);
  }

  ari_reply create_bridge(const std::string& forced_id, const params_t& p) {
    const std::string id = forced_id.empty() ? param(p, "bridgeId") : forced_id;
    if (!id.empty() && find_bridge(id)) return error(409, "Bridge with id '" + id + "' already exists");
    std::string type = "mixing";
    bool valid = true;
    static const std::set<std::string> words{"mixing",    "holding",      "dtmf_events", "proxy_media",
                                             "video_sfu", "video_single", "sdp_label"};
    const std::string requested = param(p, "type");
    if (!requested.empty()) {
      for (const auto& word : split(requested, ',')) {
        if (!words.count(word)) valid = false;
        if (word == "holding") type = "holding";
      }
    }
    if (!valid)
      return error(500, "Unable to create bridge. Possible duplicate bridge id '" +
                            (id.empty() ? std::string("(null)") : id) + "'");
    bridge b;
    b.seq = seq++;
    b.id = id.empty() ? util::make_uuid() : id;
    b.type = type;
    b.name = param(p, "name");
    b.creationtime = now_timestamp();
    json reply = bridge_json(b);
    bridges.emplace(b.id, std::move(b));
    return ok(reply);
  }

  ari_reply get_bridge(const std::string& id) {
    const bridge* b = find_bridge(id);
    if (!b) return error(404, "Bridge not found");
    return ok(bridge_json(*b));
  }

  ari_reply delete_bridge(const std::string& id) {
    bridge* b = find_bridge(id);
    if (!b) return error(404, "Bridge not found");
    const auto members = b->channels;
    for (const auto& member : members)
      if (channel* c = find_channel(member)) leave_bridge(*c);
    const std::string app = b->app.empty() ? default_app : b->app;
    emit(app, json::object(), "BridgeDestroyed", json{{"bridge", bridge_json(*b)}});
    bridges.erase(id);
    return no_content();
  }

  // The bridge and the channels named by "channel" (comma list) of add/removeChannel, or
  // the error Asterisk gives; `members_only` also requires each to be in that bridge.
  std::optional<ari_reply> resolve_members(const std::string& id, const params_t& p, bool members_only,
                                           bridge*& b, std::vector<channel*>& named) {
    b = find_bridge(id);
    if (!b) return error(404, "Bridge not found");
    const std::string list = param(p, "channel");
    if (list.empty()) return error(400, "Missing parameter channel");
    for (const auto& cid : split(list, ',')) {
      channel* c = find_channel(cid);
      if (!c) return error(400, "Channel not found");
      if (!c->in_stasis) return error(422, "Channel not in Stasis application");
      if (members_only && c->bridge_id != id) return error(422, "Channel not in this bridge");
      named.push_back(c);
    }
    return std::nullopt;
  }

  ari_reply add_channels(const std::string& id, const params_t& p) {
    bridge* b = nullptr;
    std::vector<channel*> joining;
    if (auto e = resolve_members(id, p, false, b, joining)) return *e;
    for (channel* c : joining) {
      if (c->bridge_id == id) continue;
      if (!c->bridge_id.empty()) leave_bridge(*c);
      enter_bridge(*c, *b);
    }
    update_peers(*b);
    return no_content();
  }

  ari_reply remove_channels(const std::string& id, const params_t& p) {
    bridge* b = nullptr;
    std::vector<channel*> leaving;
    if (auto e = resolve_members(id, p, true, b, leaving)) return *e;
    for (channel* c : leaving) leave_bridge(*c);
    return no_content();
  }

  json application_json(const std::string& app) const {
    json channel_ids = json::array();
    for (const channel* c : ordered_channels())
      if (c->in_stasis && c->app == app) channel_ids.push_back(c->id);
    json bridge_ids = json::array();
    for (const bridge* b : ordered_bridges())
      if (b->app == app) bridge_ids.push_back(b->id);
    json j;
    j["name"] = app;
    j["channel_ids"] = channel_ids;
    j["bridge_ids"] = bridge_ids;
    j["endpoint_ids"] = json::array();
    j["device_names"] = json::array();
    j["events_allowed"] = json::array();
    j["events_disallowed"] = json::array();
    return j;
  }

  ari_reply list_applications() {
    std::set<std::string> names(active_apps.begin(), active_apps.end());
    for (const auto& [id, c] : channels)
      if (c.in_stasis) names.insert(c.app);
    json arr = json::array();
    for (const auto& name : names) arr.push_back(application_json(name));
    return ok(arr);
  }

  ari_reply get_application(const std::string& app) {
    if (!app_registered(app)) return error(404, "Application not found");
    return ok(application_json(app));
  }
};

// ---------------------------------------------------------------------------------------------

namespace {

// One ARI route: method, path pattern ("*" = one path segment) and its parameters.
struct route {
  const char* method;
  std::vector<std::string> pattern;
  std::vector<std::string> params;
  int id;
};

enum route_id {
  r_info, r_channels, r_external_media, r_channel_get, r_channel_delete, r_answer, r_continue,
  r_redirect, r_dtmf, r_var_get, r_var_set, r_rtp_stats, r_bridges, r_bridge_create,
  r_bridge_create_id, r_bridge_get, r_bridge_delete, r_add, r_remove, r_apps, r_app, r_endpoints
};

const std::vector<route>& routes() {
  static const std::vector<route> table{
      {"GET", {"asterisk", "info"}, {"only"}, r_info},
      {"GET", {"channels"}, {}, r_channels},
      {"POST", {"channels", "externalMedia"},
       {"app", "external_host", "format", "encapsulation", "transport", "connection_type", "direction",
        "data", "transport_data", "channelId", "variables"},
       r_external_media},
      {"GET", {"channels", "*"}, {}, r_channel_get},
      {"DELETE", {"channels", "*"}, {"reason_code", "reason"}, r_channel_delete},
      {"POST", {"channels", "*", "answer"}, {}, r_answer},
      {"POST", {"channels", "*", "continue"}, {"context", "extension", "priority", "label"}, r_continue},
      {"POST", {"channels", "*", "redirect"}, {"endpoint"}, r_redirect},
      {"POST", {"channels", "*", "dtmf"}, {"dtmf", "before", "between", "duration", "after"}, r_dtmf},
      {"GET", {"channels", "*", "variable"}, {"variable"}, r_var_get},
      {"POST", {"channels", "*", "variable"}, {"variable", "value"}, r_var_set},
      {"GET", {"channels", "*", "rtp_statistics"}, {}, r_rtp_stats},
      {"GET", {"bridges"}, {}, r_bridges},
      {"POST", {"bridges"}, {"type", "bridgeId", "name", "variables"}, r_bridge_create},
      {"POST", {"bridges", "*"}, {"type", "name", "variables"}, r_bridge_create_id},
      {"GET", {"bridges", "*"}, {}, r_bridge_get},
      {"DELETE", {"bridges", "*"}, {}, r_bridge_delete},
      {"POST", {"bridges", "*", "addChannel"},
       {"channel", "role", "absorbDTMF", "mute", "inhibitConnectedLineUpdates"}, r_add},
      {"POST", {"bridges", "*", "removeChannel"}, {"channel"}, r_remove},
      {"GET", {"applications"}, {}, r_apps},
      {"GET", {"applications", "*"}, {}, r_app},
      {"GET", {"endpoints"}, {}, r_endpoints},
  };
  return table;
}

// Number of literal segments matched, or -1: a literal beats "*" as in Asterisk's path tree.
int match(const std::vector<std::string>& pattern, const std::vector<std::string>& segments) {
  if (pattern.size() != segments.size()) return -1;
  int literals = 0;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == "*") {
      if (segments[i].empty()) return -1;
    } else if (pattern[i] == segments[i]) {
      ++literals;
    } else {
      return -1;
    }
  }
  return literals;
}

}  // namespace

ari_model::ari_model(std::string default_app, event_sink sink) : s_(std::make_unique<state>()) {
  s_->default_app = std::move(default_app);
  s_->sink = std::move(sink);
}

ari_model::~ari_model() = default;

std::string ari_model::error_body(const std::string& message) { return dump(json{{"message", message}}); }

ari_reply ari_model::handle(const std::string& method, const std::vector<std::string>& segments,
                            std::map<std::string, std::string> params, const std::string& body,
                            const std::string& content_type) {
  // Pick the most specific path pattern first, then the method: 404 vs 405 as Asterisk.
  int best = -1;
  for (const auto& r : routes()) best = std::max(best, match(r.pattern, segments));
  if (best < 0) return error(404, "Resource not found");
  const route* found = nullptr;
  for (const auto& r : routes())
    if (match(r.pattern, segments) == best && r.method == method) found = &r;
  if (!found) return error(405, "Invalid method");

  json body_json;
  const bool json_body = content_type.rfind("application/json", 0) == 0;
  if (json_body && !body.empty()) {
    body_json = json::parse(body, nullptr, false);
    if (body_json.is_discarded() || !body_json.is_object()) return error(400, "Invalid JSON body");
    for (const auto& [k, v] : body_json.items()) {
      if (k == "variables") continue;
      if (v.is_string())
        params[k] = v.get<std::string>();
      else if (!v.is_null())
        params[k] = dump(v);
    }
    if (body_json.contains("variables")) params["variables"] = "";
  }
  for (const auto& [k, v] : params)
    if (std::find(found->params.begin(), found->params.end(), k) == found->params.end())
      return error(400, "unknown parameter " + k);
  const json* variables =
      body_json.is_object() && body_json.contains("variables") ? &body_json["variables"] : nullptr;

  state& s = *s_;
  const std::string arg = segments.size() > 1 ? segments[1] : std::string{};
  switch (found->id) {
    case r_info: return s.asterisk_info();
    case r_channels: return s.list_channels();
    case r_external_media: return s.external_media(params, variables);
    case r_channel_get: return s.get_channel(arg);
    case r_channel_delete: return s.delete_channel(arg, params);
    case r_answer: return s.answer(arg);
    case r_continue: return s.continue_in_dialplan(arg, params);
    case r_redirect: return s.redirect(arg, params);
    case r_dtmf: return s.dtmf(arg, params);
    case r_var_get: return s.get_variable(arg, params);
    case r_var_set: return s.set_variable(arg, params);
    case r_rtp_stats: return s.rtp_statistics(arg);
    case r_bridges: return s.list_bridges();
    case r_bridge_create: return s.create_bridge({}, params);
    case r_bridge_create_id: return s.create_bridge(arg, params);
    case r_bridge_get: return s.get_bridge(arg);
    case r_bridge_delete: return s.delete_bridge(arg);
    case r_add: return s.add_channels(arg, params);
    case r_remove: return s.remove_channels(arg, params);
    case r_apps: return s.list_applications();
    case r_app: return s.get_application(arg);
    case r_endpoints: return ok(json::array());
    default: return error(404, "Resource not found");
  }
}

void ari_model::complete_dial(const std::string& channel_id) {
  state& s = *s_;
  state::channel* c = s.find_channel(channel_id);
  if (!c || !c->dial_pending) return;
  c->dial_pending = false;
  if (!s.active_apps.count(c->app)) {
    // Stasis() fails for an app without a socket: STASISSTATUS=FAILED and Dial() hangs up.
    s.remove_channel(channel_id);
    return;
  }
  const auto dial = [&](const char* status) {
    json tail{{"dialstatus", status}, {"forward", ""}, {"dialstring", c->dialstring}};
    tail["peer"] = state::channel_json(*c);
    s.emit(c->app, json::object(), "Dial", tail);
  };
  dial("");
  c->state = "Up";
  s.emit_channel(*c, json::object(), "ChannelStateChange");
  dial("ANSWER");
  c->app_name = "Stasis";
  c->app_data = c->app;
  s.emit_varset(*c, "STASISSTATUS", "");
  c->in_stasis = true;
  s.emit_channel(*c, json::object(), "StasisStart", json{{"args", c->stasis_args}});
}

std::string ari_model::place_call(const std::string& caller_number, const std::string& caller_name,
                                  const std::vector<std::string>& args, const std::string& exten) {
  state& s = *s_;
  if (!s.active_apps.count(s.default_app)) return {};  // "Stasis app doesn't exist"
  char base[64];
  std::snprintf(base, sizeof base, "Local/%s@default-%08x", exten.c_str(), s.local_counter++);
  const std::string created = now_timestamp();
  state::channel one;
  one.seq = s.seq++;
  one.id = s.new_channel_id();
  one.name = std::string(base) + ";1";
  one.state = "Up";
  one.caller_name = one.connected_name = caller_name;
  one.caller_number = one.connected_number = caller_number;
  one.context = "caller";
  one.exten = "s";
  one.priority = 1;
  one.app_name = "Wait";
  one.app_data = "1";
  one.creationtime = created;
  one.from_dialplan = true;

  state::channel two = one;
  two.seq = s.seq++;
  two.id = s.new_channel_id();
  two.name = std::string(base) + ";2";
  two.context = "default";
  two.exten = exten;
  two.priority = 3;
  two.app_name = "Stasis";
  two.app_data = s.default_app;
  for (const auto& a : args) two.app_data += "," + a;
  two.app = s.default_app;
  two.in_stasis = true;
  one.partner_id = two.id;
  two.partner_id = one.id;

  const std::string id = two.id;
  s.channels.emplace(one.id, std::move(one));
  auto& stored = s.channels.emplace(id, std::move(two)).first->second;
  s.emit_channel(stored, json::object(), "StasisStart", json{{"args", args}});
  return id;
}

bool ari_model::caller_hangup(const std::string& id) {
  state::channel* c = s_->find_channel(id);
  if (!c) return false;
  // Either half of a Local pair may be named; the Stasis half is the one the app sees go.
  if (!c->in_stasis && !c->partner_id.empty())
    if (state::channel* partner = s_->find_channel(c->partner_id); partner && partner->in_stasis) c = partner;
  s_->hangup(*c, false, 16);
  return true;
}

bool ari_model::send_dtmf(const std::string& id, char digit, int duration_ms) {
  state::channel* c = s_->find_channel(id);
  if (!c || !c->in_stasis) return false;
  s_->emit_channel(*c, json::object(), "ChannelDtmfReceived",
                   json{{"digit", std::string(1, digit)}, {"duration_ms", duration_ms}});
  return true;
}

void ari_model::set_app_active(const std::string& app, bool active) {
  if (active)
    s_->active_apps.insert(app);
  else
    s_->active_apps.erase(app);
}

std::string ari_model::application_replaced_event(const std::string& app) const {
  return dump(json{{"type", "ApplicationReplaced"}, {"timestamp", now_timestamp()},
                   {"asterisk_id", k_asterisk_id}, {"application", app}});
}

void ari_model::set_unicastrtp_port(std::uint16_t port) { s_->fixed_rtp_port = port; }

void ari_model::set_media_connection_id(std::string id) { s_->fixed_media_id = std::move(id); }

std::vector<channel_info> ari_model::channels() const {
  std::vector<channel_info> out;
  for (const auto* c : s_->ordered_channels())
    out.push_back({c->id, c->name, c->state, c->in_stasis, c->bridge_id, c->from_dialplan});
  return out;
}

std::vector<bridge_info> ari_model::bridges() const {
  std::vector<bridge_info> out;
  for (const auto* b : s_->ordered_bridges()) out.push_back({b->id, b->type, b->channels});
  return out;
}

bool ari_model::idle() const {
  if (!s_->bridges.empty()) return false;
  return std::none_of(s_->channels.begin(), s_->channels.end(),
                      [](const auto& kv) { return kv.second.in_stasis || kv.second.app_created; });
}

}  // namespace npcl::fakes
