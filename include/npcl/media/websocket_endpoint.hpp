#pragma once
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "npcl/media/media_endpoint.hpp"
#include "npcl/media/media_options.hpp"
#include "npcl/util/net.hpp"

namespace npcl::media {

/// externalMedia over Asterisk's WebSocket media channel (chan_websocket) in
/// server mode: Asterisk listens on its HTTP server and the daemon connects
/// as a client to ws://<host>:<port>/media/<MEDIA_WEBSOCKET_CONNECTION_ID>
/// with sub-protocol "media" as soon as the externalMedia reply is known (the
/// channel's StasisStart only follows this connection).
///
/// Audio is binary messages: PCM16 little-endian for slin* formats, G.711
/// bytes for ulaw/alaw. Control is text, plain or JSON (whichever Asterisk's
/// MEDIA_START uses is used back). Outgoing audio is cut into whole frames of
/// Asterisk's optimal_frame_size, sent at most 65 535 bytes per message with
/// one write in flight, held back while Asterisk says MEDIA_XOFF, and queued
/// locally up to a bound beyond which the oldest frames are dropped and
/// counted.
class websocket_endpoint final : public media_endpoint {
 public:
  /// Where Asterisk's HTTP server is and how long to wait for it.
  struct server {
    std::string host;                 ///< Asterisk HTTP host (the daemon uses ARI's)
    std::uint16_t port = 8088;        ///< Asterisk HTTP port (the daemon uses ARI's)
    std::string username;             ///< Basic auth user; empty sends no credentials
    std::string password;             ///< Basic auth password (secret: never logged)
    std::chrono::milliseconds connect_timeout{5000};  ///< resolve + TCP connect + upgrade, and the close handshake
    std::chrono::milliseconds idle_timeout{20000};    ///< no frame at all for this long ends the call; a ping goes out at half
    std::size_t max_queued_frames = 250;              ///< local send queue bound (frames of 20 ms: 5 s)
  };

  /// An endpoint for the call running on `strand`, with the call format named
  /// by `options.format` (ulaw, alaw, slin, slin12 ... slin192). Throws
  /// std::invalid_argument for any other format name (configuration checks it
  /// at start-up).
  websocket_endpoint(executor strand, const media_options& options, server asterisk);
  ~websocket_endpoint() override;
  websocket_endpoint(const websocket_endpoint&) = delete;
  websocket_endpoint& operator=(const websocket_endpoint&) = delete;

  /// transport=websocket, encapsulation=none, connection_type=server, the
  /// format; no external_host.
  external_media_params external_media() const override;
  /// Reads MEDIA_WEBSOCKET_CONNECTION_ID and starts connecting at once. A
  /// missing or unusable id (anything but letters, digits and `-_.~`) ends the
  /// endpoint: on_closed(invalid_argument) once start() has been called.
  void set_peer(const std::map<std::string, std::string>& channel_vars) override;
  /// Starts delivering audio (on_audio: one ptime per frame at format()'s
  /// rate), DTMF_END digits and the end of the connection (on_closed: once;
  /// also for a failed connect, a refused upgrade or a timeout).
  void start(media_handlers h) override;
  /// The call format: rate of the named format, mono, 20 ms.
  audio::audio_format format() const override;
  /// Queues `f` (PCM16 at format()'s rate; any length, cut into whole frames)
  /// for Asterisk. A frame at another rate is dropped with a warning.
  void send(const audio::frame& f, bool first_of_spurt) override;
  /// Drops audio not yet written and sends FLUSH_MEDIA, which empties
  /// Asterisk's playout queue (barge-in).
  void flush_remote() override;
  media_stats stats() const override;
  /// Sends a WebSocket close (Asterisk hangs the channel up) or abandons the
  /// connect; idempotent. No handler is called afterwards.
  void close() override;

  /// Sends MARK_MEDIA `id` behind the audio queued so far; the mark handler
  /// gets `id` when Asterisk's playout reaches it. Returns false, sending
  /// nothing, for an empty id or one with characters other than letters,
  /// digits and `-_.:@`, or after close().
  bool mark(const std::string& id);
  /// Sets the handler for MEDIA_MARK_PROCESSED (runs on the call's strand).
  void on_mark(std::function<void(const std::string&)> handler);
  /// Frames dropped from the local send queue because it was full (XOFF too long).
  std::uint64_t send_dropped() const;
  /// Frames waiting in the local send queue.
  std::size_t queued_frames() const;
  /// True while Asterisk has said MEDIA_XOFF and not yet MEDIA_XON.
  bool paused_by_asterisk() const;

 private:
  struct impl;
  std::shared_ptr<impl> impl_;  ///< shared with pending I/O, which keeps it alive
};

}  // namespace npcl::media
