#pragma once
#include <chrono>
#include <string>

namespace npcl::session {

/// How the model finds the end of the caller's turn.
enum class turn_mode { server_vad, semantic_vad };

/// What happens to a caller when the assistant cannot serve them.
enum class failure_action { transfer, hangup };

/// What the daemon does with a call arriving while it drains for shutdown.
enum class new_call_action { continue_dialplan, hangup };

/// Per-call behaviour (AUTO_ANSWER_CALLS, MAX_CALL_DURATION, ...).
struct session_options {
  bool auto_answer = true;                       ///< AUTO_ANSWER_CALLS
  bool assistant = true;                         ///< ENABLE_ASSISTANT: false runs calls with media only
  std::chrono::seconds max_call_duration{1800};  ///< MAX_CALL_DURATION: a call is ended politely after this
  std::chrono::seconds listen_timeout{30};       ///< LISTEN_TIMEOUT: caller silence before a prompt
  bool interruption_handling = true;             ///< ENABLE_INTERRUPTION_HANDLING: barge-in
  std::string assistant_name = "NPCL Assistant"; ///< ASSISTANT_NAME: persona
  std::string voice_language = "en-IN";          ///< VOICE_LANGUAGE: en-IN hi-IN bho-IN bn-IN
  bool language_detection = true;                ///< ENABLE_LANGUAGE_DETECTION
  bool rate_limiting = true;                     ///< ENABLE_RATE_LIMITING
  bool input_sanitization = true;                ///< ENABLE_INPUT_SANITIZATION
  bool audit_logging = true;                     ///< ENABLE_AUDIT_LOGGING
  bool performance_monitoring = true;            ///< ENABLE_PERFORMANCE_MONITORING
  new_call_action draining_action = new_call_action::continue_dialplan;  ///< SHUTDOWN_NEW_CALL_ACTION
  turn_mode turn_detection = turn_mode::server_vad;  ///< TURN_DETECTION
  double vad_threshold = 0.5;                        ///< SERVER_VAD_THRESHOLD: 0..1, higher needs louder speech
  std::chrono::milliseconds vad_prefix_padding{300}; ///< SERVER_VAD_PREFIX_PADDING: audio kept before speech
  std::chrono::milliseconds vad_silence{500};        ///< SERVER_VAD_SILENCE: silence that ends a turn
  std::string transcription_model = "gpt-4o-mini-transcribe";  ///< TRANSCRIPTION_MODEL ("" = no transcripts)
  std::chrono::milliseconds tool_filler_after{1000}; ///< TOOL_FILLER_AFTER: a slower tool gets a filler phrase
  std::chrono::milliseconds reconnect_budget{15000}; ///< REALTIME_RECONNECT_BUDGET: time to get the model back mid-call
  std::string agent_context = "agents";              ///< AGENT_CONTEXT: dialplan context of the human agents
  std::string agent_extension = "queue";             ///< AGENT_EXTENSION: extension in AGENT_CONTEXT
  std::string agent_endpoint;                        ///< AGENT_ENDPOINT: "tech/resource" to redirect to ("" = continue in the dialplan)
  /// AGENT_REDIRECT_TIMEOUT: how long a redirected caller may take to leave the application
  /// before the dialplan transfer takes over.
  std::chrono::milliseconds agent_redirect_timeout{5000};
  failure_action on_failure = failure_action::transfer;  ///< ASSISTANT_FAILURE_ACTION: after the apology
  std::string sounds_dir = "/usr/local/share/npcl-assistant/sounds";  ///< SOUNDS_DIR: recorded prompts
  std::string locales_dir = "/usr/local/share/npcl-assistant/locales";  ///< LOCALES_DIR: <lang>.json words
  std::chrono::milliseconds dtmf_inter_digit{3000};  ///< DTMF_INTER_DIGIT_TIMEOUT: keypad entry ends after this pause
  std::string dtmf_transfer_key = "0";               ///< DTMF_TRANSFER_KEY: pressed alone, reaches an agent ("" = off)
};

}  // namespace npcl::session
