#pragma once
#include <memory>

#include "npcl/media/media_endpoint.hpp"
#include "npcl/media/media_options.hpp"
#include "npcl/media/port_allocator.hpp"
#include "npcl/util/net.hpp"

namespace npcl::media {

/// externalMedia over RTP/UDP: one socket per call on a port of the RTP range,
/// bound to EXTERNAL_MEDIA_HOST and advertised as EXTERNAL_MEDIA_ADVERTISE_HOST.
/// Accepts packets only from Asterisk's address (UNICASTRTP_LOCAL_ADDRESS/PORT,
/// or the first source seen before those are known); everything else is
/// counted and dropped. Malformed RTP is counted and dropped.
class rtp_endpoint final : public media_endpoint {
 public:
  /// Binds a port from `ports` (skipping ports another process holds).
  /// Returns null with `ec` set when no port could be bound.
  static std::unique_ptr<rtp_endpoint> open(executor ex, const media_options& options,
                                            std::shared_ptr<port_allocator> ports, error_code& ec);
  ~rtp_endpoint() override;

  external_media_params external_media() const override;
  void set_peer(const std::map<std::string, std::string>& channel_vars) override;
  void start(media_handlers h) override;
  audio::audio_format format() const override;
  void send(const audio::frame& f, bool first_of_spurt) override;
  media_stats stats() const override;
  void close() override;
  /// The bound local UDP port.
  std::uint16_t local_port() const;

 private:
  struct impl;
  explicit rtp_endpoint(std::shared_ptr<impl> i);
  std::shared_ptr<impl> impl_;
};

}  // namespace npcl::media
