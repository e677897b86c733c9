#pragma once
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "npcl/ari/event.hpp"
#include "npcl/util/net.hpp"

namespace npcl::ari {

/// Result of one call-control operation.
struct control_result {
  error_code ec;        ///< transport failure (no answer from Asterisk)
  unsigned status = 0;  ///< HTTP status when Asterisk answered
  std::string message;  ///< Asterisk's error text, or the transport error
  std::map<std::string, std::string> channel_vars;  ///< externalMedia: `channelvars` of the reply

  bool ok() const { return !ec && status >= 200 && status < 300; }
  /// The resource was already gone (404): fine when tearing down.
  bool not_found() const { return !ec && status == 404; }
};

/// What an externalMedia channel should look like (asterisk-ari.md §5).
struct external_media_request {
  std::string channel_id;       ///< the id we choose, so its StasisStart can be matched
  std::string external_host;    ///< "host:port" where Asterisk sends media / connects
  std::string format;           ///< Asterisk format name: ulaw, alaw, slin16, ...
  std::string encapsulation = "rtp";  ///< rtp | audiosocket | none
  std::string transport = "udp";      ///< udp | tcp | websocket
  std::string connection_type;  ///< websocket only: client | server (empty: omitted)
  std::string data;             ///< AudioSocket UUID / Stasis argument (empty: omitted)
};

/// The Asterisk operations a call needs. `session` depends on this interface
/// only; the daemon provides the ARI REST implementation, tests may use fakes.
/// All operations have a deadline and never throw.
class call_control {
 public:
  virtual ~call_control() = default;
  virtual net::awaitable<control_result> answer(std::string channel_id) = 0;
  virtual net::awaitable<control_result> create_bridge(std::string bridge_id) = 0;
  virtual net::awaitable<control_result> create_external_media(external_media_request request) = 0;
  virtual net::awaitable<control_result> add_to_bridge(std::string bridge_id,
                                                       std::vector<std::string> channel_ids) = 0;
  /// Hangs a channel up; `reason` is an ARI reason name ("normal", "busy", ...).
  virtual net::awaitable<control_result> hangup(std::string channel_id, std::string reason) = 0;
  virtual net::awaitable<control_result> destroy_bridge(std::string bridge_id) = 0;
  /// Sends the channel back to the dialplan (leaves Stasis). Empty context
  /// means "the next priority where it came from".
  virtual net::awaitable<control_result> continue_in_dialplan(std::string channel_id, std::string context,
                                                              std::string extension, int priority) = 0;
  /// Hands the channel to another endpoint of its own technology ("PJSIP/agents"):
  /// the channel driver's transfer (SIP 302 before answer, REFER after). The channel
  /// leaves Stasis; Asterisk answers 422 when the technology differs from the channel's.
  virtual net::awaitable<control_result> redirect(std::string channel_id, std::string endpoint) = 0;
  /// Every channel Asterisk currently has (GET /channels); nullopt on failure.
  virtual net::awaitable<std::optional<std::vector<channel>>> list_channels() = 0;
  /// Channel and bridge ids owned by our Stasis application; nullopt on failure.
  virtual net::awaitable<std::optional<std::pair<std::vector<std::string>, std::vector<std::string>>>>
  application_resources() = 0;
};

}  // namespace npcl::ari
