#pragma once
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "npcl/ari/call_control.hpp"
#include "npcl/ari/event.hpp"
#include "npcl/media/media_endpoint.hpp"
#include "npcl/audio/audio_options.hpp"
#include "npcl/audio/inbound_pipeline.hpp"
#include "npcl/media/media_options.hpp"
#include "npcl/media/playout.hpp"
#include "npcl/realtime/realtime_link.hpp"
#include "npcl/session/locale_library.hpp"
#include "npcl/session/prompt_library.hpp"
#include "npcl/tools/call_actions.hpp"
#include "npcl/tools/tool_registry.hpp"
#include "npcl/obs/log.hpp"
#include "npcl/session/session_options.hpp"
#include <boost/asio/steady_timer.hpp>

#include "npcl/util/net.hpp"

namespace npcl::obs {
class metrics_registry;
}

namespace npcl::session {

/// Opens a call's media endpoint on the call's strand; null with `ec` on failure.
using media_factory = std::function<std::unique_ptr<media::media_endpoint>(executor strand, error_code& ec)>;

/// What is kept of a finished call (the store writes it as the call record).
struct call_report {
  std::string call_id;                               ///< our call id
  std::string caller_number;                         ///< caller id from Asterisk
  std::chrono::system_clock::time_point started;     ///< StasisStart
  std::chrono::system_clock::time_point ended;       ///< teardown complete
  std::string language;                              ///< language the call ended in
  std::string outcome;                               ///< one of `outcome`
  std::string transcript_json;                       ///< [{"at_ms":..,"speaker":"caller","text":..}, ...]
  std::string tool_calls_json;                       ///< [{"tool":..,"ok":..,"error":..}, ...]
  std::uint64_t input_tokens = 0;                    ///< model tokens in
  std::uint64_t output_tokens = 0;                   ///< model tokens out
};

/// Opens a conversation with the model for a call, on the call's strand.
using link_factory = std::function<std::unique_ptr<realtime::realtime_link>(executor strand)>;

/// How a call ended; also the `outcome` label of `calls_total`.
namespace outcome {
inline constexpr const char* completed = "completed";        ///< caller hung up during the conversation
inline constexpr const char* abandoned = "abandoned";        ///< caller hung up while we were setting up
inline constexpr const char* setup_failed = "setup_failed";  ///< an Asterisk step failed
inline constexpr const char* media_lost = "media_lost";      ///< the externalMedia channel went away
inline constexpr const char* max_duration = "max_duration";  ///< MAX_CALL_DURATION reached
inline constexpr const char* shutdown = "shutdown";          ///< daemon shutdown after the grace period
inline constexpr const char* lost = "lost";                  ///< gone from Asterisk while the events socket was down
inline constexpr const char* ended_by_assistant = "ended_by_assistant";  ///< the model ended the call (end_call)
inline constexpr const char* assistant_unavailable = "assistant_unavailable";  ///< the model could not be reached
inline constexpr const char* transferred = "transferred";    ///< handed to a human agent
}  // namespace outcome

/// One phone call, from the caller's StasisStart until every Asterisk resource
/// made for it is gone. Lives on its own strand: all members are touched only
/// there, so it needs no locks. Set-up: answer (if AUTO_ANSWER_CALLS) → mixing
/// bridge → media endpoint → externalMedia channel → both channels in the
/// bridge. Whatever ends the call — either side hanging up, a failed step,
/// MAX_CALL_DURATION, shutdown — the same teardown deletes what was created
/// (ids are chosen by us before each request, so even a request whose reply
/// was lost is cleaned up), releases the port and logs one summary line.
class call_session : public std::enable_shared_from_this<call_session>, public tools::call_actions {
 public:
  struct deps {
    ari::call_control& control;              ///< Asterisk operations
    media_factory make_media;                ///< opens the media endpoint
    const session_options& options;          ///< behaviour settings
    const media::media_options& media;       ///< format and transport
    obs::metrics_registry& metrics;          ///< calls_total, media counters
    std::function<void(const std::string& call_id)> on_finished;  ///< after teardown, on the strand
    link_factory make_link = nullptr;        ///< the model; null: media only (no assistant)
    tools::tool_registry* tools = nullptr;   ///< functions offered to the model (may be null)
    const prompt_library* prompts = nullptr; ///< recorded apology/filler/... (may be null)
    const audio::vad_options* vad = nullptr; ///< local speech detection (null: server barge-in only)
    std::function<void(call_report)> on_report = nullptr;  ///< the finished call's record (may be null)
    const locale_library* locales = nullptr; ///< each language's instructions and greeting (may be null)
  };

