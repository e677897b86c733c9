#pragma once
// Plain value types shared by the fake Asterisk's public API and its model.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace npcl::fakes {

/// How the fake Asterisk is set up; the defaults match the captured Asterisk and ari.conf.
struct fake_ari_options {
  std::string username = "asterisk";   ///< ARI user accepted by Basic auth and api_key
  std::string password = "1234";       ///< password of that user
  std::string app = "openai-voice-assistant";  ///< Stasis application that extension 1000 runs
  std::uint16_t port = 0;              ///< TCP port on 127.0.0.1; 0 picks a free one
  /// Idle time after which a keep-alive HTTP connection is closed, as http.conf
  /// session_keep_alive does (15 000 ms by default); zero keeps connections forever.
  std::chrono::milliseconds keep_alive_idle{15000};
  /// Called with one line for every request received, reply sent and event pushed, in
  /// the order they happen (the standalone binary prints them). Called with the fake's
  /// lock held: it must not call back into the fake.
  std::function<void(std::string_view line)> trace;
};

/// What the fake knows about one channel, as a test sees it.
struct channel_info {
  std::string id;         ///< Asterisk unique id ("1795507204.48") or the channelId the app chose
  std::string name;       ///< e.g. "Local/1000@default-00000000;2", "UnicastRTP/127.0.0.1:41000-0x7f…"
  std::string state;      ///< "Up" or "Down"
  bool in_stasis = false; ///< currently inside a Stasis application
  std::string bridge_id;  ///< bridge it is in, empty when not bridged
  bool from_dialplan = false;  ///< reached Stasis from the dialplan (a caller), not created by the app
};

/// What the fake knows about one bridge.
struct bridge_info {
  std::string id;                     ///< bridge id
  std::string type;                   ///< "mixing" or "holding"
  std::vector<std::string> channels;  ///< member channel ids in the order they entered
};

/// One REST request (or events upgrade) as the fake received and answered it.
struct recorded_request {
  std::string method;                        ///< "GET", "POST", "DELETE", ...
  std::string path;                          ///< path below /ari, e.g. "/channels/externalMedia"
  std::map<std::string, std::string> query;  ///< decoded query parameters (api_key left out)
  std::string body;                          ///< request body as sent
  unsigned status = 0;                       ///< HTTP status the fake answered with (101 for an accepted upgrade)
};

/// A planned failure: the nth request (counting from when it is added) whose method equals
/// `method` and whose path below /ari starts with `path_prefix` is answered with `status`
/// and {"message": message} (no body for 204: accepted, then nothing happens), and has no effect.
struct fault {
  std::string method;       ///< HTTP method to match exactly
  std::string path_prefix;  ///< prefix of the path below /ari, e.g. "/channels/externalMedia"
  int nth = 1;              ///< which matching request fails, 1 = the next one
  unsigned status = 500;    ///< HTTP status to answer with
  std::string message = "Internal Server Error";  ///< value of "message" in the reply body
};

}  // namespace npcl::fakes
