#pragma once
// Asterisk's WebSocket media channel (chan_websocket) in server mode, for tests: a
// WebSocket server on 127.0.0.1 accepting /media/<connection id> for the ids a test
// registers, speaking what Asterisk 23.4.1 was seen to speak (fixtures
// call-websocket-server-ulaw and call-websocket-client-slin16-json): MEDIA_START first,
// caller audio as one binary frame per 20 ms, and a playout queue of received frames
// (1000 frames, MEDIA_XOFF at 900, MEDIA_XON below 800, discards when full) played one
// frame per 20 ms. Runs its own io_context thread; every method is thread-safe.
//
// Not emulated: buffering mode (START/STOP_MEDIA_BUFFERING are recorded and ignored),
// passthrough, media direction, client mode.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace npcl::fakes {

/// One frame taken off a connection's playout queue: what the caller "heard".
struct played_frame {
  std::chrono::steady_clock::time_point at;  ///< its slot on the 20 ms playout clock
  std::vector<std::uint8_t> bytes;           ///< the frame as received (wire format)
};

/// Counters of one media connection, as the peer saw them.
struct websocket_media_counts {
  std::uint64_t frames_received = 0;    ///< whole frames taken into the playout queue
  std::uint64_t partial_dropped = 0;    ///< messages (or trailing parts) shorter than a frame, dropped
  std::uint64_t discarded_full = 0;     ///< frames discarded because the queue held 1000
  std::uint64_t largest_message = 0;    ///< biggest binary message received (bytes)
  std::uint64_t xoff_sent = 0;          ///< MEDIA_XOFF events sent
  std::uint64_t xon_sent = 0;           ///< MEDIA_XON events sent
  std::size_t queue_length = 0;         ///< frames waiting for playout now
  bool connected = false;               ///< a socket is (or was) attached to the id
  bool closed = false;                  ///< that socket has ended
  int close_code = 0;                   ///< code of the close frame sent or received (0: none)
  std::chrono::steady_clock::time_point last_xon_at;  ///< when the last MEDIA_XON went out
  std::vector<std::chrono::steady_clock::time_point> frame_arrivals;  ///< arrival time of each frame received
};

class websocket_media_peer {
 public:
  /// Listens on 127.0.0.1 on a free port and serves at once. Throws
  /// boost::system::system_error if it cannot bind.
  websocket_media_peer();
  /// Closes every connection and joins the thread.
  ~websocket_media_peer();
  websocket_media_peer(const websocket_media_peer&) = delete;
  websocket_media_peer& operator=(const websocket_media_peer&) = delete;

  /// The TCP port to put in ws://127.0.0.1:<port>/media/<id>.
  std::uint16_t port() const;

  /// Registers a connection id as an externalMedia creation would: /media/<id> is then
  /// accepted once. `format` is ulaw, alaw, slin, slin16 or slin24; `json` selects JSON
  /// control messages (transport_data=f(json)). `channel_id` is the ARI channel id
  /// reported in events (default: "ws-" + id).
  void add_connection(const std::string& id, const std::string& format = "slin16", bool json = false,
                      std::string channel_id = {});

  /// Sends `pcm` (PCM16 at the format's rate) to the caller side of `id` as binary
  /// frames, one every 20 ms on an absolute schedule, encoded for the format; a trailing
  /// part shorter than a frame goes out as a short last frame, as Asterisk does.
  /// Queued behind anything already streaming. Ignored if `id` is not connected.
  void stream(const std::string& id, std::vector<std::int16_t> pcm);
  /// Sends one text message as is (any event, valid or not).
  void send_text(const std::string& id, std::string text);
  /// Sends DTMF_END for `digit` in the connection's format.
  void send_dtmf(const std::string& id, char digit);
  /// The channel is hung up elsewhere: Asterisk closes the socket with code 1000.
  void hangup(const std::string& id);

  // --- observations (snapshots) ---
  /// Counters of `id` (all zero for an unknown id).
  websocket_media_counts counts(const std::string& id) const;
  /// Frames played so far on `id`, in order.
  std::vector<played_frame> played(const std::string& id) const;
  /// The played frames of `id` decoded to PCM16 and joined.
  std::vector<std::int16_t> played_pcm(const std::string& id) const;
  /// Every text message received on `id`, in order, as received.
  std::vector<std::string> commands(const std::string& id) const;
  /// Every text message sent on `id`, in order.
  std::vector<std::string> events(const std::string& id) const;
  /// HTTP statuses of refused upgrades (404 unknown id, 409 id in use), in order.
  std::vector<int> refusals() const;
  /// Value of the Authorization header of the last accepted upgrade ("" if none).
  std::string last_authorization() const;

  // --- waits (fail instead of hanging) ---
  /// Until a socket for `id` has received MEDIA_START.
  testing::AssertionResult wait_for_connected(const std::string& id, std::chrono::milliseconds timeout);
  /// Until at least `n` frames have been played on `id`.
  testing::AssertionResult wait_for_played(const std::string& id, std::size_t n, std::chrono::milliseconds timeout);
  /// Until at least `n` frames have been received on `id`.
  testing::AssertionResult wait_for_received(const std::string& id, std::size_t n, std::chrono::milliseconds timeout);
  /// Until a text message equal to `text` has been received on `id`.
  testing::AssertionResult wait_for_command(const std::string& id, const std::string& text,
                                            std::chrono::milliseconds timeout);
  /// Until a sent event on `id` starts with `prefix`.
  testing::AssertionResult wait_for_event(const std::string& id, const std::string& prefix,
                                          std::chrono::milliseconds timeout);
  /// Until the socket of `id` has ended.
  testing::AssertionResult wait_for_closed(const std::string& id, std::chrono::milliseconds timeout);
  /// Until `n` upgrades have been refused.
  testing::AssertionResult wait_for_refusals(std::size_t n, std::chrono::milliseconds timeout);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;  ///< server thread, sockets and per-connection state
};

}  // namespace npcl::fakes
