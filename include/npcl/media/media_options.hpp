#pragma once
#include <cstdint>
#include <string>

namespace npcl::media {

enum class transport_kind { rtp, audiosocket, websocket };

/// Where call audio flows (EXTERNAL_MEDIA_*, RTP_PORT_*, AUDIO_*).
struct media_options {
  transport_kind transport = transport_kind::rtp;  ///< EXTERNAL_MEDIA_TRANSPORT
  std::string format = "ulaw";           ///< AUDIO_FORMAT: Asterisk format name (ulaw alaw slin slin16 slin24)
  int sample_rate = 8000;                ///< AUDIO_SAMPLE_RATE in Hz, implied by format
  int chunk_size = 160;                  ///< AUDIO_CHUNK_SIZE: samples per 20 ms frame at sample_rate
  std::string bind_host = "127.0.0.1";   ///< EXTERNAL_MEDIA_HOST: local address media sockets bind to
  std::string advertise_host;            ///< EXTERNAL_MEDIA_ADVERTISE_HOST: address Asterisk sends to (empty: bind_host)
  std::uint16_t listen_port = 8090;      ///< EXTERNAL_MEDIA_PORT: TCP port of the AudioSocket/WebSocket listener
  std::uint16_t rtp_port_min = 40000;    ///< RTP_PORT_MIN: first UDP port of the per-call range
  std::uint16_t rtp_port_max = 40999;    ///< RTP_PORT_MAX: last UDP port of the range (inclusive)
  std::string websocket_host;            ///< MEDIA_WEBSOCKET_HOST: Asterisk's HTTP server for WebSocket media (empty: ARI's host)
  std::uint16_t websocket_port = 0;      ///< MEDIA_WEBSOCKET_PORT: its port (0: ARI's port)
};

}  // namespace npcl::media
