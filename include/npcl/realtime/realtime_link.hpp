#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "npcl/audio/audio_format.hpp"
#include "npcl/util/net.hpp"

namespace npcl::realtime {

/// A function the model may call: name, description and JSON Schema of its arguments.
struct tool_spec {
  std::string name;             ///< e.g. "end_call"
  std::string description;      ///< what it does, for the model
  std::string parameters_json;  ///< JSON Schema object, as text
};

/// How the model detects the caller's turns.
struct turn_detection {
  enum class kind { server_vad, semantic_vad, none } type = kind::server_vad;
  double threshold = 0.5;                        ///< server_vad activation threshold 0..1
  std::chrono::milliseconds prefix_padding{300};  ///< audio kept before detected speech
  std::chrono::milliseconds silence{500};         ///< silence that ends the turn
  std::string eagerness = "auto";                ///< semantic_vad: low | medium | high | auto
  bool interrupt_response = true;                ///< server cancels its response on speech
};

/// Everything a conversation is configured with, in the call's own terms.
struct link_config {
  audio::audio_format call_format;   ///< PCM16 rate/ptime the session sends and wants back
  std::string instructions;          ///< system prompt (persona, NPCL rules, language)
  std::string voice = "alloy";       ///< output voice
  std::string transcription_model = "gpt-4o-mini-transcribe";  ///< caller transcription ("" = off)
  std::string language;              ///< BCP 47 hint for transcription, e.g. "hi"
  turn_detection turns;              ///< turn taking
  std::vector<tool_spec> tools;      ///< functions offered to the model
  int max_output_tokens = 4096;      ///< per response
  double temperature = 0.8;          ///< sent only by dialects that have it
};

/// A final transcript line.
struct transcript_line {
  enum class speaker { caller, assistant } who = speaker::caller;
  std::string item_id;  ///< conversation item it belongs to
  std::string text;     ///< what was said
};

/// Token usage of one response (response.done).
struct usage {
  std::uint64_t input_tokens = 0;
  std::uint64_t output_tokens = 0;
  std::uint64_t input_audio_tokens = 0;
  std::uint64_t output_audio_tokens = 0;
};

/// An `error` event or a failed connection.
struct link_error {
  std::string type;     ///< e.g. "invalid_request_error"
  std::string code;     ///< e.g. "invalid_api_key", "insufficient_quota"
  std::string message;  ///< human text from the service
  bool fatal = false;   ///< the conversation cannot go on (bad key, quota, handshake refused)
};

/// Callbacks from a link; all run on the call's strand.
struct link_handlers {
  std::function<void()> on_ready;  ///< session configured (session.updated)
  /// Assistant audio of response item `item_id`, PCM16 at call_format's rate.
  std::function<void(const std::string& item_id, std::vector<std::int16_t> pcm)> on_audio;
  std::function<void(const std::string& item_id)> on_audio_done;  ///< no more audio for the item
  std::function<void()> on_response_done;                         ///< the response finished (any reason)
  std::function<void()> on_speech_started;  ///< server VAD: the caller started speaking
  std::function<void()> on_speech_stopped;  ///< server VAD: the caller stopped speaking
  /// The model asks for a function call; answer with send_tool_result(call_id, ...).
  std::function<void(const std::string& call_id, const std::string& name, const std::string& arguments_json)>
      on_tool_call;
  std::function<void(const transcript_line&)> on_transcript;  ///< final caller/assistant text
  std::function<void(const usage&)> on_usage;                 ///< tokens of one response
  std::function<void(const link_error&)> on_error;            ///< service error (logged by the link too)
  std::function<void(error_code)> on_closed;                  ///< connection lost or closed by the service
};

/// One conversation with a speech-to-speech model, in the call's terms — never
/// in one provider's event names. The Realtime GA, beta and Azure dialects are
/// drivers behind it. Lives on the call's strand; every method must be called
/// there and never blocks.
class realtime_link {
 public:
  virtual ~realtime_link() = default;
  /// Connects and configures the conversation; on_ready follows.
  virtual void start(link_config config, link_handlers handlers) = 0;
  /// Caller audio, PCM16 at call_format's rate (batched into appends internally).
  virtual void send_audio(std::span<const std::int16_t> pcm) = 0;
  /// Asks for a response now (the greeting), optionally with extra instructions.
  virtual void request_response(const std::string& instructions = {}) = 0;
  /// Stops the response being generated, if any (barge-in).
  virtual void cancel_response() = 0;
  /// Tells the model the caller heard only `heard` of item `item_id`'s audio.
  virtual void truncate(const std::string& item_id, std::chrono::milliseconds heard) = 0;
  /// Returns a function call's result and asks for the follow-up response.
  virtual void send_tool_result(const std::string& call_id, const std::string& output_json) = 0;
  /// Adds earlier conversation as text (context replay after a reconnect).
  virtual void add_history(const transcript_line& line) = 0;
  /// Closes the connection; no handler runs afterwards. Idempotent.
  virtual void close() = 0;
};

}  // namespace npcl::realtime
