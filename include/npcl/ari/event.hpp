#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace npcl::ari {

/// The part of an ARI Channel object the daemon uses.
struct channel {
  std::string id;              ///< Asterisk channel id, e.g. "1795507204.48" or one we chose
  std::string name;            ///< e.g. "PJSIP/6001-00000001", "UnicastRTP/127.0.0.1:40000-0x..."
  std::string state;           ///< "Up", "Ring", "Down", ...
  std::string caller_number;   ///< caller.number, may be empty
  std::string caller_name;     ///< caller.name, may be empty
  std::string context;         ///< dialplan.context
  std::string exten;           ///< dialplan.exten
};

/// Event kinds the daemon acts on; everything else is `other` (counted, ignored).
enum class event_type {
  stasis_start,
  stasis_end,
  channel_state_change,
  channel_dtmf_received,
  channel_hangup_request,
  channel_destroyed,
  channel_left_bridge,
  channel_entered_bridge,
  playback_started,
  playback_finished,
  application_replaced,
  other,
};

/// One message from the ARI events WebSocket, validated and typed.
struct event {
  event_type type = event_type::other;
  std::string type_name;            ///< the "type" string as received
  std::string application;          ///< the Stasis application it is for
  std::optional<channel> chan;      ///< "channel" (or "peer" for Dial); absent on bridge events
  std::vector<std::string> args;    ///< StasisStart arguments
  std::string digit;                ///< ChannelDtmfReceived: "0"-"9", "*", "#", "A"-"D"
  int duration_ms = 0;              ///< ChannelDtmfReceived: digit length in ms
  int cause = 0;                    ///< hangup cause (Q.850), 0 when absent
  bool soft = false;                ///< ChannelHangupRequest: a soft hangup (e.g. our own DELETE):
                                    ///< its cause is a flag value, not a real cause
  std::string cause_txt;            ///< ChannelDestroyed: e.g. "Normal Clearing"
  std::string bridge_id;            ///< bridge events: bridge.id
  std::string playback_id;          ///< playback events: playback.id
  std::string playback_state;       ///< playback events: "playing", "done", "failed"
  std::string target_uri;           ///< playback events: "channel:<id>" or "bridge:<id>"
};

/// Parses one events-socket message. On failure returns nullopt and puts the
/// reason in `error` (malformed JSON, missing "type", wrong field types). An
/// unknown but well-formed type parses as event_type::other.
std::optional<event> parse_event(std::string_view text, std::string& error);

/// Parses a Channel object (a REST reply body). nullopt with a reason on error.
std::optional<channel> parse_channel(std::string_view text, std::string& error);

/// Parses a JSON array of Channel objects (GET /channels).
std::optional<std::vector<channel>> parse_channel_list(std::string_view text, std::string& error);

}  // namespace npcl::ari
