#include <fstream>
#include "config/setting_spec.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <sstream>
#include <type_traits>
#include <utility>

#include "config/value_parsers.hpp"
#include "npcl/config/config_error.hpp"

namespace npcl::config::detail {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::seconds;

// Limits shared by the plain timeouts: anything over an hour is a typo for a
// peer that is gone, and zero would make every wait fail at once.
constexpr milliseconds min_wait{1};
constexpr milliseconds max_wait = hours{1};

[[noreturn]] void fail(std::string_view name, const std::string& value, std::string reason) {
  throw config_error(std::string(name), value, std::move(reason));
}

std::string show_bool(bool b) { return b ? "true" : "false"; }
std::string show_double(double x) {
  std::ostringstream out;
  out << x;
  return out.str();
}

bool has_control_character(const std::string& value) {
  return std::any_of(value.begin(), value.end(),
                     [](unsigned char c) { return c < 0x20 || c == 0x7f; });
}

int rate_of_format(const std::string& format) {
  if (format == "slin16") return 16000;
  if (format == "slin24") return 24000;
  return 8000;  // ulaw, alaw, slin
}

void apply_api_key(settings& s, const std::string& value) {
  // A key pasted with a trailing newline or space fails authentication with a
  // confusing 401 at the first call; catch it at start-up instead.
  if (std::any_of(value.begin(), value.end(),
                  [](unsigned char c) { return std::isspace(c) || c < 0x20 || c == 0x7f; }))
    fail("OPENAI_API_KEY", "<secret>", "contains white space or control characters");
  s.realtime.service.api_key = value;
}

void apply_voice(settings& s, const std::string& value) {
  const bool ok = !value.empty() && std::all_of(value.begin(), value.end(), [](unsigned char c) {
    return std::islower(c) || std::isdigit(c) || c == '_' || c == '-';
  });
  if (!ok) fail("OPENAI_VOICE", value, "must be a non-empty voice name of [a-z0-9_-]");
  s.realtime.service.voice = value;
}

void apply_max_tokens(settings& s, const std::string& value) {
  std::string v = value;
  std::transform(v.begin(), v.end(), v.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  // The old system accepted "inf"; the Realtime API caps a response at 4096.
  s.realtime.service.max_tokens =
      v == "inf" ? 4096 : static_cast<int>(parse_integer("MAX_TOKENS", value, 1, 4096));
}

void apply_audio_format(settings& s, const std::string& value) {
  s.media.format =
      parse_choice("AUDIO_FORMAT", value, {"ulaw", "alaw", "slin", "slin16", "slin24"});
  s.media.sample_rate = rate_of_format(s.media.format);
  s.media.chunk_size = s.media.sample_rate / 50;
}

void apply_sample_rate(settings& s, const std::string& value) {
  const auto rate = parse_integer("AUDIO_SAMPLE_RATE", value, 1, 192000);
  if (rate != s.media.sample_rate)
    fail("AUDIO_SAMPLE_RATE", value,
         "AUDIO_FORMAT=" + s.media.format + " implies " + std::to_string(s.media.sample_rate) +
             " Hz (leave AUDIO_SAMPLE_RATE unset)");
}

void apply_chunk_size(settings& s, const std::string& value) {
  const int per_10ms = s.media.sample_rate / 100;
  const auto n = parse_integer("AUDIO_CHUNK_SIZE", value, 1, 4 * per_10ms);
  if (n % per_10ms != 0)
    fail("AUDIO_CHUNK_SIZE", value,
         "must be 10, 20, 30 or 40 ms of samples at " + std::to_string(s.media.sample_rate) +
             " Hz: " + std::to_string(per_10ms) + ", " + std::to_string(2 * per_10ms) + ", " +
             std::to_string(3 * per_10ms) + " or " + std::to_string(4 * per_10ms));
  s.media.chunk_size = static_cast<int>(n);
}

void apply_assistant_name(settings& s, const std::string& value) {
  // Count UTF-8 code points, not bytes: names may be in Devanagari or Bengali.
  const auto chars = std::count_if(value.begin(), value.end(),
                                   [](unsigned char c) { return (c & 0xC0) != 0x80; });
  if (value.empty() || chars > 64 || has_control_character(value))
    fail("ASSISTANT_NAME", value, "must be 1..64 characters without control characters");
  s.session.assistant_name = value;
}

void apply_voice_language(settings& s, const std::string& value) {
  auto lang = parse_choice("VOICE_LANGUAGE", value,
                           {"en-IN", "hi-IN", "bho-IN", "bn-IN", "en", "hi", "bho", "bn"});
  if (lang.find('-') == std::string::npos) lang += "-IN";
  s.session.voice_language = lang;
}

// An http:// or https:// URL taken apart; credentials in it are refused, as
// they would be echoed wherever the URL is shown.
struct http_url {
  bool https = false;       // scheme is https
  std::string host;         // name or address literal, IPv6 without brackets
  std::uint16_t port = 0;   // 0 when the URL names none
  std::string path;         // encoded, as written ("" for none)
  std::string query;        // encoded, without '?' ("" for none)
};

http_url split_http_url(std::string_view name, const std::string& value, const char* credentials_hint) {
  const auto parsed = boost::urls::parse_uri(value);
  if (!parsed) fail(name, value, "not an http:// or https:// URL");
  const boost::urls::url_view u = *parsed;
  if (u.has_userinfo())
    fail(name,
         std::string(u.scheme()) + "://***@" + std::string(u.encoded_host_and_port()) +
             std::string(u.encoded_path()),
         credentials_hint);
  if (u.scheme_id() != boost::urls::scheme::http && u.scheme_id() != boost::urls::scheme::https)
    fail(name, value, "not an http:// or https:// URL");
  if (u.has_fragment()) fail(name, value, "must not have a fragment");

  http_url out;
  out.https = u.scheme_id() == boost::urls::scheme::https;
  switch (u.host_type()) {
    case boost::urls::host_type::ipv4:
    case boost::urls::host_type::ipv6: out.host = u.host_address(); break;
    case boost::urls::host_type::name: out.host = u.host_name(); break;
    default: break;
  }
  if (out.host.empty() || !(is_ip_literal(out.host) || is_host_name(out.host)))
    fail(name, value, "has no valid host");

  if (u.has_port()) {
    const std::string digits(u.port());
    const bool numeric = !digits.empty() && digits.size() <= 5 &&
                         std::all_of(digits.begin(), digits.end(),
                                     [](unsigned char c) { return std::isdigit(c); });
    const long number = numeric ? std::stol(digits) : 0;
    if (number < 1 || number > 65535) fail(name, value, "port must be 1..65535");
    out.port = static_cast<std::uint16_t>(number);
  }
  out.path = std::string(u.encoded_path());
  if (u.has_query()) out.query = std::string(u.encoded_query());
  return out;
}

void apply_ari_base_url(settings& s, const std::string& value) {
  constexpr std::string_view name = "ARI_BASE_URL";
  auto u = split_http_url(name, value, "credentials belong in ARI_USERNAME and ARI_PASSWORD, not in the URL");
  if (u.https)
    fail(name, value,
         "https is not supported: ARI is reached over plain HTTP on the Asterisk host "
         "(use http://)");
  if (!u.query.empty() || value.find('?') != std::string::npos)
    fail(name, value, "must not have a query or fragment");
  while (!u.path.empty() && u.path.back() == '/') u.path.pop_back();

  s.ari.base_url = value;
  s.ari.host = u.host;
  s.ari.port = u.port == 0 ? 80 : u.port;
  s.ari.path_prefix = u.path;
}

void apply_tool_backend_url(settings& s, const std::string& value) {
  constexpr std::string_view name = "TOOL_BACKEND_URL";
  if (value.empty()) {
    s.tools.url.clear();
    s.tools.endpoint = {};
    return;
  }
  const auto u = split_http_url(name, value, "the CRM is authenticated by TOOL_BACKEND_SECRET, not by the URL");
  auto& e = s.tools.endpoint;
  e.tls = u.https;
  e.host = u.host;
  e.port = u.port != 0 ? u.port : (u.https ? 443 : 80);
  e.target = u.path.empty() ? "/" : u.path;
  if (!u.query.empty()) e.target += "?" + u.query;
  s.tools.url = value;
}

void apply_tool_backend_secret(settings& s, const std::string& value) {
  if (has_control_character(value)) fail("TOOL_BACKEND_SECRET", "<secret>", "contains control characters");
  s.tools.secret = value;
}

void apply_ari_username(settings& s, const std::string& value) {
  // Basic authentication joins user and password with ':'.
  if (value.empty() || value.find(':') != std::string::npos || has_control_character(value))
    fail("ARI_USERNAME", value, "must be non-empty, without ':' or control characters");
  s.ari.username = value;
}

void apply_ari_password(settings& s, const std::string& value) {
  if (has_control_character(value))
    fail("ARI_PASSWORD", "<secret>", "contains control characters");
  s.ari.password = value;
}

// The factories below take `field`: a generic lambda returning a reference to
// the member for a const or a mutable settings, so one accessor serves both
// reading (describe) and writing (parse).

template <class Field>
setting_spec text(std::string_view name, Field field,
                  std::string (*check)(std::string_view, const std::string&)) {
  return {name, false,
          [name, field, check](settings& s, const std::string& v) { field(s) = check(name, v); },
          [field](const settings& s) { return std::string(field(s)); }};
}

template <class Field>
setting_spec flag(std::string_view name, Field field) {
  return {name, false,
          [name, field](settings& s, const std::string& v) { field(s) = parse_bool(name, v); },
          [field](const settings& s) { return show_bool(field(s)); }};
}

template <class Field>
setting_spec integer(std::string_view name, Field field, long long min, long long max) {
  using type = std::remove_reference_t<decltype(field(std::declval<settings&>()))>;
  return {name, false,
          [=](settings& s, const std::string& v) {
            field(s) = static_cast<type>(parse_integer(name, v, min, max));
          },
          [field](const settings& s) { return std::to_string(field(s)); }};
}

template <class Field>
setting_spec number(std::string_view name, Field field, double min, double max) {
  return {name, false,
          [=](settings& s, const std::string& v) { field(s) = parse_number(name, v, min, max); },
          [field](const settings& s) { return show_double(field(s)); }};
}

template <class Field>
setting_spec wait(std::string_view name, Field field, milliseconds min = min_wait, milliseconds max = max_wait) {
  return {name, false,
          [=](settings& s, const std::string& v) {
            field(s) = parse_duration(name, v, min, max);
          },
          [field](const settings& s) { return format_duration(field(s)); }};
}

template <class Field>
setting_spec whole_seconds(std::string_view name, Field field, seconds min, seconds max) {
  return {name, false,
          [=](settings& s, const std::string& v) {
            field(s) = parse_whole_seconds(name, v, min, max);
          },
          [field](const settings& s) { return format_duration(field(s)); }};
}

// An enum setting: `names` pairs each accepted word with its value, and the
// first word of a value is the one describe() shows.
template <class Field, class Enum>
setting_spec choice(std::string_view name, Field field,
                    std::vector<std::pair<std::string_view, Enum>> names) {
  return {name, false,
          [=](settings& s, const std::string& v) {
            std::vector<std::string_view> words;
            for (const auto& entry : names) words.push_back(entry.first);
            const auto word = parse_choice(name, v, words);
            for (const auto& [w, value] : names) {
              if (w == word) field(s) = value;
            }
          },
          [=](const settings& s) {
            for (const auto& [w, value] : names) {
              if (value == field(s)) return std::string(w);
            }
            return std::string();
          }};
}

std::string check_model(std::string_view name, const std::string& v) {
  return parse_token(name, v, "._-");
}
// Empty, or a ws/wss/http/https URL: the Realtime endpoint or an HTTP proxy.
std::string check_optional_url(std::string_view name, const std::string& v) {
  if (v.empty()) return v;
  for (std::string_view scheme : {"ws://", "wss://", "http://", "https://"})
    if (v.rfind(scheme, 0) == 0 && v.size() > scheme.size()) return v;
  throw config_error(std::string(name), v, "not a ws://, wss://, http:// or https:// URL");
}
std::string check_readable_file(std::string_view name, const std::string& v) {
  if (v.empty()) return v;
  std::ifstream in(v);
  if (!in) throw config_error(std::string(name), v, "cannot be read");
  return v;
}
std::string check_optional_token(std::string_view name, const std::string& v) {
  return v.empty() ? v : parse_token(name, v, "._-");
}
std::string check_dialplan_name(std::string_view name, const std::string& v) {
  return parse_token(name, v, "_-+.");
}
// Empty, or tech/resource as Asterisk's redirect takes it ("PJSIP/agents",
// "Local/100@agents"): checked here so a typo fails at start-up, not on the
// first caller who asks for a person.
std::string check_agent_endpoint(std::string_view name, const std::string& v) {
  if (v.empty()) return v;
  const auto slash = v.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == v.size())
    throw config_error(std::string(name), v, "must be tech/resource, e.g. PJSIP/agents or Local/100@agents");
  for (std::size_t i = 0; i < slash; ++i)
    if (!std::isalnum(static_cast<unsigned char>(v[i])))
      throw config_error(std::string(name), v, "the technology before / may only contain letters and digits");
  for (const char c : v)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f || c == ',' || c == '&')
      throw config_error(std::string(name), v, "must not contain spaces, control characters, ',' or '&'");
  return v;
}
std::string check_dtmf_key(std::string_view name, const std::string& v) {
  if (v.empty() || (v.size() == 1 && std::string_view("0123456789*#").find(v[0]) != std::string_view::npos)) return v;
  throw config_error(std::string(name), v, "must be one keypad key (0-9, * or #) or empty");
}
// Empty (SQLite in DATA_DIR), sqlite:PATH, or a PostgreSQL URL. The value
// may hold a password, so it is never echoed in the error.
std::string check_database_url(std::string_view name, const std::string& v) {
  if (v.empty() || v.rfind("sqlite:", 0) == 0 || v.rfind("postgres://", 0) == 0 || v.rfind("postgresql://", 0) == 0)
    return v;
  throw config_error(std::string(name), "<secret>", "must be empty, sqlite:PATH or postgres://user:password@host/db");
}
// postgres://user:secret@host/db → postgres://user:***@host/db, for display.
std::string without_password(const std::string& url) {
  auto scheme = url.find("://");
  auto at = url.find('@', scheme == std::string::npos ? 0 : scheme);
  if (scheme == std::string::npos || at == std::string::npos) return url;
  auto colon = url.find(':', scheme + 3);
  if (colon == std::string::npos || colon > at) return url;
  return url.substr(0, colon + 1) + "***" + url.substr(at);
}
std::string check_nonempty_path(std::string_view name, const std::string& v) {
  if (v.empty()) throw config_error(std::string(name), v, "must not be empty");
  return v;
}
std::string check_app(std::string_view name, const std::string& v) {
  return parse_token(name, v, "_.-");
}
std::string check_advertise_host(std::string_view name, const std::string& v) {
  return v.empty() ? v : parse_host(name, v);
}

