#pragma once
// The text half of Asterisk's WebSocket media channel (chan_websocket): the
// events Asterisk sends and the commands it accepts, in both of its control
// formats (plain text, the default, and JSON with transport_data=f(json)).
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace npcl::media {

/// How a chan_websocket connection writes its control messages.
enum class control_format {
  plain,  ///< `KEYWORD key:value ...` / `COMMAND [argument]`
  json,   ///< `{"event":...}` / `{"command":...}`
};

/// The events Asterisk sends on a media WebSocket.
enum class control_event_kind {
  media_start,                ///< connection ready: format and frame size
  media_xoff,                 ///< Asterisk's queue reached its high mark: stop sending audio
  media_xon,                  ///< the queue fell below its low mark: resume
  queue_drained,              ///< reply to REPORT_QUEUE_DRAINED
  media_buffering_completed,  ///< reply to STOP_MEDIA_BUFFERING, at playout
  media_mark_processed,       ///< playout reached a MARK_MEDIA
  status,                     ///< reply to GET_STATUS
  dtmf_end,                   ///< a keypad digit ended
  error,                      ///< Asterisk refused a command
  unknown,                    ///< a keyword this code does not know; to be ignored
};

/// One control message from Asterisk. Fields not carried by the message keep
/// their defaults; unknown keys are dropped.
struct control_event {
  control_event_kind kind = control_event_kind::unknown;  ///< what happened
  control_format format = control_format::plain;          ///< how the message was written
  std::string name;              ///< the event keyword as received (e.g. "MEDIA_START")
  std::string connection_id;     ///< MEDIA_START: the id from the URL, or the client config name
  std::string channel;           ///< MEDIA_START: channel name, e.g. WebSocket/INCOMING/0x...
  std::string channel_id;        ///< the ARI channel id (absent before Asterisk 20.17 in plain text)
  std::string media_format;      ///< MEDIA_START: Asterisk format name (ulaw, slin16, ...)
  int optimal_frame_size = 0;    ///< MEDIA_START: bytes of audio per ptime; 0 when absent
  int ptime_ms = 0;              ///< MEDIA_START: frame duration (milliseconds); 0 when absent
  std::map<std::string, std::string> channel_variables;  ///< MEDIA_START, JSON only
  std::string correlation_id;    ///< MEDIA_MARK_PROCESSED / MEDIA_BUFFERING_COMPLETED id
  char digit = 0;                ///< DTMF_END: '0'-'9', '*', '#', 'A'-'D'
  std::string error_text;        ///< ERROR: Asterisk's explanation
  int queue_length = 0;          ///< STATUS: frames queued for playout
  int xon_level = 0;             ///< STATUS: queue length (frames) below which XON is sent
  int xoff_level = 0;            ///< STATUS: queue length (frames) at which XOFF is sent
  bool queue_full = false;       ///< STATUS: further frames are being discarded
  bool bulk_media = false;       ///< STATUS: START_MEDIA_BUFFERING is in effect
  bool media_paused = false;     ///< STATUS: PAUSE_MEDIA is in effect
};

/// Commands the daemon may send to Asterisk.
enum class control_command_kind {
  answer,                 ///< ANSWER: answer the channel (dial option n only)
  hangup,                 ///< HANGUP: Asterisk hangs up and closes with 1000
  flush_media,            ///< FLUSH_MEDIA: drop every queued frame (barge-in)
  start_media_buffering,  ///< START_MEDIA_BUFFERING: keep partial frames
  stop_media_buffering,   ///< STOP_MEDIA_BUFFERING [id]: end bulk mode
  mark_media,             ///< MARK_MEDIA <id>: report when playout reaches here
  report_queue_drained,   ///< REPORT_QUEUE_DRAINED: one QUEUE_DRAINED when empty
  get_status,             ///< GET_STATUS: one STATUS reply
  pause_media,            ///< PAUSE_MEDIA: stop taking frames from the queue
  continue_media,         ///< CONTINUE_MEDIA: resume
};

/// Parses one text message from Asterisk, in either format (a message whose
/// first non-blank character is `{` or `[` is JSON). Plain text is a keyword and
/// space-separated `key:value` pairs, except MEDIA_MARK_PROCESSED and
/// MEDIA_BUFFERING_COMPLETED (a bare id) and ERROR (`error_text:` runs to the
/// end). Unknown events come back with kind unknown; unknown keys are ignored.
/// Returns nullopt, with a one-line reason in `why` when given, for an empty
/// message, invalid JSON, JSON that is not an object with a string "event", a
/// field of the wrong type, a number that does not parse or is negative, or a
/// DTMF digit outside the keypad.
std::optional<control_event> parse_control_event(std::string_view text, std::string* why = nullptr);

/// The text message for `command` in `format`. `argument` is the correlation
/// id of MARK_MEDIA (required) and STOP_MEDIA_BUFFERING (optional) and must be
/// empty for the others. Returns nullopt when the command cannot be sent as
/// asked: a missing or unexpected argument, an argument with characters other
/// than letters, digits and `-_.:@`, or a message over the 128 bytes Asterisk
/// accepts.
std::optional<std::string> format_control_command(control_command_kind command, control_format format,
                                                  std::string_view argument = {});

/// The protocol keyword of `command`, e.g. "FLUSH_MEDIA".
std::string_view control_command_name(control_command_kind command) noexcept;

}  // namespace npcl::media
