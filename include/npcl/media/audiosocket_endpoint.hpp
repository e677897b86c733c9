#pragma once
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "npcl/media/audiosocket_server.hpp"
#include "npcl/media/media_endpoint.hpp"
#include "npcl/media/media_options.hpp"
#include "npcl/util/net.hpp"

namespace npcl::media {

/// AudioSocket counters that media_stats has no field for.
struct audiosocket_stats {
  std::uint64_t send_dropped = 0;   ///< frames dropped from a full write queue (oldest first)
  std::uint64_t send_rejected = 0;  ///< frames given to send() at a rate other than the call's
  std::uint64_t resampled_in = 0;   ///< caller messages whose kind's rate differed from the call's
  bool legacy_peer = false;         ///< Asterisk labels every frame 0x10 (before 20.17)
};

/// externalMedia over AudioSocket/TCP (asterisk-media.md §2). Opening it
/// picks a fresh UUID and registers it with the shared audiosocket_server at
/// once, so the connection Asterisk makes while POST externalMedia is still
/// in flight finds its call. Audio is s16 little-endian at the call's rate:
/// slin (8 kHz), slin16 or slin24; G.711 formats are refused (see
/// format_problem).
///
/// Caller audio: each message becomes frames of exactly one ptime (a short
/// last frame is padded with silence). A kind at another rate is resampled
/// to the call's rate and counted, except that on a call above 8 kHz a 0x10
/// message of exactly one call-rate frame means an Asterisk older than 20.17,
/// which labels every frame 0x10 whatever its rate: from then on 0x10 is read
/// at the call's rate and audio is sent back as 0x10 (8 kHz), the only kind
/// such an Asterisk reads.
///
/// Assistant audio: one message per frame through a queue of at most
/// max_queued_frames with one write in flight; when full the oldest waiting
/// frame is dropped and counted. Frames sent before Asterisk connects wait in
/// the same queue.
class audiosocket_endpoint final : public media_endpoint {
 public:
  /// Frames that may wait behind the one being written (20 ms each: 0.5 s).
  static constexpr std::size_t max_queued_frames = 25;

  /// Why `options` cannot be used over AudioSocket, as a start-up message
  /// naming the setting; empty when they can.
  static std::string format_problem(const media_options& options);

  /// Opens a call's endpoint on `ex` (the call's strand) and registers its
  /// UUID with `server`. The endpoint advertises advertise_host (or
  /// bind_host) with the server's bound port. If Asterisk has not connected
  /// `connect_timeout` after start(), the call's media is reported closed
  /// (on_closed with timed_out). Returns null with `ec` set when the format
  /// is unusable (invalid_argument) or the UUID could not be registered.
  static std::unique_ptr<audiosocket_endpoint> open(executor ex, const media_options& options,
                                                    std::shared_ptr<audiosocket_server> server, error_code& ec,
                                                    std::chrono::milliseconds connect_timeout = std::chrono::seconds(5));
  /// Closes (see close()).
  ~audiosocket_endpoint() override;

  /// {advertise_host:port, format, "audiosocket", "tcp", data = the UUID}.
  external_media_params external_media() const override;
  /// Checks AUDIOSOCKET_UUID against ours (a mismatch is logged).
  void set_peer(const std::map<std::string, std::string>& channel_vars) override;
  void start(media_handlers h) override;
  audio::audio_format format() const override;
  void send(const audio::frame& f, bool first_of_spurt) override;
  media_stats stats() const override;
  /// Closes the TCP connection without sending anything (the session hangs
  /// up through ARI) and unregisters the UUID; idempotent, no handler runs
  /// afterwards.
  void close() override;

  /// Asks Asterisk to hang up the media channel: sends the 0x00 message after
  /// the audio already queued; later send() calls are ignored. Asterisk then
  /// closes TCP, which is reported through on_closed.
  void hangup();
  /// The call's UUID (the externalMedia `data`), canonical text.
  const std::string& call_uuid() const;
  /// True once Asterisk's connection has been handed to this endpoint.
  bool connected() const;
  /// Transport-specific counters.
  audiosocket_stats transport_stats() const;

 private:
  struct impl;
  explicit audiosocket_endpoint(std::shared_ptr<impl> i);
  std::shared_ptr<impl> impl_;  ///< shared with pending reads, writes and the server's registration
};

}  // namespace npcl::media
