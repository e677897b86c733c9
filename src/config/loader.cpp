#include "npcl/config/loader.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "config/setting_spec.hpp"
#include "config/value_parsers.hpp"

extern char** environ;

namespace npcl::config {
namespace {

using detail::find_setting;
using detail::setting_specs;

std::string value_in(const env_map& merged, const std::string& name) {
  const auto it = merged.find(name);
  return it == merged.end() ? std::string() : it->second;
}

// A pair of settings where `low` must not exceed `high`. The error names the one
// the operator actually set (the other kept its default), preferring `high`.
template <class T>
void check_order(const env_map& merged, const char* low_name, const T& low,
                 const std::string& low_text, const char* high_name, const T& high,
                 const std::string& high_text) {
  if (!(high < low)) return;
  if (merged.count(high_name))
    throw config_error(high_name, value_in(merged, high_name),
                       std::string("must not be below ") + low_name + " (" + low_text + ")");
  throw config_error(low_name, value_in(merged, low_name),
                     std::string("must not be above ") + high_name + " (" + high_text + ")");
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string_view first_word(std::string_view name) { return name.substr(0, name.find('_')); }

// The known setting a mistyped name was probably meant to be, or empty.
std::string_view nearest_setting(std::string_view key) {
  for (const auto& spec : setting_specs()) {
    if (edit_distance(key, spec.name) <= 2) return spec.name;
  }
  return {};
}

// Whether an unknown variable is probably meant for this daemon. An env file
// is ours, so any name sharing a first word with a setting counts; the process
// environment also holds other programs' HTTP_PROXY, LOG_DIR and the like, so
// there only words no common tool uses count.
bool looks_like_setting(std::string_view key, bool from_file) {
  // Standard proxy variables of other tools sit one edit from HTTPS_PROXY.
  static const std::set<std::string_view> foreign = {"HTTP_PROXY", "NO_PROXY", "ALL_PROXY", "FTP_PROXY"};
  if (!from_file && foreign.count(key)) return false;
  if (!nearest_setting(key).empty()) return true;
  const auto word = first_word(key);
  if (!from_file) {
    static const std::set<std::string_view> ours = {"OPENAI", "ARI",   "STASIS",    "EXTERNAL",
                                                    "RTP",    "VAD",   "ASSISTANT", "AUDIO"};
    return ours.count(word) > 0;
  }
  return std::any_of(setting_specs().begin(), setting_specs().end(),
                     [&](const auto& spec) { return first_word(spec.name) == word; });
}

void warn_unknown(const env_map& values, bool from_file, const std::string& origin,
                  std::vector<std::string>& warnings) {
  for (const auto& [key, value] : values) {
    if (find_setting(key) || !looks_like_setting(key, from_file)) continue;
    std::string text = origin + ": unknown setting " + key + " ignored";
    if (const auto guess = nearest_setting(key); !guess.empty())
      text += " (did you mean " + std::string(guess) + "?)";
    warnings.push_back(std::move(text));
  }
}

bool is_loopback_host(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

bool is_unspecified_address(const std::string& host) {
  return host == "0.0.0.0" || host == "::" || host == "0::0";
}

// Double-quotes a value the env-file reader would otherwise change: blanks at
// the ends are trimmed and ` #` starts a comment.
std::string env_file_text(const std::string& value) {
  if (value.find_first_of(" \t#\"'\\\n") == std::string::npos) return value;
  std::string out = "\"";
  for (const char c : value) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out + "\"";
}

}  // namespace

env_map process_environment() {
  env_map out;
  for (char** entry = environ; entry && *entry; ++entry) {
    const std::string_view text(*entry);
    const auto eq = text.find('=');
    if (eq == std::string_view::npos || eq == 0) continue;
    out.emplace(std::string(text.substr(0, eq)), std::string(text.substr(eq + 1)));
  }
  return out;
}

settings parse(const env_map& merged) {
  settings s;
  for (const auto& spec : setting_specs()) {
    if (const auto it = merged.find(std::string(spec.name)); it != merged.end())
      spec.apply(s, it->second);
  }
  check_order(merged, "ARI_RECONNECT_MIN", s.ari.reconnect_min,
              detail::format_duration(s.ari.reconnect_min), "ARI_RECONNECT_MAX",
              s.ari.reconnect_max, detail::format_duration(s.ari.reconnect_max));
  check_order(merged, "RTP_PORT_MIN", s.media.rtp_port_min, std::to_string(s.media.rtp_port_min),
              "RTP_PORT_MAX", s.media.rtp_port_max, std::to_string(s.media.rtp_port_max));
  check_order(merged, "TOOL_BACKEND_TIMEOUT", s.tools.attempt_timeout,
              detail::format_duration(s.tools.attempt_timeout), "TOOL_BACKEND_DEADLINE", s.tools.deadline,
              detail::format_duration(s.tools.deadline));
  if (s.tools.backend == tools::tool_backend::http) {
    // Without these the first caller with a question would find out, not the operator.
    if (s.tools.url.empty())
      throw config_error("TOOL_BACKEND_URL", "", "must be set when TOOL_BACKEND=http");
    if (s.tools.secret.empty())
      throw config_error("TOOL_BACKEND_SECRET", "<secret>",
                         "must be set when TOOL_BACKEND=http: the CRM checks each request's signature with it");
  }
  return s;
}

load_result load(const env_map& process_env, const std::optional<std::string>& env_file,
                 const std::vector<std::string>& default_env_files) {
  load_result result;
  if (env_file) {
    result.env_file = *env_file;
  } else {
    for (const auto& candidate : default_env_files) {
      std::error_code ec;
      if (std::filesystem::exists(candidate, ec)) {
        result.env_file = candidate;
        break;
      }
    }
  }

  env_map merged;
  if (!result.env_file.empty()) merged = parse_env_file(result.env_file);
  const env_map from_file = merged;
  for (const auto& [key, value] : process_env) merged[key] = value;
  result.values = parse(merged);

  auto& warnings = result.warnings;
  if (!result.env_file.empty()) warn_unknown(from_file, true, result.env_file, warnings);
  warn_unknown(process_env, false, "environment", warnings);

  const auto& v = result.values;
  if (v.realtime.service.api_key.empty())
    warnings.push_back("OPENAI_API_KEY is empty: calls cannot reach OpenAI");
  if (v.ari.password.empty())
    warnings.push_back("ARI_PASSWORD is empty: Asterisk will refuse ARI requests unless it "
                       "has a user without a password");
  if (is_unspecified_address(v.media.bind_host) && v.media.advertise_host.empty())
    warnings.push_back("EXTERNAL_MEDIA_HOST=" + v.media.bind_host +
                       " without EXTERNAL_MEDIA_ADVERTISE_HOST: Asterisk cannot send media to "
                       "that address; set EXTERNAL_MEDIA_ADVERTISE_HOST");

  if (v.tools.backend == tools::tool_backend::http && !v.tools.endpoint.tls &&
      !is_loopback_host(v.tools.endpoint.host))
    warnings.push_back("TOOL_BACKEND_URL uses http:// to " + v.tools.endpoint.host +
                       ": callers' numbers and complaints cross the network unencrypted; use https://");
  // A short key can be guessed from signed requests seen on the network.
  if (v.tools.backend == tools::tool_backend::http && v.tools.secret.size() < 16)
    warnings.push_back("TOOL_BACKEND_SECRET is shorter than 16 characters: use a long random key");
  if (v.tools.backend == tools::tool_backend::store && !v.tools.url.empty())
    warnings.push_back("TOOL_BACKEND_URL is set but TOOL_BACKEND=store: the CRM is not used");

  // The shipped file is installed 0640; a world-readable copy leaks the keys.
  struct stat info {};
  const bool holds_secret = from_file.count("OPENAI_API_KEY") || from_file.count("ARI_PASSWORD") ||
                            from_file.count("TOOL_BACKEND_SECRET");
  if (holds_secret && ::stat(result.env_file.c_str(), &info) == 0 && (info.st_mode & S_IROTH))
    warnings.push_back(result.env_file +
                       " holds secrets and is readable by every user (chmod o-r)");
  return result;
}

std::string describe(const settings& s) {
  std::string out;
  for (const auto& spec : setting_specs()) {
    const auto value = spec.show(s);
    out += spec.name;
    out += '=';
    if (spec.secret) out += value.empty() ? "(unset)" : "***";
    else out += env_file_text(value);
    out += '\n';
  }
  return out;
}

}  // namespace npcl::config
