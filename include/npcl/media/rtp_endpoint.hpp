#pragma once
#include <memory>
#include <string>

#include "npcl/media/media_endpoint.hpp"
#include "npcl/media/media_options.hpp"
#include "npcl/media/port_allocator.hpp"
#include "npcl/util/net.hpp"

namespace npcl::media {

/// externalMedia over RTP/UDP: one socket per call on a port of the RTP range,
/// bound to EXTERNAL_MEDIA_HOST and advertised as EXTERNAL_MEDIA_ADVERTISE_HOST.
///
/// Inbound: accepts packets only from Asterisk's address (UNICASTRTP_LOCAL_*,
/// or the first source seen when those are missing); foreign, malformed and
/// undecodable packets are counted and dropped. Payload types 0 (μ-law),
/// 8 (A-law), 10/11 (L16 8 kHz), 118 (L16 16 kHz) and 123 (L16 24 kHz), L16
/// big-endian, are decoded, put in order by a jitter_buffer (losses
/// concealed), resampled to the call's rate when the packet's differs, and
/// delivered as one frame per packet.
///
/// Outbound: send() encodes each frame as one RTP packet Asterisk accepts back
/// (ulaw → PT 0, alaw → PT 8, slin → PT 10, slin16/slin24 → PT 11, see
/// send_back_note()), with a random SSRC, sequence +1 and timestamp + samples
/// per packet, from the socket named in external_host (strict RTP accepts that
/// source at once).
class rtp_endpoint final : public media_endpoint {
 public:
  /// Binds a port from `ports` (skipping ports another process holds). All I/O
  /// runs on `ex`, the call's strand. Returns null with `ec` set when no port
  /// could be bound, or invalid_argument when options.format/sample_rate are
  /// not an RTP format this class speaks.
  static std::unique_ptr<rtp_endpoint> open(executor ex, const media_options& options,
                                            std::shared_ptr<port_allocator> ports, error_code& ec);
  ~rtp_endpoint() override;

  /// A line for the start-up log explaining how assistant audio is sent back
  /// when that differs from the format Asterisk sends (slin16, slin24: their
  /// dynamic payload types are dropped by Asterisk on receive); empty otherwise.
  static std::string send_back_note(const media_options& options);

  external_media_params external_media() const override;
  void set_peer(const std::map<std::string, std::string>& channel_vars) override;
  void start(media_handlers h) override;
  audio::audio_format format() const override;
  /// Sends `f` at once as one RTP packet (the caller paces). Frames at another
  /// rate than format()'s, and frames sent before Asterisk's address is known,
  /// are dropped and logged.
  void send(const audio::frame& f, bool first_of_spurt) override;
  media_stats stats() const override;
  void close() override;
  /// The bound local UDP port.
  std::uint16_t local_port() const;

 private:
  struct impl;
  explicit rtp_endpoint(std::shared_ptr<impl> i);
  std::shared_ptr<impl> impl_;  ///< shared with pending receive and timer operations
};

}  // namespace npcl::media