  /// `caller` is the channel from the StasisStart that brought the call and
  /// `args` its Stasis() arguments: "media-test" (extension 1001) makes the
  /// call an echo of the caller's own audio through the whole media path.
  call_session(executor strand, deps d, ari::channel caller, std::vector<std::string> args = {});
  ~call_session();

  /// Begins set-up (posted to the strand).
  void start();
  /// Feeds an ARI event about one of this call's channels (posted to the strand).
  void post_event(ari::event e);
  /// Ends the call with `why` (one of `outcome`); posted, idempotent.
  void end(std::string why);
  /// Reconciliation after a reconnect: whether Asterisk's channel list taken
  /// at `listed_at` had this call's channels. Channels created after that
  /// instant are not judged.
  void post_reconcile(std::chrono::steady_clock::time_point listed_at, bool caller_present, bool media_present);

  const std::string& id() const { return log_.call_id; }
  const std::string& caller_channel_id() const { return caller_.id; }
  const std::string& media_channel_id() const { return media_channel_id_; }
  const std::string& bridge_id() const { return bridge_id_; }

  // tools::call_actions — called by tools on this call's strand.
  void end_call_after_speech(std::string reason) override;
  void transfer_after_speech(std::string reason) override;
  std::string call_id() const override { return id(); }
  void set_language(std::string language) override;

 private:
  net::awaitable<void> set_up();
  net::awaitable<void> tear_down();
  void handle_event(const ari::event& e);
  void request_end(std::string why);
  bool step_failed(const char* step, const ari::control_result& r);
  void arm_max_duration();
  void start_media();
  void on_caller_audio(audio::frame f);

  // The conversation with the model (call_assistant.cpp).
  void start_assistant();
  realtime::link_config link_settings() const;
  realtime::link_handlers link_callbacks();
  void on_link_ready();
  void maybe_greet();
  void on_assistant_audio(const std::string& item_id, std::vector<std::int16_t> pcm);
  void on_caller_speech_started();
  void on_caller_speech_stopped();
  void barge_in(const char* source);
  void on_link_error(const realtime::link_error& e);
  void on_link_closed(error_code ec);
  void reconnect_assistant();
  void on_frame_sent();
  void stop_assistant();
  void on_tool_call(const std::string& call_id, const std::string& name, const std::string& arguments);
  void on_response_done();
  void arm_after_speech();
  void after_speech_now();
  void play_prompt(const std::string& name, std::function<void()> then);
  void assistant_failed();
  void transfer_to_agents(const std::string& why);
  void on_keypad(char digit);
  void keypad_entry_done();
  void transfer_after_current_sentence(const std::string& why);
  call_report make_report() const;

