#pragma once
// The fake Asterisk's channels, bridges and Stasis applications, without any I/O: REST
// calls go in, replies and ARI events (compact JSON, key order as captured) come out.
// Not thread-safe: fake_ari_server calls it with its lock held.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "fakes/ari_types.hpp"

namespace npcl::fakes {

/// The answer to one REST call.
struct ari_reply {
  unsigned status = 204;        ///< HTTP status
  std::string body;             ///< compact JSON; empty for 204
  std::string dial_channel_id;  ///< externalMedia channel whose dial runs once the reply is out
};

class ari_model {
 public:
  /// Receives every event for an application that has an events socket, in order.
  using event_sink = std::function<void(const std::string& app, std::string text)>;

  /// `default_app` is the application extension 1000 runs; `sink` gets the events.
  ari_model(std::string default_app, event_sink sink);
  ~ari_model();
  ari_model(const ari_model&) = delete;
  ari_model& operator=(const ari_model&) = delete;

  /// Handles one REST call. `segments` is the decoded path below /ari ("channels",
  /// "externalMedia"); `params` the decoded query without api_key; a JSON body (when
  /// `content_type` is application/json) adds parameters and "variables". Validation
  /// failures come back as the captured Asterisk statuses and messages.
  ari_reply handle(const std::string& method, const std::vector<std::string>& segments,
                   std::map<std::string, std::string> params, const std::string& body,
                   const std::string& content_type);

  /// Runs the dial of an externalMedia channel created by handle(): Dial, ChannelStateChange,
  /// Dial ANSWER, ChannelVarset STASISSTATUS, StasisStart. Does nothing if it is gone.
  void complete_dial(const std::string& channel_id);

  /// A call to extension 1000: creates the Local;1/;2 pair and sends StasisStart for ;2.
  /// Returns the ;2 id, or "" (creating nothing) when the application has no events socket.
  /// `args` are the Stasis() arguments after the app name (e.g. {"media-test"} for extension 1001).
  std::string place_call(const std::string& caller_number, const std::string& caller_name,
                         const std::vector<std::string>& args = {}, const std::string& exten = "1000");
  /// The caller hangs up channel `id` (cause 16). Returns false if there is no such channel.
  bool caller_hangup(const std::string& id);
  /// The caller presses `digit` on channel `id`. Returns false if it is not in Stasis.
  bool send_dtmf(const std::string& id, char digit, int duration_ms);

  /// Records whether `app` has an events socket; events of inactive apps are dropped.
  void set_app_active(const std::string& app, bool active);
  /// The event a replaced events socket of `app` receives last.
  std::string application_replaced_event(const std::string& app) const;
  /// UNICASTRTP_LOCAL_PORT reported for the next RTP channels; 0 counts up from 10000.
  void set_unicastrtp_port(std::uint16_t port);
  /// MEDIA_WEBSOCKET_CONNECTION_ID of the next server-mode WebSocket channels ("" = a fresh UUID).
  void set_media_connection_id(std::string id);

  /// Compact JSON error body {"message": message}.
  static std::string error_body(const std::string& message);

  std::vector<channel_info> channels() const;
  std::vector<bridge_info> bridges() const;
  /// True when no bridge exists and no channel belongs to an application (in Stasis or
  /// created by it); channels handed back to the dialplan do not count.
  bool idle() const;

 private:
  struct state;
  std::unique_ptr<state> s_;  ///< all channels, bridges and applications
};

}  // namespace npcl::fakes
