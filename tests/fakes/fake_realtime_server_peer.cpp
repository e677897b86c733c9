// The fake OpenAI Realtime server: transport (plain or TLS WebSocket, one coroutine pair per
// connection) and the protocol model (session, VAD, conversation, responses) of each
// connection. Everything but the public API runs on the server's own thread; the data the
// tests observe sits behind impl::mu.
#include "fakes/local_listener.hpp"
#include "fakes/fake_realtime_server.hpp"

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <numbers>
#include <set>
#include <thread>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/detail/base64.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <nlohmann/json.hpp>

#include "fakes/test_tls.hpp"
#include "npcl/audio/g711.hpp"
#include "npcl/audio/resampler.hpp"
#include "util/beast.hpp"

namespace npcl::fakes {
namespace {

using json = nlohmann::ordered_json;
using tcp = net::ip::tcp;
namespace ssl = net::ssl;
constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

// ---------------------------------------------------------------- helpers

// Standard base64 with padding, nothing else: appended audio is untrusted.
bool decode_base64(std::string_view in, std::string& out) {
  static constexpr std::string_view alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  if (in.size() % 4 != 0) return false;
  std::size_t pad = 0;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '=') {
      if (i + 2 < in.size()) return false;
      ++pad;
    } else if (pad > 0 || alphabet.find(in[i]) == std::string_view::npos) {
      return false;
    }
  }
  namespace b64 = boost::beast::detail::base64;
  out.assign(b64::decoded_size(in.size()), '\0');
  out.resize(b64::decode(out.data(), in.data(), in.size()).first);
  return true;
}

std::string encode_base64(std::string_view in) {
  namespace b64 = boost::beast::detail::base64;
  std::string out(b64::encoded_size(in.size()), '\0');
  out.resize(b64::encode(out.data(), in.data(), in.size()));
  return out;
}

// Audio on the wire in one direction of a session.
enum class wire_format { pcm16, pcmu, pcma };

int rate_of(wire_format f) { return f == wire_format::pcm16 ? 24000 : 8000; }
int bytes_per_ms(wire_format f) { return f == wire_format::pcm16 ? 48 : 8; }

std::optional<wire_format> ga_format(const json& f) {
  if (!f.is_object() || !f.contains("type") || !f["type"].is_string()) return std::nullopt;
  const auto t = f["type"].get<std::string>();
  if (t == "audio/pcm") return wire_format::pcm16;
  if (t == "audio/pcmu") return wire_format::pcmu;
  if (t == "audio/pcma") return wire_format::pcma;
  return std::nullopt;
}

std::optional<wire_format> beta_format(const json& f) {
  if (!f.is_string()) return std::nullopt;
  const auto t = f.get<std::string>();
  if (t == "pcm16") return wire_format::pcm16;
  if (t == "g711_ulaw") return wire_format::pcmu;
  if (t == "g711_alaw") return wire_format::pcma;
  return std::nullopt;
}

