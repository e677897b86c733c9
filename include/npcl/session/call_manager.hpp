#pragma once
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "npcl/ari/call_control.hpp"
#include "npcl/ari/event.hpp"
#include "npcl/session/call_session.hpp"

namespace npcl::session {

/// Owns every call: turns ARI events into sessions, routes each event to its
/// call, refuses new calls while draining, and reconciles with Asterisk after
/// the events socket reconnects (events missed meanwhile are never replayed).
/// Thread-safe; events arrive on the events client's strand, sessions run on
/// their own strands.
class call_manager {
 public:
  /// `make_link` opens each call's conversation with the model; null runs
  /// calls with media only.
  call_manager(net::io_context& ioc, ari::call_control& control, media_factory make_media,
               const session_options& options, const media::media_options& media,
               obs::metrics_registry& metrics, link_factory make_link = nullptr,
               tools::tool_registry* tools = nullptr, const prompt_library* prompts = nullptr,
               const audio::vad_options* vad = nullptr, std::function<void(call_report)> on_report = nullptr,
               const locale_library* locales = nullptr);
  ~call_manager();

  /// Routes one event: a caller's StasisStart starts a call; events about a
  /// call's channels go to that call; anything else is ignored.
  void on_event(const ari::event& e);
  /// The events socket is (re)connected: ends calls whose channels Asterisk no
  /// longer has and removes our application's leftovers no call owns.
  void on_connected();
  /// Stops taking calls: new callers get SHUTDOWN_NEW_CALL_ACTION.
  void begin_drain();
  /// Ends every active call with `why`.
  void end_all(const std::string& why);
  /// Calls currently owned (set-up, active or tearing down).
  std::size_t active() const;
  /// Called (from any thread) whenever the number of calls drops to zero.
  void set_on_idle(std::function<void()> f);

 private:
  struct state;
  std::shared_ptr<state> state_;
};

}  // namespace npcl::session
