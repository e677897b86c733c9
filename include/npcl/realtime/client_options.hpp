#pragma once
#include <chrono>
#include <cstddef>
#include <string>

#include "npcl/realtime/dialect.hpp"
#include "npcl/realtime/realtime_options.hpp"

namespace npcl::realtime {

/// How a realtime::client reaches the service, on top of realtime_options.
/// Plain values with working defaults for OpenAI GA; config fills them.
struct client_options {
  realtime_options service;             ///< key and model (for Azure: the deployment name)
  realtime::dialect dialect = realtime::dialect::ga;  ///< REALTIME_DIALECT: ga | beta | azure_ga | azure_preview
  /// OPENAI_REALTIME_URL: ws(s)/http(s) URL of the realtime endpoint, without the
  /// model query. Empty = wss://api.openai.com/v1/realtime (required for Azure:
  /// https://<resource>.openai.azure.com, the dialect's path is added when absent).
  std::string url;
  std::string azure_api_version = "2025-04-01-preview";  ///< AZURE_OPENAI_API_VERSION (azure_preview only)
  std::string ca_file;          ///< REALTIME_CA_FILE: extra PEM CA bundle trusted besides the system store ("" = none)
  std::string https_proxy;      ///< HTTPS_PROXY: http://[user:pass@]host:port for a CONNECT tunnel ("" = direct)
  std::chrono::milliseconds append_interval{40};  ///< REALTIME_APPEND_MS: caller audio per append event (ms)
  std::size_t audio_queue_max = 50;               ///< REALTIME_AUDIO_QUEUE_MAX: appends waiting to be sent before the oldest is dropped
  std::chrono::milliseconds handshake_timeout{10000};  ///< REALTIME_HANDSHAKE_TIMEOUT_MS: resolve+connect+proxy+TLS+upgrade (ms)
  std::chrono::milliseconds idle_timeout{30000};  ///< REALTIME_IDLE_TIMEOUT_MS: silence before the socket is dropped; a ping goes out at half (ms)
  std::size_t max_message_bytes = 16u << 20;      ///< largest server message accepted (bytes)
};

}  // namespace npcl::realtime