// Wire bytes → PCM16 samples at the format's rate.
std::vector<std::int16_t> decode_audio(wire_format f, const std::string& bytes) {
  std::vector<std::int16_t> out;
  if (f == wire_format::pcm16) {
    out.resize(bytes.size() / 2);
    for (std::size_t i = 0; i < out.size(); ++i)
      out[i] = static_cast<std::int16_t>(static_cast<std::uint8_t>(bytes[2 * i]) |
                                         (static_cast<std::uint8_t>(bytes[2 * i + 1]) << 8));
    return out;
  }
  out.resize(bytes.size());
  const std::span<const std::uint8_t> in(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  if (f == wire_format::pcmu)
    audio::ulaw_decode(in, out);
  else
    audio::alaw_decode(in, out);
  return out;
}

// PCM16 24 kHz → wire bytes of `f`.
std::string encode_audio(wire_format f, const std::vector<std::int16_t>& pcm24k) {
  std::string out;
  if (f == wire_format::pcm16) {
    out.resize(pcm24k.size() * 2);
    for (std::size_t i = 0; i < pcm24k.size(); ++i) {
      const auto v = static_cast<std::uint16_t>(pcm24k[i]);
      out[2 * i] = static_cast<char>(v & 0xff);
      out[2 * i + 1] = static_cast<char>(v >> 8);
    }
    return out;
  }
  std::vector<std::int16_t> narrow;
  audio::resampler down(24000, 8000);
  down.process(pcm24k, narrow);
  out.resize(narrow.size());
  const std::span<std::uint8_t> dst(reinterpret_cast<std::uint8_t*>(out.data()), out.size());
  if (f == wire_format::pcmu)
    audio::ulaw_encode(narrow, dst);
  else
    audio::alaw_encode(narrow, dst);
  return out;
}

// One problem with a client event, as the `error` event reports it.
struct client_error {
  std::string code;     ///< error.code; "" → null
  std::string message;  ///< error.message
  std::string param;    ///< error.param; "" → null
  std::string type = "invalid_request_error";  ///< error.type
};

client_error unknown_parameter(const std::string& path) {
  return {"unknown_parameter", "Unknown parameter: '" + path + "'.", path};
}
client_error missing_parameter(const std::string& path) {
  return {"missing_required_parameter", "Missing required parameter: '" + path + "'.", path};
}
client_error invalid_type(const std::string& path, const std::string& expected) {
  return {"invalid_type", "Invalid type for '" + path + "': expected " + expected + ".", path};
}
client_error invalid_value(const std::string& path, const std::string& value, const std::string& supported) {
  return {"invalid_value", "Invalid value: '" + value + "'. Supported values are: " + supported + ".", path};
}

std::string short_text(const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

using opt_error = std::optional<client_error>;

opt_error only_keys(const json& obj, const std::string& path, std::initializer_list<std::string_view> allowed) {
  for (const auto& [k, v] : obj.items())
    if (std::find(allowed.begin(), allowed.end(), k) == allowed.end())
      return unknown_parameter(path.empty() ? k : path + "." + k);
  return std::nullopt;
}

opt_error check_turn_detection(const json& td, const std::string& path, bool ga) {
  if (td.is_null()) return std::nullopt;
  if (!td.is_object()) return invalid_type(path, "an object or null");
  if (auto e = ga ? only_keys(td, path,
                              {"type", "threshold", "prefix_padding_ms", "silence_duration_ms", "create_response",
                               "interrupt_response", "idle_timeout_ms", "eagerness"})
                  : only_keys(td, path,
                              {"type", "threshold", "prefix_padding_ms", "silence_duration_ms", "create_response",
                               "interrupt_response", "eagerness"}))
    return e;
  if (!td.contains("type")) return missing_parameter(path + ".type");
  if (td["type"] != "server_vad" && td["type"] != "semantic_vad")
    return invalid_value(path + ".type", short_text(td["type"]), "'server_vad' and 'semantic_vad'");
  if (td.contains("threshold") &&
      (!td["threshold"].is_number() || td["threshold"].get<double>() < 0.0 || td["threshold"].get<double>() > 1.0))
    return invalid_value(path + ".threshold", short_text(td["threshold"]), "numbers from 0.0 to 1.0");
  for (const char* ms : {"prefix_padding_ms", "silence_duration_ms"})
    if (td.contains(ms) && (!td[ms].is_number_integer() || td[ms].get<int>() < 0))
      return invalid_type(path + "." + ms, "a non-negative integer");
  for (const char* flag : {"create_response", "interrupt_response"})
    if (td.contains(flag) && !td[flag].is_boolean()) return invalid_type(path + "." + flag, "a boolean");
  return std::nullopt;
}

opt_error check_tools(const json& tools, const std::string& path) {
  if (!tools.is_array()) return invalid_type(path, "an array");
  for (std::size_t i = 0; i < tools.size(); ++i) {
    const auto& t = tools[i];
    const std::string p = path + "[" + std::to_string(i) + "]";
    if (!t.is_object()) return invalid_type(p, "an object");
    if (!t.contains("type")) return missing_parameter(p + ".type");
    if (t["type"] != "function" && t["type"] != "mcp")
      return invalid_value(p + ".type", short_text(t["type"]), "'function' and 'mcp'");
    if (t["type"] == "function" && (!t.contains("name") || !t["name"].is_string()))
      return missing_parameter(p + ".name");
  }
  return std::nullopt;
}

const std::set<std::string> k_ga_voices = {"alloy", "ash",  "ballad", "coral", "echo",
                                           "sage",  "shimmer", "verse", "marin", "cedar"};
const std::set<std::string> k_beta_voices = {"alloy", "ash", "ballad", "coral", "echo", "sage", "shimmer", "verse"};

opt_error check_ga_format(const json& f, const std::string& path) {
  if (!f.is_object()) return invalid_type(path, "an object");
  if (auto e = only_keys(f, path, {"type", "rate"})) return e;
  if (!f.contains("type")) return missing_parameter(path + ".type");
  if (!ga_format(f)) return invalid_value(path + ".type", short_text(f["type"]), "'audio/pcm', 'audio/pcmu' and 'audio/pcma'");
  if (f.contains("rate") && (f["type"] != "audio/pcm" || f["rate"] != 24000))
    return invalid_value(path + ".rate", short_text(f["rate"]), "24000");
  return std::nullopt;
}

// GA session object (§3.1): nested audio config, `type` required, no temperature.
opt_error check_ga_session(const json& s) {
  if (!s.is_object()) return invalid_type("session", "an object");
  if (auto e = only_keys(s, "session",
                         {"type", "model", "instructions", "output_modalities", "audio", "tools", "tool_choice",
                          "max_output_tokens", "truncation", "include", "prompt", "tracing"}))
    return e;
  if (!s.contains("type")) return missing_parameter("session.type");
  if (s["type"] != "realtime") return invalid_value("session.type", short_text(s["type"]), "'realtime'");
  if (s.contains("instructions") && !s["instructions"].is_string())
    return invalid_type("session.instructions", "a string");
  if (s.contains("output_modalities")) {
    const auto& m = s["output_modalities"];
    if (!m.is_array() || m.size() != 1 || (m[0] != "audio" && m[0] != "text"))
      return invalid_value("session.output_modalities", short_text(m), "['audio'] and ['text']");
  }
  if (s.contains("audio")) {
    const auto& a = s["audio"];
    if (!a.is_object()) return invalid_type("session.audio", "an object");
    if (auto e = only_keys(a, "session.audio", {"input", "output"})) return e;
    if (a.contains("input")) {
      const auto& in = a["input"];
      if (!in.is_object()) return invalid_type("session.audio.input", "an object");
      if (auto e = only_keys(in, "session.audio.input", {"format", "transcription", "noise_reduction", "turn_detection"}))
        return e;
      if (in.contains("format"))
        if (auto e = check_ga_format(in["format"], "session.audio.input.format")) return e;
      if (in.contains("turn_detection"))
        if (auto e = check_turn_detection(in["turn_detection"], "session.audio.input.turn_detection", true)) return e;
      if (in.contains("transcription") && !in["transcription"].is_null() &&
          (!in["transcription"].is_object() || !in["transcription"].contains("model")))
        return missing_parameter("session.audio.input.transcription.model");
    }
    if (a.contains("output")) {
      const auto& out = a["output"];
      if (!out.is_object()) return invalid_type("session.audio.output", "an object");
      if (auto e = only_keys(out, "session.audio.output", {"format", "voice", "speed"})) return e;
      if (out.contains("format"))
        if (auto e = check_ga_format(out["format"], "session.audio.output.format")) return e;
      if (out.contains("voice") && !(out["voice"].is_string() && k_ga_voices.count(out["voice"].get<std::string>())) &&
          !(out["voice"].is_object() && out["voice"].contains("id")))
        return invalid_value("session.audio.output.voice", short_text(out["voice"]),
                             "'alloy', 'ash', 'ballad', 'coral', 'echo', 'sage', 'shimmer', 'verse', 'marin' and 'cedar'");
      if (out.contains("speed") &&
          (!out["speed"].is_number() || out["speed"].get<double>() < 0.25 || out["speed"].get<double>() > 1.5))
        return invalid_value("session.audio.output.speed", short_text(out["speed"]), "numbers from 0.25 to 1.5");
    }
  }
  if (s.contains("tools"))
    if (auto e = check_tools(s["tools"], "session.tools")) return e;
  if (s.contains("max_output_tokens") && s["max_output_tokens"] != "inf" &&
      !(s["max_output_tokens"].is_number_integer() && s["max_output_tokens"].get<int>() >= 1 &&
        s["max_output_tokens"].get<int>() <= 4096))
    return invalid_value("session.max_output_tokens", short_text(s["max_output_tokens"]), "integers 1 to 4096 and 'inf'");
  return std::nullopt;
}

// Beta session object (§3.2): flat, no `type`, formats as strings, temperature allowed.
opt_error check_beta_session(const json& s) {
  if (!s.is_object()) return invalid_type("session", "an object");
  if (auto e = only_keys(s, "session",
                         {"model", "modalities", "instructions", "voice", "input_audio_format", "output_audio_format",
                          "input_audio_transcription", "input_audio_noise_reduction", "turn_detection", "tools",
                          "tool_choice", "temperature", "max_response_output_tokens", "speed", "tracing", "include"}))
    return e;
  if (s.contains("modalities")) {
    const auto& m = s["modalities"];
    if (!m.is_array() || m.empty()) return invalid_type("session.modalities", "a non-empty array");
    for (const auto& x : m)
      if (x != "text" && x != "audio") return invalid_value("session.modalities", short_text(x), "'text' and 'audio'");
  }
  for (const char* f : {"input_audio_format", "output_audio_format"})
    if (s.contains(f) && !beta_format(s[f]))
      return invalid_value(std::string("session.") + f, short_text(s[f]), "'pcm16', 'g711_ulaw' and 'g711_alaw'");
  if (s.contains("voice") && !(s["voice"].is_string() && k_beta_voices.count(s["voice"].get<std::string>())))
    return invalid_value("session.voice", short_text(s["voice"]),
                         "'alloy', 'ash', 'ballad', 'coral', 'echo', 'sage', 'shimmer' and 'verse'");
  if (s.contains("turn_detection"))
    if (auto e = check_turn_detection(s["turn_detection"], "session.turn_detection", false)) return e;
  if (s.contains("tools"))
    if (auto e = check_tools(s["tools"], "session.tools")) return e;
  if (s.contains("temperature") &&
      (!s["temperature"].is_number() || s["temperature"].get<double>() < 0.6 || s["temperature"].get<double>() > 1.2))
    return invalid_value("session.temperature", short_text(s["temperature"]), "numbers from 0.6 to 1.2");
  if (s.contains("max_response_output_tokens") && s["max_response_output_tokens"] != "inf" &&
      !(s["max_response_output_tokens"].is_number_integer() && s["max_response_output_tokens"].get<int>() >= 1 &&
        s["max_response_output_tokens"].get<int>() <= 4096))
    return invalid_value("session.max_response_output_tokens", short_text(s["max_response_output_tokens"]),
                         "integers 1 to 4096 and 'inf'");
  return std::nullopt;
}

json default_turn_detection(bool ga) {
  json td = {{"type", "server_vad"},       {"threshold", 0.5},          {"prefix_padding_ms", 300},
             {"silence_duration_ms", 500}, {"create_response", true}, {"interrupt_response", true}};
  if (ga) td["idle_timeout_ms"] = nullptr;
  return td;
}

// Words of `text` with their trailing spaces, so the deltas concatenate back to the text.
std::vector<std::string> split_words(const std::string& text) {
  std::vector<std::string> out;
  std::string cur;
  for (char ch : text) {
    if (ch != ' ' && !cur.empty() && cur.back() == ' ') {
      out.push_back(std::move(cur));
      cur.clear();
    }
    cur.push_back(ch);
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

}  // namespace

// ---------------------------------------------------------------- one connection's model

struct fake_realtime_server::impl {
  struct connection;

  // One response being produced.
  struct response_state {
    std::string id;             ///< resp_…
    bool cancel_requested = false;  ///< stop at the next step
    std::string cancel_reason;  ///< "client_cancelled" or "turn_detected"
    std::optional<net::steady_timer> timer;  ///< paces the deltas; cancelled to wake early
  };

  // What the fake remembers of a conversation item.
  struct item_record {
    std::string id;                 ///< item_…
    bool assistant_audio = false;   ///< an assistant message with audio (truncatable)
    std::int64_t audio_bytes = 0;   ///< output audio sent for it (bytes of the output format)
    int bytes_per_ms = 8;           ///< of the format that audio was sent in
  };

  struct connection : std::enable_shared_from_this<connection> {
    connection(impl& s, net::io_context& ioc, int id, bool beta, std::string model)
        : srv(s), wake(ioc), id(id), beta(beta), model(std::move(model)) {}

    impl& srv;
    net::steady_timer wake;                 ///< wakes the writer when the outbox fills or on close
    int id;                                 ///< 1-based connection number
    bool beta;                              ///< speaks the beta dialect
    std::string model;                      ///< from ?model= (or the dialect's default)
    std::deque<std::string> outbox;         ///< events not yet written
    bool closing = false;                   ///< send a close frame once the outbox is empty
    std::uint16_t close_code = 1000;        ///< code of that close frame
    std::string close_reason;               ///< reason of that close frame
    bool dead = false;                      ///< socket gone: nothing more is sent
    std::function<void()> kill;             ///< closes the TCP socket at once (set by the transport)

    json session;                           ///< effective config, in the dialect's shape
    wire_format in_fmt = wire_format::pcm16;   ///< appended audio format
    wire_format out_fmt = wire_format::pcm16;  ///< response audio format
    bool vad = true;                        ///< turn detection on
    bool create_response = true;            ///< a turn's end starts a response
    bool interrupt_response = true;         ///< speech start cancels the active response
    int silence_ms = 500;                   ///< silence that ends a turn (ms)
    int prefix_ms = 300;                    ///< padding before speech start (ms)
    bool transcription = false;             ///< input transcription enabled
    bool produced_audio = false;            ///< voice is locked once true

    // Appended audio, all in samples of the input rate at the time.
    double appended_ms = 0;                 ///< since the connection opened (ms)
    double buffer_start_ms = 0;             ///< where the uncommitted buffer starts (ms)
    double block_sq = 0;                    ///< sum of squares of the current 10 ms block
    int block_n = 0;                        ///< samples in the current 10 ms block
    bool in_speech = false;                 ///< between speech_started and speech_stopped
    int voiced_run_ms = 0;                  ///< consecutive voiced blocks before speech start (ms)
    int silence_run_ms = 0;                 ///< consecutive unvoiced blocks during speech (ms)
    std::string user_item_id;               ///< item of the turn in progress

    std::vector<item_record> items;         ///< conversation in order
    std::set<std::string> call_ids;         ///< function calls issued, for output validation
    std::shared_ptr<response_state> active; ///< response in progress, null when none
    std::string conversation_id;            ///< conv_…

    // -------------------------------------------------------------- sending
    void send(json ev) {
      if (dead) return;
      json out;
      out["type"] = ev["type"];
      out["event_id"] = srv.next_id("event_");
      for (auto& [k, v] : ev.items())
        if (k != "type") out[k] = std::move(v);
      std::string text = out.dump();
      if (!srv.count_sent(*this, out["type"].get<std::string>(), text)) {
        drop();
        return;
      }
      outbox.push_back(std::move(text));
      wake.cancel();
    }

    void send_error(const client_error& e, const json& client_event_id = nullptr) {
      send({{"type", "error"},
            {"error",
             {{"type", e.type},
              {"code", e.code.empty() ? json(nullptr) : json(e.code)},
              {"message", e.message},
              {"param", e.param.empty() ? json(nullptr) : json(e.param)},
              {"event_id", client_event_id}}}});
    }

    void drop() {
      if (dead) return;
      dead = true;
      outbox.clear();
      if (kill) kill();
      wake.cancel();
      stop_response();
    }

    void close(std::uint16_t code, std::string reason) {
      closing = true;
      close_code = code;
      close_reason = std::move(reason);
      wake.cancel();
    }

    void stop_response() {
      if (active && active->timer) active->timer->cancel();
    }

    // -------------------------------------------------------------- session
    void start() {
      conversation_id = srv.next_id("conv_");
      if (beta && !srv.opts.allow_beta) {
        send_error({"beta_api_shape_disabled",
                    "The Realtime API beta shape has been disabled. Remove the 'OpenAI-Beta: realtime=v1' header "
                    "and use the GA interface.",
                    ""});
        close(4000, "invalid_request_error.beta_api_shape_disabled");
        return;
      }
      session = beta ? json{{"id", srv.next_id("sess_")},
                            {"object", "realtime.session"},
                            {"model", model},
                            {"expires_at", 0},
                            {"modalities", {"text", "audio"}},
                            {"instructions", ""},
                            {"voice", "alloy"},
                            {"input_audio_format", "pcm16"},
                            {"output_audio_format", "pcm16"},
                            {"input_audio_transcription", nullptr},
                            {"input_audio_noise_reduction", nullptr},
                            {"turn_detection", default_turn_detection(false)},
                            {"tools", json::array()},
                            {"tool_choice", "auto"},
                            {"temperature", 0.8},
                            {"max_response_output_tokens", "inf"},
                            {"speed", 1.0}}
                     : json{{"type", "realtime"},
                            {"object", "realtime.session"},
                            {"id", srv.next_id("sess_")},
                            {"model", model},
                            {"output_modalities", {"audio"}},
                            {"instructions", ""},
                            {"tools", json::array()},
                            {"tool_choice", "auto"},
                            {"max_output_tokens", "inf"},
                            {"tracing", nullptr},
                            {"prompt", nullptr},
                            {"expires_at", 0},
                            {"audio",
                             {{"input",
                               {{"format", {{"type", "audio/pcm"}, {"rate", 24000}}},
                                {"transcription", nullptr},
                                {"noise_reduction", nullptr},
                                {"turn_detection", default_turn_detection(true)}}},
                              {"output",
                               {{"format", {{"type", "audio/pcm"}, {"rate", 24000}}},
                                {"voice", "marin"},
                                {"speed", 1.0}}}}},
                            {"include", nullptr}};
      apply_session();
      srv.set_effective(*this);
      send({{"type", "session.created"}, {"session", session}});
      if (beta)
        send({{"type", "conversation.created"},
              {"conversation", {{"id", conversation_id}, {"object", "realtime.conversation"}}}});
    }

    const json& td() const {
      return beta ? session["turn_detection"] : session["audio"]["input"]["turn_detection"];
    }

    void apply_session() {
      if (beta) {
        in_fmt = *beta_format(session["input_audio_format"]);
        out_fmt = *beta_format(session["output_audio_format"]);
        transcription = !session["input_audio_transcription"].is_null();
      } else {
        in_fmt = *ga_format(session["audio"]["input"]["format"]);
        out_fmt = *ga_format(session["audio"]["output"]["format"]);
        transcription = !session["audio"]["input"]["transcription"].is_null();
      }
      const json& t = td();
      vad = !t.is_null();
      create_response = vad && t.value("create_response", true);
      interrupt_response = vad && t.value("interrupt_response", true);
      silence_ms = vad ? t.value("silence_duration_ms", 500) : 500;
      prefix_ms = vad ? t.value("prefix_padding_ms", 300) : 300;
      if (!vad) in_speech = false;
    }

    const json& voice() const { return beta ? session["voice"] : session["audio"]["output"]["voice"]; }

    void on_session_update(const json& ev, const std::string& raw) {
      if (!ev.contains("session")) return send_error(missing_parameter("session"), ev.value("event_id", json()));
      const json& s = ev["session"];
      if (auto e = beta ? check_beta_session(s) : check_ga_session(s)) return send_error(*e, ev.value("event_id", json()));
      json next = session;
      if (beta) {
        for (const auto& [k, v] : s.items()) next[k] = v;
      } else {
        for (const auto& [k, v] : s.items()) {
          if (k != "audio") {
            next[k] = v;
            continue;
          }
          for (const auto& [dir, cfg] : v.items())
            for (const auto& [field, value] : cfg.items()) next["audio"][dir][field] = value;
        }
      }
      const json& new_voice = beta ? next["voice"] : next["audio"]["output"]["voice"];
      if (produced_audio && new_voice != voice())
        return send_error({"cannot_update_voice", "Cannot update a conversation's voice if assistant audio is present.",
                           beta ? "session.voice" : "session.audio.output.voice"},
                          ev.value("event_id", json()));
      // A turn-detection object replaces the old one whole: missing fields take their defaults.
      const json* new_td = nullptr;
      if (beta && s.contains("turn_detection")) new_td = &s["turn_detection"];
      if (!beta && s.contains("audio") && s["audio"].contains("input") && s["audio"]["input"].contains("turn_detection"))
        new_td = &s["audio"]["input"]["turn_detection"];
      if (new_td && new_td->is_object()) {
        json td = default_turn_detection(!beta);
        for (const auto& [k, v] : new_td->items()) td[k] = v;
        (beta ? next["turn_detection"] : next["audio"]["input"]["turn_detection"]) = td;
      }
      session = std::move(next);
      apply_session();
      srv.record_session_update(*this, raw);
      send({{"type", "session.updated"}, {"session", session}});
    }

    // -------------------------------------------------------------- audio in
    void on_append(const json& ev) {
      const json eid = ev.value("event_id", json());
      if (!ev.contains("audio")) return send_error(missing_parameter("audio"), eid);
      if (!ev["audio"].is_string()) return send_error(invalid_type("audio", "a base64 string"), eid);
      std::string bytes;
      if (!decode_base64(ev["audio"].get_ref<const std::string&>(), bytes))
        return send_error({"invalid_value", "Invalid 'audio'. Expected base64-encoded audio bytes.", "audio"}, eid);
      if (in_fmt == wire_format::pcm16 && bytes.size() % 2 != 0)
        return send_error({"invalid_value", "Invalid 'audio'. pcm16 audio must hold whole 16-bit samples.", "audio"},
                          eid);
      const auto samples = decode_audio(in_fmt, bytes);
      const int rate = rate_of(in_fmt);
      const int block = rate / 100;
      srv.record_audio(static_cast<double>(samples.size()) * 1000.0 / rate);
      for (const auto s : samples) {
        block_sq += static_cast<double>(s) * s;
        appended_ms += 1000.0 / rate;
        if (++block_n < block) continue;
        const bool voiced = std::sqrt(block_sq / block_n) > srv.opts.vad_rms_threshold;
        block_sq = 0;
        block_n = 0;
        if (vad) on_block(voiced);
        if (dead) return;
      }
    }

    // One 10 ms block of appended audio, judged voiced or not.
    void on_block(bool voiced) {
      const int now = static_cast<int>(std::lround(appended_ms));
      if (!in_speech) {
        voiced_run_ms = voiced ? voiced_run_ms + 10 : 0;
        if (voiced_run_ms < srv.opts.vad_min_speech_ms) return;
        in_speech = true;
        silence_run_ms = 0;
        user_item_id = srv.next_id("item_");
        const int start = std::max(static_cast<int>(std::lround(buffer_start_ms)), now - voiced_run_ms - prefix_ms);
        send({{"type", "input_audio_buffer.speech_started"}, {"audio_start_ms", start}, {"item_id", user_item_id}});
        if (active && !active->cancel_requested && interrupt_response) cancel(active, "turn_detected");
        return;
      }
      silence_run_ms = voiced ? 0 : silence_run_ms + 10;
      if (silence_run_ms < silence_ms) return;
      in_speech = false;
      voiced_run_ms = 0;
      send({{"type", "input_audio_buffer.speech_stopped"},
            {"audio_end_ms", now - silence_run_ms},
            {"item_id", user_item_id}});
      commit(user_item_id);
      if (create_response && !active) start_response();
    }

    // The buffer becomes user item `item_id`.
    void commit(const std::string& item_id) {
      const std::string prev = items.empty() ? std::string() : items.back().id;
      const double seconds = (appended_ms - buffer_start_ms) / 1000.0;
      buffer_start_ms = appended_ms;
      items.push_back({item_id, false, 0, 8});
      const json prev_id = prev.empty() ? json(nullptr) : json(prev);
      send({{"type", "input_audio_buffer.committed"}, {"previous_item_id", prev_id}, {"item_id", item_id}});
      json item = {{"id", item_id},
                   {"object", "realtime.item"},
                   {"type", "message"},
                   {"status", "completed"},
                   {"role", "user"},
                   {"content", {{{"type", "input_audio"}, {"transcript", nullptr}}}}};
      announce_item(item, prev_id, true);
      if (!transcription) return;
      const std::string text = srv.next_user_transcript();
      send({{"type", "conversation.item.input_audio_transcription.delta"},
            {"item_id", item_id},
            {"content_index", 0},
            {"delta", text}});
      send({{"type", "conversation.item.input_audio_transcription.completed"},
            {"item_id", item_id},
            {"content_index", 0},
            {"transcript", text},
            {"usage", {{"type", "duration"}, {"seconds", std::ceil(seconds)}}}});
    }

    // GA: conversation.item.added (+ .done when final); beta: conversation.item.created.
    void announce_item(const json& item, const json& prev_id, bool final) {
      if (beta) {
        send({{"type", "conversation.item.created"}, {"previous_item_id", prev_id}, {"item", item}});
        return;
      }
      send({{"type", "conversation.item.added"}, {"previous_item_id", prev_id}, {"item", item}});
      if (final) send({{"type", "conversation.item.done"}, {"previous_item_id", prev_id}, {"item", item}});
    }

    void on_commit(const json& ev) {
      const double buffered = appended_ms - buffer_start_ms;
      if (buffered < 100.0) {
        char ms[32];
        std::snprintf(ms, sizeof ms, "%.2f", buffered);
        return send_error({"input_audio_buffer_commit_empty",
                           std::string("Error committing input audio buffer: buffer too small. Expected at least "
                                       "100ms of audio, but buffer only has ") +
                               ms + "ms of audio.",
                           ""},
                          ev.value("event_id", json()));
      }
      const std::string item_id = in_speech ? user_item_id : srv.next_id("item_");
      in_speech = false;
      voiced_run_ms = 0;
      commit(item_id);
    }

    void on_clear() {
      buffer_start_ms = appended_ms;
      in_speech = false;
      voiced_run_ms = 0;
      send({{"type", "input_audio_buffer.cleared"}});
    }

    // -------------------------------------------------------------- conversation
    item_record* find_item(const std::string& id) {
      for (auto& it : items)
        if (it.id == id) return &it;
      return nullptr;
    }

    void on_item_create(const json& ev) {
      const json eid = ev.value("event_id", json());
      if (!ev.contains("item")) return send_error(missing_parameter("item"), eid);
      const json& item = ev["item"];
      if (!item.is_object()) return send_error(invalid_type("item", "an object"), eid);
      if (!item.contains("type")) return send_error(missing_parameter("item.type"), eid);
      const std::string type = short_text(item["type"]);
      if (type == "message") {
        if (!item.contains("role")) return send_error(missing_parameter("item.role"), eid);
        const std::string role = short_text(item["role"]);
        if (role != "user" && role != "assistant" && role != "system")
          return send_error(invalid_value("item.role", role, "'user', 'assistant' and 'system'"), eid);
        if (!item.contains("content")) return send_error(missing_parameter("item.content"), eid);
        if (!item["content"].is_array()) return send_error(invalid_type("item.content", "an array"), eid);
        for (std::size_t i = 0; i < item["content"].size(); ++i) {
          const json& part = item["content"][i];
          const std::string path = "item.content[" + std::to_string(i) + "].type";
          if (!part.is_object() || !part.contains("type")) return send_error(missing_parameter(path), eid);
          const std::string pt = short_text(part["type"]);
          const std::string text_type = beta ? "text" : "output_text";
          if (role == "assistant" && pt != text_type)
            return send_error(invalid_value(path, pt, "'" + text_type + "'"), eid);
          if (role == "system" && pt != "input_text") return send_error(invalid_value(path, pt, "'input_text'"), eid);
          if (role == "user" && pt != "input_text" && pt != "input_audio")
            return send_error(invalid_value(path, pt, "'input_text' and 'input_audio'"), eid);
        }
      } else if (type == "function_call_output") {
        for (const char* f : {"call_id", "output"}) {
          if (!item.contains(f)) return send_error(missing_parameter(std::string("item.") + f), eid);
          if (!item[f].is_string()) return send_error(invalid_type(std::string("item.") + f, "a string"), eid);
        }
        if (!call_ids.count(item["call_id"].get<std::string>()))
          return send_error({"invalid_value",
                             "Tool call ID '" + item["call_id"].get<std::string>() + "' not found in conversation.",
                             "item.call_id"},
                            eid);
      } else if (type == "function_call") {
        for (const char* f : {"call_id", "name", "arguments"})
          if (!item.contains(f)) return send_error(missing_parameter(std::string("item.") + f), eid);
      } else {
        return send_error(invalid_value("item.type", type, "'message', 'function_call' and 'function_call_output'"),
                          eid);
      }
      json prev_id = items.empty() ? json(nullptr) : json(items.back().id);
      if (ev.contains("previous_item_id") && !ev["previous_item_id"].is_null()) {
        const std::string p = short_text(ev["previous_item_id"]);
        if (p != "root" && !find_item(p))
          return send_error({"invalid_value", "Item with item_id '" + p + "' not found.", "previous_item_id"}, eid);
        prev_id = p == "root" ? json(nullptr) : json(p);
      }
      if (item.contains("id") && !item["id"].is_string()) return send_error(invalid_type("item.id", "a string"), eid);
      json stored = item;
      if (!stored.contains("id")) stored["id"] = srv.next_id("item_");
      stored["object"] = "realtime.item";
      stored["status"] = "completed";
      items.push_back({stored["id"].get<std::string>(), false, 0, 8});
      srv.record_item(item.dump(), type == "function_call_output"
                                       ? std::optional<function_output>(function_output{
                                             item["call_id"].get<std::string>(), item["output"].get<std::string>()})
                                       : std::nullopt);
      announce_item(stored, prev_id, true);
    }

    void on_truncate(const json& ev) {
      const json eid = ev.value("event_id", json());
      for (const char* f : {"item_id", "content_index", "audio_end_ms"})
        if (!ev.contains(f)) return send_error(missing_parameter(f), eid);
      if (!ev["item_id"].is_string()) return send_error(invalid_type("item_id", "a string"), eid);
      if (!ev["audio_end_ms"].is_number_integer() || ev["audio_end_ms"].get<long long>() < 0)
        return send_error(invalid_type("audio_end_ms", "a non-negative integer"), eid);
      if (ev["content_index"] != 0) return send_error(invalid_value("content_index", short_text(ev["content_index"]), "0"), eid);
      const std::string id = ev["item_id"].get<std::string>();
      item_record* item = find_item(id);
      if (!item) return send_error({"invalid_value", "Item with item_id '" + id + "' not found.", "item_id"}, eid);
      if (!item->assistant_audio)
        return send_error({"", "Only model output audio messages can be truncated", "item_id"}, eid);
      const long long end_ms = ev["audio_end_ms"].get<long long>();
      const long long have_ms = item->audio_bytes / item->bytes_per_ms;
      if (end_ms > have_ms)
        return send_error({"",
                           "Audio content of " + std::to_string(have_ms) + "ms is already shorter than " +
                               std::to_string(end_ms) + "ms",
                           "audio_end_ms"},
                          eid);
      item->audio_bytes = end_ms * item->bytes_per_ms;
      srv.record_truncation({id, static_cast<int>(end_ms)});
      send({{"type", "conversation.item.truncated"}, {"item_id", id}, {"content_index", 0}, {"audio_end_ms", end_ms}});
    }

    void on_item_delete(const json& ev) {
      const json eid = ev.value("event_id", json());
      if (!ev.contains("item_id")) return send_error(missing_parameter("item_id"), eid);
      const std::string id = short_text(ev["item_id"]);
      const auto it = std::find_if(items.begin(), items.end(), [&](const item_record& r) { return r.id == id; });
      if (it == items.end()) return send_error({"invalid_value", "Item with item_id '" + id + "' not found.", "item_id"}, eid);
      items.erase(it);
      send({{"type", "conversation.item.deleted"}, {"item_id", id}});
    }

    void on_item_retrieve(const json& ev) {
      const json eid = ev.value("event_id", json());
      if (!ev.contains("item_id")) return send_error(missing_parameter("item_id"), eid);
      const std::string id = short_text(ev["item_id"]);
      if (!find_item(id)) return send_error({"invalid_value", "Item with item_id '" + id + "' not found.", "item_id"}, eid);
      send({{"type", "conversation.item.retrieved"}, {"item", {{"id", id}, {"object", "realtime.item"}}}});
    }

    // -------------------------------------------------------------- responses
    void on_response_create(const json& ev) {
      const json eid = ev.value("event_id", json());
      json r = ev.value("response", json::object());
      if (!r.is_object()) return send_error(invalid_type("response", "an object"), eid);
      const auto bad = beta ? only_keys(r, "response",
                                        {"instructions", "modalities", "voice", "output_audio_format", "tools",
                                         "tool_choice", "temperature", "max_response_output_tokens", "conversation",
                                         "input", "metadata"})
                            : only_keys(r, "response",
                                        {"instructions", "output_modalities", "audio", "tools", "tool_choice",
                                         "max_output_tokens", "conversation", "input", "metadata", "prompt"});
      if (bad) return send_error(*bad, eid);
      if (active)
        return send_error({"conversation_already_has_active_response",
                           "Conversation already has an active response in progress: " + active->id +
                               ". Wait until the response is finished before creating a new one.",
                           ""},
                          eid);
      start_response();
    }

    void on_cancel(const json& ev) {
      srv.record_cancel();
      const json eid = ev.value("event_id", json());
      const bool matches = !ev.contains("response_id") || (active && ev["response_id"] == active->id);
      if (!active || active->cancel_requested || !matches)
        return send_error({"response_cancel_not_active", "Cancellation failed: no active response found", ""}, eid);
      cancel(active, "client_cancelled");
    }

    void cancel(const std::shared_ptr<response_state>& r, const std::string& reason) {
      r->cancel_requested = true;
      r->cancel_reason = reason;
      if (r->timer) r->timer->cancel();
    }

    void start_response() {
      auto r = std::make_shared<response_state>();
      r->id = srv.next_id("resp_");
      active = r;
      net::co_spawn(wake.get_executor(), run_response(shared_from_this(), r, srv.next_script()),
                    net::detached);
    }

    json response_object(const response_state& r, const std::string& status, const json& output) const {
      json o = {{"object", "realtime.response"}, {"id", r.id}, {"status", status}, {"status_details", nullptr},
                {"output", output}, {"conversation_id", conversation_id}};
      if (beta) {
        o["modalities"] = session["modalities"];
        o["voice"] = session["voice"];
        o["output_audio_format"] = session["output_audio_format"];
        o["temperature"] = session["temperature"];
        o["max_output_tokens"] = session["max_response_output_tokens"];
      } else {
        o["output_modalities"] = session["output_modalities"];
        o["audio"] = {{"output", {{"format", session["audio"]["output"]["format"]}, {"voice", voice()}}}};
        o["max_output_tokens"] = session["max_output_tokens"];
      }
      o["usage"] = nullptr;
      o["metadata"] = nullptr;
      return o;
    }

    // Waits `d` on the response's timer; false when the response was cancelled meanwhile.
    static net::awaitable<bool> pause(std::shared_ptr<response_state> r, std::chrono::milliseconds d) {
      if (r->cancel_requested) co_return false;
      r->timer->expires_after(d);
      co_await r->timer->async_wait(use_tuple);
      co_return !r->cancel_requested;
    }

    static net::awaitable<void> run_response(std::shared_ptr<connection> c, std::shared_ptr<response_state> r,
                                             scripted_response script) {
      r->timer.emplace(c->wake.get_executor());
      const auto delay = c->srv.response_delay();
      if (delay.count() > 0 && !co_await pause(r, delay)) {
        // Cancelled before it started: the response still opens and closes.
      }
      if (c->dead) co_return;
      const bool function_call = !script.function_name.empty();
      c->send({{"type", "response.created"}, {"response", c->response_object(*r, "in_progress", json::array())}});
      c->send({{"type", "rate_limits.updated"},
               {"rate_limits",
                {{{"name", "requests"}, {"limit", 5000}, {"remaining", 4999}, {"reset_seconds", 0.012}},
                 {{"name", "tokens"}, {"limit", 40000}, {"remaining", 35904}, {"reset_seconds", 6.144}}}}});
      const json prev_id = c->items.empty() ? json(nullptr) : json(c->items.back().id);
      const std::string item_id = c->srv.next_id("item_");
      json item;
      std::int64_t out_ms = 0;
      std::string transcript_sent;
      if (function_call) {
        const std::string call_id = c->srv.next_id("call_");
        c->call_ids.insert(call_id);
        item = {{"id", item_id},          {"object", "realtime.item"}, {"type", "function_call"},
                {"status", "in_progress"}, {"name", script.function_name}, {"call_id", call_id},
                {"arguments", ""}};
        c->items.push_back({item_id, false, 0, 8});
        c->send({{"type", "response.output_item.added"}, {"response_id", r->id}, {"output_index", 0}, {"item", item}});
        c->announce_item(item, prev_id, false);
        const std::string& args = script.function_arguments;
        const std::size_t half = args.size() / 2;
        for (const auto& piece : {args.substr(0, half), args.substr(half)}) {
          if (piece.empty()) continue;
          if (!co_await pause(r, c->srv.opts.delta_interval)) break;
          c->send({{"type", "response.function_call_arguments.delta"},
                   {"response_id", r->id},
                   {"item_id", item_id},
                   {"output_index", 0},
                   {"call_id", call_id},
                   {"delta", piece}});
        }
        if (c->dead) co_return;
        if (!r->cancel_requested) {
          json done = {{"type", "response.function_call_arguments.done"},
                       {"response_id", r->id},
                       {"item_id", item_id},
                       {"output_index", 0},
                       {"call_id", call_id},
                       {"arguments", args}};
          if (!c->beta) done["name"] = script.function_name;
          c->send(done);
          item["arguments"] = args;
        }
      } else {
        const std::string audio = encode_audio(c->out_fmt, script.pcm24k);
        const int bpm = bytes_per_ms(c->out_fmt);
        c->items.push_back({item_id, true, 0, bpm});
        item = {{"id", item_id},          {"object", "realtime.item"}, {"type", "message"},
                {"status", "in_progress"}, {"role", "assistant"},       {"content", json::array()}};
        c->send({{"type", "response.output_item.added"}, {"response_id", r->id}, {"output_index", 0}, {"item", item}});
        c->announce_item(item, prev_id, false);
        const json ids = {{"response_id", r->id}, {"item_id", item_id}, {"output_index", 0}, {"content_index", 0}};
        auto with_ids = [&](json ev) {
          for (const auto& [k, v] : ids.items()) ev[k] = v;
          return ev;
        };
        c->send(with_ids({{"type", "response.content_part.added"}, {"part", {{"type", "audio"}, {"transcript", ""}}}}));
        const auto words = split_words(script.transcript);
        const auto& sizes = c->srv.opts.delta_ms;
        std::size_t offset = 0, words_sent = 0;
        for (std::size_t i = 0; offset < audio.size(); ++i) {
          if (!co_await pause(r, c->srv.opts.delta_interval)) break;
          if (c->dead) co_return;
          const int ms = sizes.empty() ? 100 : std::max(1, sizes[i % sizes.size()]);
          const std::size_t n = std::min(audio.size() - offset, static_cast<std::size_t>(ms) * bpm);
          c->send(with_ids({{"type", c->beta ? "response.audio.delta" : "response.output_audio.delta"},
                            {"delta", encode_base64(std::string_view(audio).substr(offset, n))}}));
          offset += n;
          c->produced_audio = true;
          if (auto* rec = c->find_item(item_id)) rec->audio_bytes = static_cast<std::int64_t>(offset);
          // Transcript keeps pace with the audio, word by word.
          const std::size_t due = audio.empty() ? words.size() : words.size() * offset / audio.size();
          for (; words_sent < due; ++words_sent) {
            transcript_sent += words[words_sent];
            c->send(with_ids({{"type", c->beta ? "response.audio_transcript.delta" : "response.output_audio_transcript.delta"},
                              {"delta", words[words_sent]}}));
          }
        }
        if (c->dead) co_return;
        if (!r->cancel_requested)
          for (; words_sent < words.size(); ++words_sent) {
            transcript_sent += words[words_sent];
            c->send(with_ids({{"type", c->beta ? "response.audio_transcript.delta" : "response.output_audio_transcript.delta"},
                              {"delta", words[words_sent]}}));
          }
        out_ms = static_cast<std::int64_t>(offset) / bpm;
        c->send(with_ids({{"type", c->beta ? "response.audio.done" : "response.output_audio.done"}}));
        c->send(with_ids({{"type", c->beta ? "response.audio_transcript.done" : "response.output_audio_transcript.done"},
                          {"transcript", transcript_sent}}));
        c->send(with_ids({{"type", "response.content_part.done"},
                          {"part", {{"type", "audio"}, {"transcript", transcript_sent}}}}));
        item["content"] = {{{"type", c->beta ? "audio" : "output_audio"}, {"transcript", transcript_sent}}};
      }
      if (c->dead) co_return;
      const bool cancelled = r->cancel_requested;
      item["status"] = cancelled ? "incomplete" : "completed";
      c->send({{"type", "response.output_item.done"}, {"response_id", r->id}, {"output_index", 0}, {"item", item}});
      if (!c->beta) c->send({{"type", "conversation.item.done"}, {"previous_item_id", prev_id}, {"item", item}});
      json resp = c->response_object(*r, cancelled ? "cancelled" : "completed", json::array({item}));
      if (cancelled) resp["status_details"] = {{"type", "cancelled"}, {"reason", r->cancel_reason}};
      const std::int64_t audio_tokens = out_ms / 50;
      const std::int64_t text_tokens = static_cast<std::int64_t>(transcript_sent.size() / 4 + script.function_arguments.size() / 4);
      const std::int64_t input_tokens = 120 + static_cast<std::int64_t>(c->appended_ms / 100);
      resp["usage"] = {{"total_tokens", input_tokens + audio_tokens + text_tokens},
                       {"input_tokens", input_tokens},
                       {"output_tokens", audio_tokens + text_tokens},
                       {"input_token_details",
                        {{"text_tokens", 120},
                         {"audio_tokens", input_tokens - 120},
                         {"cached_tokens", 0},
                         {"cached_tokens_details", {{"text_tokens", 0}, {"audio_tokens", 0}}}}},
                       {"output_token_details", {{"text_tokens", text_tokens}, {"audio_tokens", audio_tokens}}}};
      if (c->active == r) c->active.reset();
      c->send({{"type", "response.done"}, {"response", resp}});
      c->srv.notify();
    }

    // -------------------------------------------------------------- dispatch
    // A handler bug must not take the server thread down: it becomes a server_error, as
    // the real service reports its own failures, and the trace names it.
    void on_text(const std::string& raw) {
      try {
        dispatch(raw);
      } catch (const std::exception& e) {
        srv.trace_locked("connection " + std::to_string(id) + ": handler failed: " + e.what());
        send_error({"server_error", "The server had an error while processing your request.", "", "server_error"});
      }
    }

    void dispatch(const std::string& raw) {
      json ev = json::parse(raw, nullptr, false);
      if (ev.is_discarded() || !ev.is_object()) {
        srv.record_received(*this, "", raw);
        return send_error({"invalid_json", "The event could not be parsed as a JSON object.", ""});
      }
      const std::string type = ev.contains("type") && ev["type"].is_string() ? ev["type"].get<std::string>() : "";
      srv.record_received(*this, type, raw);
      const json eid = ev.value("event_id", json());
      if (!ev.contains("type")) return send_error(missing_parameter("type"), eid);

      static const std::map<std::string, std::vector<std::string_view>> fields = {
          {"session.update", {"session"}},
          {"input_audio_buffer.append", {"audio"}},
          {"input_audio_buffer.commit", {}},
          {"input_audio_buffer.clear", {}},
          {"conversation.item.create", {"item", "previous_item_id"}},
          {"conversation.item.truncate", {"item_id", "content_index", "audio_end_ms"}},
          {"conversation.item.delete", {"item_id"}},
          {"conversation.item.retrieve", {"item_id"}},
          {"response.create", {"response"}},
          {"response.cancel", {"response_id"}},
      };
      const auto known = fields.find(type);
      if (known == fields.end())
        return send_error(invalid_value("type", type,
                                        "'session.update', 'input_audio_buffer.append', 'input_audio_buffer.commit', "
                                        "'input_audio_buffer.clear', 'conversation.item.create', "
                                        "'conversation.item.truncate', 'conversation.item.delete', "
                                        "'conversation.item.retrieve', 'response.create' and 'response.cancel'"),
                          eid);
      for (const auto& [k, v] : ev.items())
        if (k != "type" && k != "event_id" &&
            std::find(known->second.begin(), known->second.end(), k) == known->second.end())
          return send_error(unknown_parameter(k), eid);

      if (type == "session.update") return on_session_update(ev, raw);
      if (type == "input_audio_buffer.append") return on_append(ev);
      if (type == "input_audio_buffer.commit") return on_commit(ev);
      if (type == "input_audio_buffer.clear") return on_clear();
      if (type == "conversation.item.create") return on_item_create(ev);
      if (type == "conversation.item.truncate") return on_truncate(ev);
      if (type == "conversation.item.delete") return on_item_delete(ev);
      if (type == "conversation.item.retrieve") return on_item_retrieve(ev);
      if (type == "response.create") return on_response_create(ev);
      if (type == "response.cancel") return on_cancel(ev);
    }
  };

  // ---------------------------------------------------------------- server state
  // Declared first so it is destroyed last: sockets held elsewhere close against a live context.
  net::io_context ioc;
  fake_realtime_options opts;
  std::unique_ptr<test_tls> tls;                ///< CA and server certificate (TLS mode only)
  std::optional<ssl::context> ssl_ctx;          ///< server TLS context (TLS mode only)
  tcp::acceptor acceptor{ioc};
  std::uint16_t port = 0;
  std::thread thread;

  mutable std::mutex mu;
  std::condition_variable cv;  // signalled after every change the wait_for_x calls look at
  std::uint64_t id_counter = 0;
  std::vector<std::shared_ptr<connection>> conns;  // open connections
  int accepted = 0;
  int tls_failed = 0;
  std::deque<scripted_response> script;
  std::deque<std::string> user_transcripts;
  scripted_response default_response;
  std::chrono::milliseconds delay{0};
  int drop_countdown = 0;  // > 0: events left before a connection is dropped
  unsigned refuse_status = 0;
  std::string refuse_body;
  // observations
  std::vector<received_event> received;
  std::vector<std::string> sent, sent_types;
  std::optional<std::string> last_update;
  int updates = 0;
  std::string effective;
  std::vector<truncation> truncs;
  int cancel_count = 0;
  std::vector<function_output> outputs;
  std::vector<std::string> items;
  double audio_ms = 0;
  std::vector<realtime_handshake> shakes;

  explicit impl(fake_realtime_options o) : opts(std::move(o)) {
    default_response.pcm24k = fake_realtime_server::tone(600);
    default_response.transcript = "Namaste, this is the electricity helpline.";
    if (opts.tls) {
      tls = std::make_unique<test_tls>("npcl fake OpenAI CA");
      ssl_ctx.emplace(ssl::context::tls_server);
      ssl_ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3);
      ssl_ctx->use_certificate_chain(net::buffer(tls->server_cert_pem()));
      ssl_ctx->use_private_key(net::buffer(tls->server_key_pem()), ssl::context::pem);
    }
    port = listen_on_loopback(acceptor, opts.port);
    net::co_spawn(ioc, accept_loop(), net::detached);
    thread = std::thread([this] { ioc.run(); });
  }

  ~impl() {
    // Sockets are closed on the server thread, where they live, before the loop stops.
    std::promise<void> closed;
    net::post(ioc, [this, &closed] {
      error_code ignored;
      acceptor.close(ignored);
      std::vector<std::shared_ptr<connection>> now;
      {
        std::lock_guard lk(mu);
        now = conns;
      }
      for (const auto& c : now) c->drop();
      closed.set_value();
    });
    closed.get_future().wait_for(std::chrono::seconds(5));
    ioc.stop();
    thread.join();
    std::lock_guard lk(mu);
    for (const auto& c : conns) c->kill = nullptr;
    conns.clear();
  }

  void trace(const std::string& line) {
    if (opts.trace) opts.trace(line);
  }

  void notify() { cv.notify_all(); }

  void trace_locked(const std::string& line) {
    std::lock_guard lk(mu);
    trace(line);
  }

  std::string next_id(const char* prefix) {
    std::lock_guard lk(mu);
    // Scrambled counter: unique, opaque-looking, and the same in every run.
    char buf[24];
    std::snprintf(buf, sizeof buf, "%016llX", static_cast<unsigned long long>(++id_counter * 2654435761ULL));
    return std::string(prefix) + "NPCL" + buf;
  }

  // Logs one outgoing event; false when a drop_after_events fault fires on it.
  bool count_sent(connection& c, const std::string& type, const std::string& text) {
    std::lock_guard lk(mu);
    if (drop_countdown > 0 && --drop_countdown == 0) {
      trace("connection " + std::to_string(c.id) + " dropped before " + type);
      cv.notify_all();
      return false;
    }
    trace("-> " + std::to_string(c.id) + " " + text.substr(0, 400));
    sent_types.push_back(type);
    sent.push_back(text);
    cv.notify_all();
    return true;
  }

  void record_received(connection& c, const std::string& type, const std::string& raw) {
    std::lock_guard lk(mu);
    trace("<- " + std::to_string(c.id) + " " + raw.substr(0, 400));
    received.push_back({c.id, type, raw});
    cv.notify_all();
  }
  void record_session_update(connection& c, const std::string& raw) {
    std::lock_guard lk(mu);
    last_update = raw;
    ++updates;
    effective = c.session.dump();
    cv.notify_all();
  }
  void set_effective(connection& c) {
    std::lock_guard lk(mu);
    effective = c.session.dump();
  }
  void record_audio(double ms) {
    std::lock_guard lk(mu);
    audio_ms += ms;
    cv.notify_all();
  }
  void record_truncation(truncation t) {
    std::lock_guard lk(mu);
    truncs.push_back(std::move(t));
    cv.notify_all();
  }
  void record_cancel() {
    std::lock_guard lk(mu);
    ++cancel_count;
    cv.notify_all();
  }
  void record_item(std::string raw, std::optional<function_output> out) {
    std::lock_guard lk(mu);
    items.push_back(std::move(raw));
    if (out) outputs.push_back(std::move(*out));
    cv.notify_all();
  }
  scripted_response next_script() {
    std::lock_guard lk(mu);
    if (script.empty()) return default_response;
    scripted_response r = std::move(script.front());
    script.pop_front();
    return r;
  }
  std::string next_user_transcript() {
    std::lock_guard lk(mu);
    if (user_transcripts.empty()) return "hello";
    std::string t = std::move(user_transcripts.front());
    user_transcripts.pop_front();
    return t;
  }
  std::chrono::milliseconds response_delay() {
    std::lock_guard lk(mu);
    return delay;
  }

  // ---------------------------------------------------------------- transport
  net::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, sock] = co_await acceptor.async_accept(use_tuple);
      if (ec == net::error::operation_aborted || !acceptor.is_open()) co_return;
      if (ec) continue;
      if (ssl_ctx)
        net::co_spawn(ioc, serve_tls(std::move(sock)), net::detached);
      else
        net::co_spawn(ioc, serve_http(beast::tcp_stream(std::move(sock))), net::detached);
    }
  }

  net::awaitable<void> serve_tls(tcp::socket sock) {
    beast::ssl_stream<beast::tcp_stream> stream(beast::tcp_stream(std::move(sock)), *ssl_ctx);
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(10));
    auto [ec] = co_await stream.async_handshake(ssl::stream_base::server, use_tuple);
    if (ec) {
      std::lock_guard lk(mu);
      ++tls_failed;
      trace("TLS handshake failed: " + ec.message());
      cv.notify_all();
      co_return;
    }
    co_await serve_http(std::move(stream));
  }

  // What the upgrade request earns: 101 (with dialect and model) or an HTTP error.
  struct upgrade_decision {
    unsigned status = 101;
    std::string body;
    bool beta = false;
    std::string model;
  };

  upgrade_decision decide(const bhttp::request<bhttp::string_body>& req) {
    std::lock_guard lk(mu);
    upgrade_decision d;
    const std::string target(req.target());
    const auto beta_header = req.find("OpenAI-Beta");
    d.beta = beta_header != req.end() && beta_header->value().find("realtime=v1") != std::string_view::npos;
    d.model = d.beta ? "gpt-4o-realtime-preview" : "gpt-realtime";
    const auto q = target.find('?');
    const std::string path = target.substr(0, q);
    if (q != std::string::npos) {
      const std::string query = target.substr(q + 1);
      for (std::size_t start = 0; start <= query.size();) {
        const auto amp = query.find('&', start);
        const std::string kv = query.substr(start, amp == std::string::npos ? std::string::npos : amp - start);
        if (kv.rfind("model=", 0) == 0 || kv.rfind("deployment=", 0) == 0) d.model = kv.substr(kv.find('=') + 1);
        if (amp == std::string::npos) break;
        start = amp + 1;
      }
    }
    auto fail = [&](unsigned status, const std::string& message, const json& code) {
      d.status = status;
      d.body = json{{"error", {{"message", message}, {"type", "invalid_request_error"}, {"code", code}, {"param", nullptr}}}}
                   .dump(2);
    };
    std::string key;
    const auto auth = req.find(bhttp::field::authorization);
    if (auth != req.end() && auth->value().starts_with("Bearer ")) key = std::string(auth->value().substr(7));
    if (const auto api_key = req.find("api-key"); key.empty() && api_key != req.end()) key = std::string(api_key->value());

    if (refuse_status != 0) {
      d.status = refuse_status;
      d.body = refuse_body;
    } else if (!websocket::is_upgrade(req)) {
      fail(426, "This endpoint only accepts WebSocket upgrades.", nullptr);
    } else if (path.size() < 9 || path.substr(path.size() - 9) != "/realtime") {
      fail(404, "Invalid URL (GET " + path + ")", nullptr);
    } else if (key.empty()) {
      fail(401,
           "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer "
           "auth (i.e. Authorization: Bearer YOUR_KEY).",
           nullptr);
    } else if (key != opts.api_key) {
      fail(401,
           "Incorrect API key provided: " + key.substr(0, std::min<std::size_t>(key.size(), 4)) +
               "****. You can find your API key at https://platform.openai.com/account/api-keys.",
           "invalid_api_key");
    }
    shakes.push_back({target, d.beta, d.status});
    trace("upgrade " + target + (d.beta ? " (beta)" : "") + " => " + std::to_string(d.status));
    cv.notify_all();
    return d;
  }

  template <class Stream>
  net::awaitable<void> serve_http(Stream stream) {
    beast::flat_buffer buffer;
    bhttp::request_parser<bhttp::string_body> parser;
    parser.body_limit(64 * 1024);
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(10));
    auto [ec, n] = co_await bhttp::async_read(stream, buffer, parser, use_tuple);
    if (ec) co_return;
    beast::get_lowest_layer(stream).expires_never();
    auto req = parser.release();
    upgrade_decision d = decide(req);
    if (d.status != 101) {
      bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(d.status), req.version()};
      res.set(bhttp::field::content_type, "application/json");
      res.body() = d.body;
      res.keep_alive(false);
      res.prepare_payload();
      co_await bhttp::async_write(stream, res, use_tuple);
      error_code ignored;
      beast::get_lowest_layer(stream).socket().shutdown(tcp::socket::shutdown_both, ignored);
      co_return;
    }
    co_await run_websocket(std::move(stream), std::move(req), d);
  }

  template <class Stream>
  net::awaitable<void> run_websocket(Stream stream, bhttp::request<bhttp::string_body> req, upgrade_decision d) {
    using ws_type = websocket::stream<Stream>;
    auto ws = std::make_shared<ws_type>(std::move(stream));
    websocket::stream_base::timeout timeouts{};
    timeouts.handshake_timeout = std::chrono::seconds(10);
    timeouts.idle_timeout = websocket::stream_base::none();
    timeouts.keep_alive_pings = false;
    ws->set_option(timeouts);
    ws->read_message_max(32 * 1024 * 1024);
    auto [ec] = co_await ws->async_accept(req, use_tuple);
    if (ec) co_return;
    std::shared_ptr<connection> c;
    {
      std::lock_guard lk(mu);
      c = std::make_shared<connection>(*this, ioc, ++accepted, d.beta, d.model);
      conns.push_back(c);
      cv.notify_all();
    }
    std::weak_ptr<ws_type> weak = ws;
    c->kill = [weak] {
      if (auto w = weak.lock()) {
        error_code ignored;
        auto& sock = beast::get_lowest_layer(*w).socket();
        sock.shutdown(tcp::socket::shutdown_both, ignored);
        sock.close(ignored);
      }
    };
    net::co_spawn(ioc, write_loop(c, ws), net::detached);
    c->start();
    beast::flat_buffer buffer;
    while (!c->dead) {
      auto [rec, n] = co_await ws->async_read(buffer, use_tuple);
      if (rec) break;
      if (!ws->got_text()) {
        c->send_error({"invalid_value", "Binary frames are not supported; send JSON text frames.", ""});
      } else if (!c->dead) {
        c->on_text(beast::buffers_to_string(buffer.data()));
      }
      buffer.consume(buffer.size());
    }
    c->dead = true;
    c->stop_response();
    c->wake.cancel();
    std::lock_guard lk(mu);
    c->kill = nullptr;
    conns.erase(std::remove(conns.begin(), conns.end(), c), conns.end());
    trace("connection " + std::to_string(c->id) + " closed");
    cv.notify_all();
  }

  // The only writer of its stream: one write in flight, in outbox order.
  template <class Ws>
  net::awaitable<void> write_loop(std::shared_ptr<connection> c, std::shared_ptr<Ws> ws) {
    for (;;) {
      while (c->outbox.empty() && !c->closing && !c->dead) {
        c->wake.expires_at(net::steady_timer::time_point::max());
        co_await c->wake.async_wait(use_tuple);
      }
      if (c->dead) co_return;
      if (c->outbox.empty()) {
        websocket::close_reason why(static_cast<websocket::close_code>(c->close_code));
        why.reason = c->close_reason.substr(0, why.reason.max_size());
        co_await ws->async_close(why, use_tuple);
        co_return;
      }
      std::string text = std::move(c->outbox.front());
      c->outbox.pop_front();
      ws->text(true);
      auto [ec, n] = co_await ws->async_write(net::buffer(text), use_tuple);
      if (ec) {
        c->drop();
        co_return;
      }
    }
  }

  // ---------------------------------------------------------------- waiting
  template <typename Pred>
  testing::AssertionResult wait(std::chrono::milliseconds timeout, Pred pred, const std::string& what) {
    std::unique_lock lk(mu);
    if (cv.wait_for(lk, timeout, pred)) return testing::AssertionSuccess();
    return testing::AssertionFailure() << "fake Realtime: timed out after " << timeout.count() << " ms waiting for "
                                       << what;
  }

  // Runs `f` on every open connection, on the server thread.
  template <typename F>
  void each_connection(F f) {
    net::post(ioc, [this, f] {
      std::vector<std::shared_ptr<connection>> now;
      {
        std::lock_guard lk(mu);
        now = conns;
      }
      for (const auto& c : now) f(*c);
    });
  }
};

