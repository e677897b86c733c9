#pragma once
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "npcl/ari/ari_options.hpp"
#include "npcl/util/net.hpp"

namespace npcl::obs {
class metrics_registry;
}

namespace npcl::ari {

/// Query parameters, in order; values are percent-encoded by the client.
using params = std::vector<std::pair<std::string, std::string>>;

/// The outcome of one REST exchange.
struct rest_reply {
  error_code ec;         ///< transport error (connect refused, timeout...); status is 0 then
  unsigned status = 0;   ///< HTTP status from Asterisk
  std::string body;      ///< response body as received (JSON or empty)
  std::string message;   ///< ARI's error text ("message" or "error" key) or ec.message()

  /// True for a 2xx answer.
  bool ok() const { return !ec && status >= 200 && status < 300; }
};

/// ARI REST over HTTP/1.1 with keep-alive and basic auth. Each request has a
/// deadline (ari_options::request_timeout) and its duration is recorded in
/// `ari_request_duration_seconds`. Safe to call from any strand: the work runs on
/// the client's own strand and the result resumes the caller's coroutine.
/// A pooled connection the server closed while idle is retried once on a
/// fresh one.
class rest_client {
 public:
  rest_client(net::io_context& ioc, ari_options options, obs::metrics_registry& metrics);
  ~rest_client();
  rest_client(const rest_client&) = delete;
  rest_client& operator=(const rest_client&) = delete;

  /// One request. `path` is relative to the ARI prefix ("/channels/123/answer");
  /// `json_body`, when not empty, is sent as application/json.
  net::awaitable<rest_reply> request(std::string method, std::string path, params query = {},
                                     std::string json_body = {});

  /// Closes idle pooled connections; requests still running finish normally.
  void shutdown();

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

}  // namespace npcl::ari
