#pragma once
#include <chrono>
#include <cstdint>
#include <string>

namespace npcl::ari {

/// How to reach Asterisk's REST interface (ARI_*, STASIS_APP).
struct ari_options {
  std::string base_url = "http://localhost:8088/ari";  ///< ARI_BASE_URL as given
  std::string host = "localhost";        ///< host part of base_url
  std::uint16_t port = 8088;             ///< port of base_url (80 when absent)
  std::string path_prefix = "/ari";      ///< path of base_url, no trailing slash
  std::string username = "asterisk";     ///< ARI_USERNAME
  std::string password;                  ///< ARI_PASSWORD (secret: never logged)
  std::string app = "openai-voice-assistant";  ///< STASIS_APP
  std::chrono::milliseconds request_timeout{5000};  ///< ARI_REQUEST_TIMEOUT: one REST exchange
  std::chrono::milliseconds connect_timeout{5000};  ///< ARI_CONNECT_TIMEOUT: TCP + WebSocket handshake
  std::chrono::milliseconds reconnect_min{500};     ///< ARI_RECONNECT_MIN: first backoff delay
  std::chrono::milliseconds reconnect_max{10000};   ///< ARI_RECONNECT_MAX: backoff cap
  std::chrono::milliseconds ping_interval{10000};   ///< ARI_PING_INTERVAL: events-socket liveness ping
};

}  // namespace npcl::ari