// ---------------------------------------------------------------- public API

fake_realtime_server::fake_realtime_server(fake_realtime_options o) : impl_(std::make_unique<impl>(std::move(o))) {}

fake_realtime_server::~fake_realtime_server() = default;

std::uint16_t fake_realtime_server::port() const { return impl_->port; }

std::string fake_realtime_server::url() const {
  return std::string(impl_->opts.tls ? "wss" : "ws") + "://127.0.0.1:" + std::to_string(impl_->port) + "/v1/realtime";
}

std::string fake_realtime_server::ca_file() const { return impl_->tls ? impl_->tls->ca_file() : std::string(); }

void fake_realtime_server::script_audio(std::vector<std::int16_t> pcm24k, std::string transcript) {
  std::lock_guard lk(impl_->mu);
  impl_->script.push_back({std::move(pcm24k), std::move(transcript), {}, {}});
}

void fake_realtime_server::script_function_call(std::string name, std::string arguments_json) {
  std::lock_guard lk(impl_->mu);
  impl_->script.push_back({{}, {}, std::move(name), std::move(arguments_json)});
}

void fake_realtime_server::script_user_transcript(std::string text) {
  std::lock_guard lk(impl_->mu);
  impl_->user_transcripts.push_back(std::move(text));
}

void fake_realtime_server::set_default_response(scripted_response r) {
  std::lock_guard lk(impl_->mu);
  impl_->default_response = std::move(r);
}

