#pragma once
#include <functional>
#include <memory>

#include "npcl/ari/ari_options.hpp"
#include "npcl/ari/event.hpp"
#include "npcl/util/net.hpp"

namespace npcl::obs {
class metrics_registry;
}

namespace npcl::ari {

/// Callbacks of the events socket. They run on the client's strand, one at a
/// time, in the order Asterisk sent the events; they must not block.
struct events_handlers {
  std::function<void(const event&)> on_event;        ///< a validated event for our app
  std::function<void()> on_connected;                ///< socket up (again): reconcile state now
  std::function<void(error_code)> on_disconnected;   ///< socket lost; events until the next
                                                     ///< on_connected are gone for good
};

/// The ARI events WebSocket (`/events?app=APP&subscribeAll=false`), kept open
/// for the daemon's lifetime: reconnects with exponential backoff, full jitter
/// and a cap (ari_options::reconnect_min/max). Malformed messages are logged
/// and skipped; unknown event types are counted (`ari_events_ignored_total`).
/// Metrics: `ari_connected` gauge, `ari_reconnects_total`.
class events_client {
 public:
  events_client(net::io_context& ioc, ari_options options, obs::metrics_registry& metrics,
                events_handlers handlers);
  ~events_client();
  events_client(const events_client&) = delete;
  events_client& operator=(const events_client&) = delete;

  /// Starts connecting in the background.
  void start();
  /// Closes the socket and stops reconnecting. Handlers are not called after
  /// the close completes.
  void stop();
  /// True while the socket is open (any thread).
  bool connected() const;

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

}  // namespace npcl::ari
