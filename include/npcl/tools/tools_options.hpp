#pragma once
#include <chrono>
#include <cstdint>
#include <string>

namespace npcl::tools {

/// Where the customer-service tools get their answers.
enum class tool_backend {
  store,  ///< the daemon's own records (SQLite or PostgreSQL)
  http,   ///< the utility's CRM, one signed HTTP POST per tool call
};

/// The CRM endpoint, taken apart from TOOL_BACKEND_URL at start-up.
struct crm_endpoint {
  bool tls = false;     ///< https://: TLS with certificate and host name verification
  std::string host;     ///< DNS name or IP literal (IPv6 without brackets)
  std::uint16_t port = 0;  ///< TCP port (443/80 when the URL names none)
  std::string target;   ///< path and query sent in the request line, at least "/"
};

/// TOOL_BACKEND and the TOOL_BACKEND_* settings of the CRM back-end.
struct tools_options {
  tool_backend backend = tool_backend::store;  ///< TOOL_BACKEND
  std::string url;                 ///< TOOL_BACKEND_URL as given (no credentials: refused at start-up)
  crm_endpoint endpoint;           ///< the same URL, parsed
  std::string secret;              ///< TOOL_BACKEND_SECRET: HMAC-SHA256 key of the signature header
  std::string ca_file;             ///< TOOL_BACKEND_CA_FILE: extra trusted CA (PEM); "" = system store only
  /// TOOL_BACKEND_TIMEOUT: one attempt, from connecting to the end of the reply.
  std::chrono::milliseconds attempt_timeout{2000};
  /// TOOL_BACKEND_DEADLINE: one tool call with all its attempts; the model is answered by then.
  std::chrono::milliseconds deadline{5000};
  /// TOOL_BACKEND_RETRIES: further attempts of a look-up after a transport error, a timeout
  /// or a 5xx reply. Tools that create a record are never retried.
  int retries = 2;
};

}  // namespace npcl::tools