std::vector<std::int16_t> fake_realtime_server::tone(int ms, double hz, double amplitude) {
  std::vector<std::int16_t> out(static_cast<std::size_t>(std::max(0, ms)) * 24);
  for (std::size_t i = 0; i < out.size(); ++i)
    out[i] = static_cast<std::int16_t>(std::lround(amplitude * std::sin(2.0 * std::numbers::pi * hz * i / 24000.0)));
  return out;
}

void fake_realtime_server::drop_connections() {
  impl_->each_connection([](impl::connection& c) { c.drop(); });
}

void fake_realtime_server::drop_after_events(int n) {
  std::lock_guard lk(impl_->mu);
  impl_->drop_countdown = n + 1;
}

void fake_realtime_server::send_error(std::string type, std::string code, std::string message, std::string param) {
  impl_->each_connection([e = client_error{std::move(code), std::move(message), std::move(param), std::move(type)}](
                             impl::connection& c) { c.send_error(e); });
}

void fake_realtime_server::close_connections(std::uint16_t code, std::string reason) {
  impl_->each_connection([code, reason](impl::connection& c) { c.close(code, reason); });
}

void fake_realtime_server::delay_responses(std::chrono::milliseconds d) {
  std::lock_guard lk(impl_->mu);
  impl_->delay = d;
}