std::vector<setting_spec> make_specs() {
  using media::transport_kind;
  using session::new_call_action;
  // Order: OpenAI, audio, assistant, Asterisk ARI, media, behaviour, logging,
  // daemon — the same grouping as config/npcl-assistant.env.
  return {
      {"OPENAI_API_KEY", true, apply_api_key,
       [](const settings& s) { return s.realtime.service.api_key; }},
      text("OPENAI_MODEL", [](auto& s) -> auto& { return s.realtime.service.model; }, check_model),
      {"OPENAI_VOICE", false, apply_voice, [](const settings& s) { return s.realtime.service.voice; }},
      {"MAX_TOKENS", false, apply_max_tokens,
       [](const settings& s) { return std::to_string(s.realtime.service.max_tokens); }},
      number("TEMPERATURE", [](auto& s) -> auto& { return s.realtime.service.temperature; }, 0.0, 2.0),
      choice<>("REALTIME_DIALECT", [](auto& s) -> auto& { return s.realtime.dialect; },
               std::vector<std::pair<std::string_view, realtime::dialect>>{
                   {"ga", realtime::dialect::ga},
                   {"beta", realtime::dialect::beta},
                   {"azure_ga", realtime::dialect::azure_ga},
                   {"azure", realtime::dialect::azure_ga},
                   {"azure_preview", realtime::dialect::azure_preview}}),
      text("OPENAI_REALTIME_URL", [](auto& s) -> auto& { return s.realtime.url; }, check_optional_url),
      text("AZURE_OPENAI_API_VERSION", [](auto& s) -> auto& { return s.realtime.azure_api_version; },
           check_model),
      text("OPENAI_CA_FILE", [](auto& s) -> auto& { return s.realtime.ca_file; }, check_readable_file),
      text("HTTPS_PROXY", [](auto& s) -> auto& { return s.realtime.https_proxy; }, check_optional_url),
      wait("REALTIME_APPEND_INTERVAL", [](auto& s) -> auto& { return s.realtime.append_interval; }),
      wait("REALTIME_HANDSHAKE_TIMEOUT", [](auto& s) -> auto& { return s.realtime.handshake_timeout; }),
      wait("REALTIME_IDLE_TIMEOUT", [](auto& s) -> auto& { return s.realtime.idle_timeout; }),
      choice<>("TURN_DETECTION", [](auto& s) -> auto& { return s.session.turn_detection; },
               std::vector<std::pair<std::string_view, session::turn_mode>>{
                   {"server_vad", session::turn_mode::server_vad},
                   {"semantic_vad", session::turn_mode::semantic_vad}}),
      number("SERVER_VAD_THRESHOLD", [](auto& s) -> auto& { return s.session.vad_threshold; }, 0.0, 1.0),
      wait("SERVER_VAD_PREFIX_PADDING", [](auto& s) -> auto& { return s.session.vad_prefix_padding; }),
      wait("SERVER_VAD_SILENCE", [](auto& s) -> auto& { return s.session.vad_silence; }),
      text("TRANSCRIPTION_MODEL", [](auto& s) -> auto& { return s.session.transcription_model; },
           check_optional_token),
      wait("TOOL_FILLER_AFTER", [](auto& s) -> auto& { return s.session.tool_filler_after; }),
      wait("REALTIME_RECONNECT_BUDGET", [](auto& s) -> auto& { return s.session.reconnect_budget; }),
      text("AGENT_CONTEXT", [](auto& s) -> auto& { return s.session.agent_context; }, check_dialplan_name),
      text("AGENT_EXTENSION", [](auto& s) -> auto& { return s.session.agent_extension; }, check_dialplan_name),
      text("AGENT_ENDPOINT", [](auto& s) -> auto& { return s.session.agent_endpoint; }, check_agent_endpoint),
      // SIP REFER is answered in well under a second; a minute would leave a caller in silence.
      wait("AGENT_REDIRECT_TIMEOUT", [](auto& s) -> auto& { return s.session.agent_redirect_timeout; },
           milliseconds{500}, seconds{60}),
      choice<>("ASSISTANT_FAILURE_ACTION", [](auto& s) -> auto& { return s.session.on_failure; },
               std::vector<std::pair<std::string_view, session::failure_action>>{
                   {"transfer", session::failure_action::transfer},
                   {"hangup", session::failure_action::hangup}}),
      wait("DTMF_INTER_DIGIT_TIMEOUT", [](auto& s) -> auto& { return s.session.dtmf_inter_digit; }),
      text("DTMF_TRANSFER_KEY", [](auto& s) -> auto& { return s.session.dtmf_transfer_key; }, check_dtmf_key),
      text("LOCALES_DIR", [](auto& s) -> auto& { return s.session.locales_dir; }, check_nonempty_path),
      text("SOUNDS_DIR", [](auto& s) -> auto& { return s.session.sounds_dir; }, check_nonempty_path),

      {"AUDIO_FORMAT", false, apply_audio_format,
       [](const settings& s) { return s.media.format; }},
      {"AUDIO_SAMPLE_RATE", false, apply_sample_rate,
       [](const settings& s) { return std::to_string(s.media.sample_rate); }},
      {"AUDIO_CHUNK_SIZE", false, apply_chunk_size,
       [](const settings& s) { return std::to_string(s.media.chunk_size); }},
      number("VAD_ENERGY_THRESHOLD", [](auto& s) -> auto& { return s.vad.energy_threshold; },
             0.0, 1.0),
      choice<>("BARGE_IN_MODE", [](auto& s) -> auto& { return s.vad.barge_in_mode; },
               std::vector<std::pair<std::string_view, audio::vad_options::barge_in>>{
                   {"both", audio::vad_options::barge_in::both},
                   {"server", audio::vad_options::barge_in::server},
                   {"local", audio::vad_options::barge_in::local}}),
      flag("VAD_SEND_CLEANED", [](auto& s) -> auto& { return s.vad.send_cleaned; }),
      wait("VAD_MIN_SPEECH", [](auto& s) -> auto& { return s.vad.min_speech; }),
      wait("VAD_HANGOVER", [](auto& s) -> auto& { return s.vad.hangover; }),
      integer("VAD_NOISE_SUPPRESSION", [](auto& s) -> auto& { return s.vad.noise_suppression; }, 0, 4),
      flag("VAD_AGC", [](auto& s) -> auto& { return s.vad.agc; }),
      flag("VAD_ECHO_CANCEL", [](auto& s) -> auto& { return s.vad.echo_cancel; }),
      wait("VAD_ECHO_DELAY", [](auto& s) -> auto& { return s.vad.echo_delay; }),
      number("VAD_MIN_PERIODICITY", [](auto& s) -> auto& { return s.vad.min_periodicity; }, 0.0, 1.0),
      number("VAD_MAX_TONALITY", [](auto& s) -> auto& { return s.vad.max_tonality; }, 0.0, 1.0),
      number("VAD_MAX_FLATNESS", [](auto& s) -> auto& { return s.vad.max_flatness; }, 0.0, 1.0),
      number("VAD_ECHO_CORRELATION", [](auto& s) -> auto& { return s.vad.echo_correlation; }, 0.0, 1.0),
      wait("VAD_ECHO_MAX_DELAY", [](auto& s) -> auto& { return s.vad.echo_max_delay; }),

      {"ASSISTANT_NAME", false, apply_assistant_name,
       [](const settings& s) { return s.session.assistant_name; }},
      {"VOICE_LANGUAGE", false, apply_voice_language,
       [](const settings& s) { return s.session.voice_language; }},
      whole_seconds("LISTEN_TIMEOUT", [](auto& s) -> auto& { return s.session.listen_timeout; },
                    seconds{1}, hours{1}),
      whole_seconds("MAX_CALL_DURATION",
                    [](auto& s) -> auto& { return s.session.max_call_duration; }, seconds{10},
                    hours{24}),

      {"ARI_BASE_URL", false, apply_ari_base_url,
       [](const settings& s) { return s.ari.base_url; }},
      {"ARI_USERNAME", false, apply_ari_username,
       [](const settings& s) { return s.ari.username; }},
      {"ARI_PASSWORD", true, apply_ari_password,
       [](const settings& s) { return s.ari.password; }},
      text("STASIS_APP", [](auto& s) -> auto& { return s.ari.app; }, check_app),
      wait("ARI_REQUEST_TIMEOUT", [](auto& s) -> auto& { return s.ari.request_timeout; }),
      wait("ARI_CONNECT_TIMEOUT", [](auto& s) -> auto& { return s.ari.connect_timeout; }),
      wait("ARI_RECONNECT_MIN", [](auto& s) -> auto& { return s.ari.reconnect_min; }),
      wait("ARI_RECONNECT_MAX", [](auto& s) -> auto& { return s.ari.reconnect_max; }),
      wait("ARI_PING_INTERVAL", [](auto& s) -> auto& { return s.ari.ping_interval; }),

      text("EXTERNAL_MEDIA_HOST", [](auto& s) -> auto& { return s.media.bind_host; },
           parse_ip_literal),
      text("EXTERNAL_MEDIA_ADVERTISE_HOST", [](auto& s) -> auto& { return s.media.advertise_host; },
           check_advertise_host),
      integer("EXTERNAL_MEDIA_PORT", [](auto& s) -> auto& { return s.media.listen_port; }, 1,
              65535),
      choice<>("EXTERNAL_MEDIA_TRANSPORT", [](auto& s) -> auto& { return s.media.transport; },
               std::vector<std::pair<std::string_view, transport_kind>>{
                   {"rtp", transport_kind::rtp},
                   {"audiosocket", transport_kind::audiosocket},
                   {"websocket", transport_kind::websocket}}),
      text("MEDIA_WEBSOCKET_HOST", [](auto& s) -> auto& { return s.media.websocket_host; }, check_advertise_host),
      integer("MEDIA_WEBSOCKET_PORT", [](auto& s) -> auto& { return s.media.websocket_port; }, 0, 65535),
      integer("RTP_PORT_MIN", [](auto& s) -> auto& { return s.media.rtp_port_min; }, 1024, 65535),
      integer("RTP_PORT_MAX", [](auto& s) -> auto& { return s.media.rtp_port_max; }, 1024, 65535),

      flag("ENABLE_INTERRUPTION_HANDLING",
           [](auto& s) -> auto& { return s.session.interruption_handling; }),
      flag("AUTO_ANSWER_CALLS", [](auto& s) -> auto& { return s.session.auto_answer; }),
      flag("ENABLE_ASSISTANT", [](auto& s) -> auto& { return s.session.assistant; }),
      flag("ENABLE_LANGUAGE_DETECTION",
           [](auto& s) -> auto& { return s.session.language_detection; }),
      flag("ENABLE_RATE_LIMITING", [](auto& s) -> auto& { return s.session.rate_limiting; }),
      flag("ENABLE_INPUT_SANITIZATION",
           [](auto& s) -> auto& { return s.session.input_sanitization; }),
      flag("ENABLE_AUDIT_LOGGING", [](auto& s) -> auto& { return s.session.audit_logging; }),
      flag("ENABLE_PERFORMANCE_MONITORING",
           [](auto& s) -> auto& { return s.session.performance_monitoring; }),
      choice<>("SHUTDOWN_NEW_CALL_ACTION",
               [](auto& s) -> auto& { return s.session.draining_action; },
               std::vector<std::pair<std::string_view, new_call_action>>{
                   {"continue", new_call_action::continue_dialplan},
                   {"hangup", new_call_action::hangup}}),

      // spdlog's names; WARNING is the Python logging spelling old files use.
      choice<>("LOG_LEVEL", [](auto& s) -> auto& { return s.log.level; },
               std::vector<std::pair<std::string_view, std::string>>{
                   {"trace", "trace"}, {"debug", "debug"}, {"info", "info"},
                   {"warn", "warn"}, {"warning", "warn"}, {"error", "error"},
                   {"critical", "critical"}, {"off", "off"}}),
      choice<>("LOG_FORMAT", [](auto& s) -> auto& { return s.log.format; },
               std::vector<std::pair<std::string_view, obs::log_format>>{
                   {"text", obs::log_format::text}, {"json", obs::log_format::json}}),

      text("DATA_DIR", [](auto& s) -> auto& { return s.store.data_dir; }, check_nonempty_path),
      {"DATABASE_URL", false,
       [](settings& s, const std::string& v) { s.store.database_url = check_database_url("DATABASE_URL", v); },
       [](const settings& s) { return without_password(s.store.database_url); }},
      flag("SEED_DEMO_DATA", [](auto& s) -> auto& { return s.store.seed_demo_data; }),
      choice<>("TOOL_BACKEND", [](auto& s) -> auto& { return s.tools.backend; },
               std::vector<std::pair<std::string_view, tools::tool_backend>>{
                   {"store", tools::tool_backend::store}, {"http", tools::tool_backend::http}}),
      {"TOOL_BACKEND_URL", false, apply_tool_backend_url, [](const settings& s) { return s.tools.url; }},
      {"TOOL_BACKEND_SECRET", true, apply_tool_backend_secret, [](const settings& s) { return s.tools.secret; }},
      text("TOOL_BACKEND_CA_FILE", [](auto& s) -> auto& { return s.tools.ca_file; }, check_readable_file),
      // A caller waits in silence (or hears the filler) meanwhile: half a minute is the most.
      wait("TOOL_BACKEND_TIMEOUT", [](auto& s) -> auto& { return s.tools.attempt_timeout; }, milliseconds{100},
           seconds{30}),
      wait("TOOL_BACKEND_DEADLINE", [](auto& s) -> auto& { return s.tools.deadline; }, milliseconds{100},
           seconds{30}),
      integer("TOOL_BACKEND_RETRIES", [](auto& s) -> auto& { return s.tools.retries; }, 0, 5),
      integer("WORKER_THREADS", [](auto& s) -> auto& { return s.app.worker_threads; }, 0, 64),
      whole_seconds("SHUTDOWN_GRACE", [](auto& s) -> auto& { return s.app.shutdown_grace; },
                    seconds{0}, hours{24}),
      text("HTTP_HOST", [](auto& s) -> auto& { return s.http.host; }, parse_ip_literal),
      integer("HTTP_PORT", [](auto& s) -> auto& { return s.http.port; }, 0, 65535),
      wait("HTTP_READ_TIMEOUT", [](auto& s) -> auto& { return s.http.read_timeout; }),
  };
}

}  // namespace

const std::vector<setting_spec>& setting_specs() {
  static const std::vector<setting_spec> specs = make_specs();
  return specs;
}

const setting_spec* find_setting(std::string_view name) {
  const auto& specs = setting_specs();
  const auto it = std::find_if(specs.begin(), specs.end(),
                               [&](const setting_spec& s) { return s.name == name; });
  return it == specs.end() ? nullptr : &*it;
}

}  // namespace npcl::config::detail
