#pragma once
// One HTTP POST to the utility's CRM and its reply, over TCP or TLS. Each stream type is
// compiled in its own translation unit (crm_exchange_tcp.cpp, crm_exchange_tls.cpp); this
// header keeps Beast out of the code that decides what to send and how to judge the reply.
#include <boost/asio/ssl/context.hpp>

#include <chrono>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "npcl/tools/tools_options.hpp"
#include "npcl/util/net.hpp"

namespace npcl::tools {

/// What one attempt sends.
struct crm_post {
  crm_endpoint to;                                           ///< where
  std::vector<std::pair<std::string, std::string>> headers;  ///< besides Host, Content-Length, Connection
  std::string body;                                          ///< JSON text
  std::chrono::steady_clock::time_point deadline;            ///< connect to end of reply
  std::size_t reply_limit = 0;                               ///< largest reply body accepted, bytes
};

/// How one attempt ended.
struct crm_attempt {
  std::string failure;       ///< empty when a reply arrived; otherwise the step and reason, for the log
  std::string step;          ///< where a failure happened: resolve, connect, tls, send, reply
  bool timed_out = false;    ///< the failure was the deadline passing
  bool too_large = false;    ///< the failure was a reply body over p.reply_limit
  bool retryable = false;    ///< a failure another attempt might not have (network, timeout)
  unsigned status = 0;       ///< HTTP status of the reply
  std::string content_type;  ///< its Content-Type, as sent
  std::string body;          ///< its body
};

/// Sends `p` over plain TCP; never throws, completes by p.deadline (name resolution aside).
net::awaitable<crm_attempt> post_over_tcp(crm_post p);

/// Sends `p` over TLS, verifying the certificate against `tls`'s trust store and p.to.host.
net::awaitable<crm_attempt> post_over_tls(net::ssl::context& tls, crm_post p);

}  // namespace npcl::tools