void fake_realtime_server::refuse_handshakes(unsigned status, std::string body) {
  std::lock_guard lk(impl_->mu);
  impl_->refuse_status = status;
  impl_->refuse_body = std::move(body);
}

std::vector<received_event> fake_realtime_server::received() const {
  std::lock_guard lk(impl_->mu);
  return impl_->received;
}

std::vector<std::string> fake_realtime_server::sent_types() const {
  std::lock_guard lk(impl_->mu);
  return impl_->sent_types;
}

std::vector<std::string> fake_realtime_server::sent() const {
  std::lock_guard lk(impl_->mu);
  return impl_->sent;
}

std::optional<std::string> fake_realtime_server::last_session_update() const {
  std::lock_guard lk(impl_->mu);
  return impl_->last_update;
}

std::string fake_realtime_server::effective_session() const {
  std::lock_guard lk(impl_->mu);
  return impl_->effective;
}

std::vector<truncation> fake_realtime_server::truncations() const {
  std::lock_guard lk(impl_->mu);
  return impl_->truncs;
}

int fake_realtime_server::cancels() const {
  std::lock_guard lk(impl_->mu);
  return impl_->cancel_count;
}

std::vector<function_output> fake_realtime_server::function_outputs() const {
  std::lock_guard lk(impl_->mu);
  return impl_->outputs;
}

