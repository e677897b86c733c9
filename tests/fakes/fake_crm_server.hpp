#pragma once
// An in-process stand-in for a utility's CRM (TOOL_BACKEND=http): an HTTP/1.1 server on
// 127.0.0.1, plain or TLS, that checks each request's signature the way docs/DATA.md tells a
// CRM to (X-NPCL-Timestamp within five minutes, X-NPCL-Signature = "sha256=" + hex
// HMAC-SHA256 of timestamp "." body under the shared secret), answers a bad one with 401,
// records every request, and answers the others with scripted replies — or never.
// It runs its own io_context on its own thread; every public call is thread-safe.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace npcl::fakes {

/// How the fake CRM is set up.
struct fake_crm_options {
  std::string secret = "npcl-fake-crm-signing-key";  ///< the key requests must be signed with
  bool tls = false;  ///< serve https:// with a generated CA (see ca_file())
};

/// One request as received.
struct crm_request_seen {
  std::string method;                          ///< "POST"
  std::string target;                          ///< path and query
  std::map<std::string, std::string> headers;  ///< names in lower case
  std::string body;                            ///< exactly as received
  bool signature_valid = false;                ///< signed with the secret, timestamp fresh
};

/// One answer the fake gives.
struct crm_reply {
  unsigned status = 200;                        ///< HTTP status
  std::string content_type = "application/json";  ///< "" sends no Content-Type
  std::string body = R"({"ok":true})";          ///< sent as is
  bool never_answer = false;                    ///< read the request, then keep the connection silent
};

/// The X-NPCL-Signature value a CRM expects: "sha256=" + hex HMAC-SHA256 of timestamp "."
/// body under `secret`, computed with OpenSSL here, independently of the daemon's code.
std::string crm_signature(const std::string& secret, const std::string& timestamp, const std::string& body);

class fake_crm_server {
 public:
  /// Listens on 127.0.0.1 (a free port) and serves at once. Throws on failure.
  explicit fake_crm_server(fake_crm_options o = {});
  /// Closes every connection and joins the server thread.
  ~fake_crm_server();
  fake_crm_server(const fake_crm_server&) = delete;
  fake_crm_server& operator=(const fake_crm_server&) = delete;

  std::uint16_t port() const;
  /// "http://127.0.0.1:<port><path>" (https:// with TLS).
  std::string url(const std::string& path = "/npcl/tools") const;
  /// PEM file of the CA that signed the server certificate ("" without TLS).
  std::string ca_file() const;
  const std::string& secret() const;

  /// Queues a reply: requests with a valid signature take them in order.
  void script(crm_reply r);
  /// The reply once the script is used up (default: 200 {"ok":true}).
  void set_default_reply(crm_reply r);

  /// Every request received, in order, whatever its signature.
  std::vector<crm_request_seen> requests() const;
  /// Waits until at least `n` requests have been received.
  testing::AssertionResult wait_for_requests(std::size_t n, std::chrono::milliseconds timeout) const;
  /// TLS handshakes that failed (e.g. the client did not trust the CA).
  int tls_failures() const;
  /// Waits until at least `n` TLS handshakes have failed.
  testing::AssertionResult wait_for_tls_failures(int n, std::chrono::milliseconds timeout) const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace npcl::fakes
