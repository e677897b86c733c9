#pragma once
// Sends tool calls to the utility's CRM (TOOL_BACKEND=http): one signed JSON POST per call,
// look-ups tried again after a network error, a timeout or a 5xx reply while the call's
// deadline allows, record-creating tools sent once.
#include <boost/asio/ssl/context.hpp>
#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "npcl/tools/tools_options.hpp"
#include "npcl/util/net.hpp"
#include "tools/crm_exchange.hpp"

namespace npcl::obs {
class counter;
class metrics_registry;
}  // namespace npcl::obs

namespace npcl::tools {

/// What the CRM made of one tool call.
struct crm_outcome {
  bool answered = false;  ///< a 2xx reply carrying a JSON object arrived
  nlohmann::json reply;   ///< that object, when answered
  int attempts = 0;       ///< requests sent
  std::string failure;    ///< why it was not answered (last attempt), for the log; never secret
};

class crm_client : public std::enable_shared_from_this<crm_client> {
 public:
  /// Largest reply body accepted, in bytes: an answer read out on the phone is far smaller.
  static constexpr std::size_t max_reply_bytes = 64 * 1024;

  /// How an attempt can end: the "result" label of tool_backend_attempts_total. answered: a
  /// JSON object came back; timeout: no reply by the attempt's deadline; network: resolving,
  /// connecting, sending or reading failed; tls: the handshake or the certificate failed;
  /// busy: 5xx or 429; refused: another non-2xx status; bad_reply: not a JSON object, too
  /// large, too deep or not application/json.
  static constexpr const char* attempt_results[] = {"answered", "timeout", "network", "tls",
                                                    "busy",     "refused", "bad_reply"};

  /// Throws std::invalid_argument when TLS cannot be set up (TOOL_BACKEND_CA_FILE unusable).
  /// `metrics` must outlive the client.
  crm_client(tools_options o, obs::metrics_registry& metrics);

  /// Sends `tool` with `arguments` (an object) for the call `call_id`; `done` is called once,
  /// on `ex`, by the options' deadline (name resolution aside). `may_retry` is false for tools
  /// that create a record: a second POST could create a second one.
  void call(executor ex, std::string tool, std::string call_id, const nlohmann::json& arguments, bool may_retry,
            std::function<void(crm_outcome)> done);

 private:
  net::awaitable<crm_outcome> run(std::string tool, std::string call_id, std::string body, bool may_retry);
  crm_post signed_post(const std::string& body, const std::string& request_id, int attempt,
                       std::chrono::steady_clock::time_point deadline) const;

  obs::counter& attempts_counter(const char* result);

  tools_options options_;                   ///< endpoint, secret and limits
  obs::metrics_registry& metrics_;          ///< owner of tool_backend_attempts_total
  std::optional<net::ssl::context> tls_;    ///< trust store and verification (https only)
};

}  // namespace npcl::tools