std::vector<std::string> fake_realtime_server::history_items() const {
  std::lock_guard lk(impl_->mu);
  return impl_->items;
}

std::int64_t fake_realtime_server::audio_appended_ms() const {
  std::lock_guard lk(impl_->mu);
  return static_cast<std::int64_t>(std::lround(impl_->audio_ms));
}

std::vector<realtime_handshake> fake_realtime_server::handshakes() const {
  std::lock_guard lk(impl_->mu);
  return impl_->shakes;
}

int fake_realtime_server::open_connections() const {
  std::lock_guard lk(impl_->mu);
  return static_cast<int>(impl_->conns.size());
}

int fake_realtime_server::tls_failures() const {
  std::lock_guard lk(impl_->mu);
  return impl_->tls_failed;
}

testing::AssertionResult fake_realtime_server::wait_for_event(const std::string& type,
                                                              std::chrono::milliseconds timeout, int count) {
  return impl_->wait(
      timeout,
      [&] {
        return std::count_if(impl_->received.begin(), impl_->received.end(),
                             [&](const received_event& e) { return e.type == type; }) >= count;
      },
      std::to_string(count) + " client event(s) " + type);
}

testing::AssertionResult fake_realtime_server::wait_for_sent(const std::string& type, std::chrono::milliseconds timeout,
                                                             int count) {
  return impl_->wait(
      timeout,
      [&] { return std::count(impl_->sent_types.begin(), impl_->sent_types.end(), type) >= count; },
      std::to_string(count) + " server event(s) " + type);
}

