#pragma once
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "npcl/http/http_options.hpp"
#include "npcl/util/net.hpp"

namespace npcl::http {

/// One parsed request handed to a route.
struct request {
  std::string method;  ///< "GET", "POST", ...
  std::string path;    ///< target without the query, percent-decoded
  std::string query;   ///< raw query string without '?'
  std::vector<std::pair<std::string, std::string>> headers;  ///< as received
  std::string body;    ///< at most http_options::max_body_bytes
};

/// What a route answers.
struct response {
  unsigned status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  ///< extra headers
};

/// A route handler. It may answer later (from any thread) by calling `reply` once.
using handler = std::function<void(const request&, std::function<void(response)> reply)>;

/// The daemon's HTTP/1.1 listener: health, metrics and, later, the API.
/// Routes are exact (method, path) matches; unknown path → 404, known path with
/// another method → 405. Keep-alive; each request must arrive within
/// read_timeout; bodies over max_body_bytes → 413. Nothing blocks the loop.
class server {
 public:
  server(net::io_context& ioc, http_options options);
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  /// Adds a route; call before start().
  void route(std::string method, std::string path, handler h);
  /// Binds and starts accepting. Returns the bind/listen error, if any.
  error_code start();
  /// The bound port (useful with port 0).
  std::uint16_t port() const;
  /// Stops accepting and closes every open connection.
  void stop();

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

}  // namespace npcl::http
