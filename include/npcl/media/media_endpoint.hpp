#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "npcl/audio/audio_format.hpp"
#include "npcl/audio/frame.hpp"
#include "npcl/util/net.hpp"

namespace npcl::media {

/// Counters of one call's media, for the call summary and /metrics.
struct media_stats {
  std::uint64_t packets_in = 0;       ///< valid packets/frames received from Asterisk
  std::uint64_t packets_out = 0;      ///< packets/frames sent to Asterisk
  std::uint64_t bytes_in = 0;         ///< audio payload bytes received
  std::uint64_t bytes_out = 0;        ///< audio payload bytes sent
  std::uint64_t foreign_dropped = 0;  ///< packets from a source other than Asterisk's
  std::uint64_t malformed = 0;        ///< packets rejected by validation
  std::uint64_t lost = 0;             ///< RTP: sequence numbers never received (concealed)
  std::uint64_t reordered = 0;        ///< RTP: packets put back in order by the jitter buffer
  std::uint64_t duplicated = 0;       ///< RTP: duplicates dropped
  std::uint64_t late = 0;             ///< RTP: packets that arrived after their slot was concealed
  std::uint64_t ssrc_changes = 0;     ///< RTP: the source restarted its stream
  double jitter_ms = 0;               ///< RTP: RFC 3550 interarrival jitter estimate, milliseconds
};

/// What POST /channels/externalMedia needs to know about an endpoint.
struct external_media_params {
  std::string external_host;    ///< "host:port" Asterisk sends to / connects to (empty: omitted)
  std::string format;           ///< Asterisk format name: ulaw, alaw, slin, slin16, slin24
  std::string encapsulation;    ///< rtp | audiosocket | none
  std::string transport;        ///< udp | tcp | websocket
  std::string connection_type;  ///< websocket: server (Asterisk listens); empty otherwise
  std::string data;             ///< AudioSocket: the call's UUID; empty otherwise
};

/// Callbacks from an endpoint; all run on the call's strand.
struct media_handlers {
  /// Caller audio: PCM16 mono at format().sample_rate_hz, one ptime per frame,
  /// in order, gaps concealed.
  std::function<void(audio::frame)> on_audio;
  /// A keypad digit carried by the media transport (AudioSocket 0x03,
  /// WebSocket DTMF_END). RTP carries none: ARI reports those.
  std::function<void(char)> on_dtmf;
  /// The transport ended from Asterisk's side (TCP close, hangup frame, WS close).
  std::function<void(error_code)> on_closed;
};

/// One call's externalMedia audio connection, whatever the transport. Lives on
/// its call's strand; every method must be called there.
class media_endpoint {
 public:
  virtual ~media_endpoint() = default;
  /// The parameters for POST /channels/externalMedia.
  virtual external_media_params external_media() const = 0;
  /// Learns Asterisk's side from the externalMedia reply's channelvars
  /// (UNICASTRTP_LOCAL_*, MEDIA_WEBSOCKET_CONNECTION_ID, ...).
  virtual void set_peer(const std::map<std::string, std::string>& channel_vars) = 0;
  /// Starts delivering audio and events to `h`. Called once, after set_peer.
  virtual void start(media_handlers h) = 0;
  /// The call's audio as the daemon sees it: rate of the decoded PCM and ptime.
  virtual audio::audio_format format() const = 0;
  /// Sends one frame of assistant audio (PCM16 at format()'s rate, one ptime).
  /// `first_of_spurt` is true for the first frame after a pause (RTP marker).
  /// Never blocks; a transport that cannot keep up drops and counts.
  virtual void send(const audio::frame& f, bool first_of_spurt) = 0;
  /// Drops audio already queued on Asterisk's side (WebSocket FLUSH_MEDIA);
  /// nothing to do on transports Asterisk does not buffer.
  virtual void flush_remote() {}
  /// Counters so far.
  virtual media_stats stats() const = 0;
  /// Closes sockets and cancels pending operations; idempotent. No handler is
  /// called afterwards.
  virtual void close() = 0;
};

}  // namespace npcl::media