testing::AssertionResult fake_realtime_server::wait_for_connections(int count, std::chrono::milliseconds timeout) {
  return impl_->wait(timeout, [&] { return impl_->accepted >= count; }, std::to_string(count) + " connection(s)");
}

testing::AssertionResult fake_realtime_server::wait_for_no_connections(std::chrono::milliseconds timeout) {
  return impl_->wait(timeout, [&] { return impl_->conns.empty(); }, "every connection to close");
}

testing::AssertionResult fake_realtime_server::wait_for_session_update(std::chrono::milliseconds timeout, int count) {
  return impl_->wait(timeout, [&] { return impl_->updates >= count; },
                     std::to_string(count) + " accepted session.update(s)");
}

testing::AssertionResult fake_realtime_server::wait_for_truncation(std::chrono::milliseconds timeout, int count) {
  return impl_->wait(timeout, [&] { return static_cast<int>(impl_->truncs.size()) >= count; },
                     std::to_string(count) + " truncation(s)");
}

testing::AssertionResult fake_realtime_server::wait_for_cancel(std::chrono::milliseconds timeout, int count) {
  return impl_->wait(timeout, [&] { return impl_->cancel_count >= count; }, std::to_string(count) + " cancel(s)");
}

testing::AssertionResult fake_realtime_server::wait_for_function_output(std::chrono::milliseconds timeout, int count) {
  return impl_->wait(timeout, [&] { return static_cast<int>(impl_->outputs.size()) >= count; },
                     std::to_string(count) + " function output(s)");
}

testing::AssertionResult fake_realtime_server::wait_for_history_items(int count, std::chrono::milliseconds timeout) {
  return impl_->wait(timeout, [&] { return static_cast<int>(impl_->items.size()) >= count; },
                     std::to_string(count) + " history item(s)");
}

testing::AssertionResult fake_realtime_server::wait_for_tls_failures(int count, std::chrono::milliseconds timeout) {
  return impl_->wait(timeout, [&] { return impl_->tls_failed >= count; },
                     std::to_string(count) + " failed TLS handshake(s)");
}

testing::AssertionResult fake_realtime_server::wait_for_audio_ms(std::int64_t ms, std::chrono::milliseconds timeout) {
  return impl_->wait(timeout, [&] { return impl_->audio_ms + 0.5 >= static_cast<double>(ms); },
                     std::to_string(ms) + " ms of appended audio");
}

}  // namespace npcl::fakes
