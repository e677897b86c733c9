#pragma once
// An in-process Asterisk 23.4.1 ARI peer for tests: REST under /ari and the events WebSocket
// on 127.0.0.1, answering with the statuses, bodies, headers and event sequences captured
// from a real Asterisk (tests/fixtures/asterisk). It runs its own io_context on its own
// thread, so a test thread may block in the wait_for_x calls while the daemon talks to it.
//
// Not emulated: media (no RTP/AudioSocket/WebSocket audio flows), originate, playback,
// recording; a WebSocket-server externalMedia channel gets its StasisStart without a media
// connection.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "fakes/ari_types.hpp"

namespace npcl::fakes {

class fake_ari_server {
 public:
  /// Listens on 127.0.0.1:o.port (0 = any free port) and starts serving at once.
  /// Throws boost::system::system_error if the port cannot be bound.
  explicit fake_ari_server(fake_ari_options o = {});
  /// Stops everything: closes every connection and joins the server thread.
  ~fake_ari_server();
  fake_ari_server(const fake_ari_server&) = delete;
  fake_ari_server& operator=(const fake_ari_server&) = delete;

  /// The TCP port it listens on.
  std::uint16_t port() const;
  /// "http://127.0.0.1:<port>/ari".
  std::string base_url() const;

  // --- what Asterisk's dialplan and callers do ---
  /// A call reaches extension 1000 → Stasis(app): creates the Local;1/;2 pair as captured
  /// (only ;2 enters Stasis: state Up, args [], dialplan app_name Stasis) and sends
  /// StasisStart for ;2. Returns the ;2 channel id. With no events socket connected for the
  /// app, Stasis() fails as the real one does: returns "" and creates nothing.
  std::string place_call(std::string caller_number = "5551000", std::string caller_name = "Held Caller",
                         std::vector<std::string> args = {}, std::string exten = "1000");
  /// The caller hangs up: ChannelHangupRequest (cause 16, no "soft") → ChannelLeftBridge if
  /// bridged → StasisEnd; no ChannelDestroyed for a dialplan channel. The pair disappears.
  void caller_hangup(const std::string& channel_id);
  /// The caller presses `digit`: ChannelDtmfReceived with `duration_ms`.
  void send_dtmf(const std::string& channel_id, char digit, int duration_ms = 100);
  /// UNICASTRTP_LOCAL_PORT reported for the RTP externalMedia channels created from now on
  /// (e.g. the port of a test's RTP peer); 0 returns to counting up from 10000 by 2.
  void set_unicastrtp_port(std::uint16_t port);
  /// MEDIA_WEBSOCKET_CONNECTION_ID reported for server-mode WebSocket channels created from
  /// now on (e.g. one a test registered with its websocket_media_peer); "" = a fresh UUID.
  void set_media_connection_id(std::string id);

  // --- faults ---
  /// Closes every events WebSocket abruptly (TCP close, no close frame). On return the
  /// sockets count as gone: events are dropped and place_call() fails until a reconnect.
  void drop_events_socket();
  /// While true, upgrades to /ari/events are answered with HTTP 503.
  void refuse_events(bool refuse);
  /// The f.nth request matching f (counting from now) fails with f.status and
  /// {"message": f.message}, without any effect. Several faults may be armed at once.
  void add_fault(fault f);
  /// Requests matching `method` and `path_prefix` (below /ari) are answered `d` late; their
  /// effect (state change, events) happens at once, as on a loaded server.
  void delay_replies(std::string method, std::string path_prefix, std::chrono::milliseconds d);

  // --- observations (thread-safe snapshots) ---
  /// Every channel in creation order, including the Local;1 half of calls.
  std::vector<channel_info> channels() const;
  /// Every bridge in creation order.
  std::vector<bridge_info> bridges() const;
  /// Every request received so far, in order, with the status it got.
  std::vector<recorded_request> requests() const;
  /// Number of events sockets currently open (a replaced one still counts until it closes).
  int events_connections() const;

  /// Waits until at least `count` events sockets are open.
  testing::AssertionResult wait_for_events_connection(std::chrono::milliseconds timeout, int count = 1);
  /// Waits until at least `count` requests with `method` and a path (below /ari) starting
  /// with `path_prefix` have been received since the server started.
  testing::AssertionResult wait_for_request(const std::string& method, const std::string& path_prefix,
                                            std::chrono::milliseconds timeout, int count = 1);
  /// Waits until `channel_id` is in a bridge.
  testing::AssertionResult wait_for_bridged(const std::string& channel_id, std::chrono::milliseconds timeout);
  /// Waits until no bridge exists and no channel belongs to an application (channels the
  /// daemon handed back to the dialplan with continue/redirect do not count).
  testing::AssertionResult wait_for_idle(std::chrono::milliseconds timeout);
  /// Waits until `channel_id` no longer exists.
  testing::AssertionResult wait_for_channel_gone(const std::string& channel_id, std::chrono::milliseconds timeout);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;  ///< server thread, sockets and the Asterisk model
};

}  // namespace npcl::fakes