  executor strand_;                 ///< every member is used only on this strand
  deps deps_;
  ari::channel caller_;             ///< the caller's channel as it entered Stasis
  bool echo_ = false;               ///< media-test call: caller audio is played back to the caller
  obs::log_context log_;            ///< call id + caller channel id for every log line
  std::string bridge_id_;           ///< chosen before POST /bridges
  std::string media_channel_id_;    ///< chosen before POST /channels/externalMedia
  std::unique_ptr<media::media_endpoint> endpoint_;  ///< the call's audio socket
  std::unique_ptr<media::playout> playout_;          ///< paces audio to the caller, one frame per ptime
  std::unique_ptr<audio::inbound_pipeline> listener_;  ///< local speech detection on caller audio
  std::unique_ptr<net::steady_timer> max_timer_;     ///< MAX_CALL_DURATION
  std::chrono::steady_clock::time_point started_;    ///< StasisStart time
  std::chrono::steady_clock::time_point answered_;   ///< when set-up completed
  bool setup_running_ = false;      ///< set_up() is between two awaits
  bool active_ = false;             ///< set-up completed
  bool bridged_ = false;            ///< Asterisk confirmed both channels in the bridge
  bool ending_ = false;             ///< teardown requested or running
  bool bridge_requested_ = false;   ///< POST /bridges was sent (maybe created)
  bool media_requested_ = false;    ///< POST externalMedia was sent (maybe created)
  bool caller_gone_ = false;        ///< Asterisk no longer has the caller in Stasis
  bool media_gone_ = false;         ///< the externalMedia channel is gone
  bool media_started_ = false;      ///< StasisStart of the media channel seen
  std::string outcome_;             ///< why the call ended
  std::string failure_;             ///< the failed step and Asterisk's message
  int dtmf_digits_ = 0;             ///< keypad digits received
  std::uint64_t frames_in_ = 0;     ///< caller audio frames delivered by the endpoint

  // --- the conversation with the model ---
  struct timed_line {
    std::chrono::milliseconds at;     ///< since the call started
    realtime::transcript_line line;   ///< who said what
  };
  std::unique_ptr<realtime::realtime_link> link_;    ///< the model, if this call has one
  std::string language_;                             ///< BCP 47 language the assistant speaks
  bool link_ready_ = false;                          ///< the conversation is configured
  bool greeted_ = false;                             ///< the greeting was asked for
  bool replay_pending_ = false;                      ///< a reconnected link must get the history
  std::vector<timed_line> transcript_;               ///< every final line, in order
  realtime::usage tokens_;                           ///< summed over the call's responses
  std::string current_item_;                         ///< assistant item being played
  std::vector<std::string> cancelled_items_;         ///< items cut by barge-in: late audio is dropped
  int reconnects_ = 0;                               ///< link reconnects in this call
  std::chrono::steady_clock::time_point link_lost_at_;  ///< when the current outage began
  std::unique_ptr<net::steady_timer> reconnect_timer_;  ///< backoff between reconnect attempts
  std::chrono::milliseconds reconnect_delay_{250};   ///< next backoff delay
  std::chrono::steady_clock::time_point turn_ended_at_;  ///< caller stopped speaking (server VAD)
  bool awaiting_audio_ = false;                      ///< waiting for the answer's first audio byte
  bool awaiting_packet_ = false;                     ///< waiting for the answer's first sent frame
  enum class after_speech { none, hangup, transfer };
  after_speech after_speech_ = after_speech::none;   ///< end_call/transfer_to_agent waiting for the goodbye
  bool after_speech_armed_ = false;                  ///< the tool's result went out: the next response is the last
  bool goodbye_started_ = false;                     ///< that last response has produced audio
  std::unique_ptr<net::steady_timer> after_speech_timer_;  ///< acts even if the model never speaks again
  bool assistant_failed_ = false;                    ///< a fatal model error: apology, then fail over
  bool transferring_ = false;                        ///< ARI continue/redirect to the agents is under way
  bool redirecting_ = false;                         ///< redirect to AGENT_ENDPOINT asked: the caller leaving is the transfer
  std::unique_ptr<net::steady_timer> redirect_timer_;  ///< the caller must leave Stasis this soon after a redirect
  int prompt_seq_ = 0;                               ///< makes each played prompt its own item
  int tool_calls_ = 0;                               ///< functions the model called
  std::vector<std::pair<std::string, std::string>> tool_log_;  ///< (tool, "" or error code) in order
  std::chrono::system_clock::time_point wall_started_ = std::chrono::system_clock::now();  ///< for the record
  std::string keypad_;                               ///< digits of the keypad entry being collected
  std::unique_ptr<net::steady_timer> keypad_timer_;  ///< inter-digit timeout
};

}  // namespace npcl::session
