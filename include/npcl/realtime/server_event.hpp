#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "npcl/realtime/realtime_link.hpp"

namespace npcl::realtime {

/// One rate limit from rate_limits.updated.
struct rate_limit {
  std::string name;             ///< "requests" or "tokens"
  std::int64_t limit = 0;       ///< allowed per window
  std::int64_t remaining = 0;   ///< left in the window
  double reset_seconds = 0;     ///< until the window resets (s)
};

/// A server event decoded into the call's terms, the same for every dialect.
struct server_event {
  enum class kind {
    session_created,     ///< session.created
    session_updated,     ///< session.updated: the configuration is in force
    speech_started,      ///< input_audio_buffer.speech_started (item_id, audio_ms)
    speech_stopped,      ///< input_audio_buffer.speech_stopped (item_id, audio_ms)
    committed,           ///< input_audio_buffer.committed (item_id)
    item_added,          ///< conversation.item.added / .created (item_id, role)
    item_done,           ///< conversation.item.done (item_id, role)
    response_created,    ///< response.created (response_id)
    response_done,       ///< response.done (response_id, status, reason, tokens, error if failed)
    audio_delta,         ///< response.output_audio.delta / response.audio.delta (pcm at the call rate)
    audio_done,          ///< response.output_audio.done / response.audio.done
    assistant_transcript,///< response.output_audio_transcript.done / response.audio_transcript.done
    caller_transcript,   ///< conversation.item.input_audio_transcription.completed
    tool_call,           ///< a complete function call (reported once per call_id)
    rate_limits,         ///< rate_limits.updated
    error,               ///< error (error filled in)
    known_unused,        ///< a documented event the link has no use for
    unknown,             ///< an event type this code does not know (to be counted)
  };

  kind type = kind::unknown;        ///< what happened
  std::string wire_type;            ///< the `type` string as received
  std::string item_id;              ///< conversation item concerned, if any
  std::string response_id;          ///< response concerned, if any
  std::string role;                 ///< item role: user | assistant | system ("" for non-messages)
  std::string text;                 ///< transcript text
  std::string call_id;              ///< tool_call: the call id to answer
  std::string name;                 ///< tool_call: function name
  std::string arguments;            ///< tool_call: arguments, JSON text
  std::string status;               ///< response_done: completed | cancelled | failed | incomplete
  std::string reason;               ///< response_done: status_details.reason (turn_detected, ...)
  std::int64_t audio_ms = 0;        ///< speech_started/stopped: audio_start_ms / audio_end_ms (ms)
  std::vector<std::int16_t> pcm;    ///< audio_delta: PCM16 at the call's rate
  realtime::usage tokens;           ///< response_done: token usage
  link_error error;                 ///< error, and response_done with status failed
  std::vector<rate_limit> limits;   ///< rate_limits
};

}  // namespace npcl::realtime
