#pragma once
#include <chrono>
#include <cstdint>
#include <string>

namespace npcl::http {

/// The daemon's own HTTP listener (HTTP_*).
struct http_options {
  std::string host = "127.0.0.1";               ///< HTTP_HOST: bind address
  std::uint16_t port = 8000;                    ///< HTTP_PORT (0: any free port, for tests)
  std::chrono::milliseconds read_timeout{10000}; ///< HTTP_READ_TIMEOUT: one request must arrive within this
  std::size_t max_body_bytes = 1 << 20;         ///< largest request body accepted, in bytes
};

}  // namespace npcl::http
