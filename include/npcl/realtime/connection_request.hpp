#pragma once
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "npcl/realtime/client_options.hpp"

namespace npcl::realtime {

/// Where and how to open the Realtime WebSocket: the pure result of the
/// options, before any I/O.
struct connection_request {
  bool tls = true;       ///< wss (true) or ws (false)
  std::string host;      ///< host name for DNS, SNI, certificate check and the Host header
  std::string port;      ///< service port, decimal ("443")
  std::string target;    ///< path and query of the upgrade request
  /// Extra upgrade headers (auth, dialect). Holds the API key: never log it.
  std::vector<std::pair<std::string, std::string>> headers;
};

/// Builds the upgrade request for `options.dialect`:
/// GA/beta `<url>?model=<model>` with `Authorization: Bearer`, beta adding
/// `OpenAI-Beta: realtime=v1` (GA must not send it); Azure GA
/// `/openai/v1/realtime?model=<deployment>`, Azure preview
/// `/openai/realtime?api-version=<v>&deployment=<deployment>`, both with `api-key`.
/// Returns nullopt with a reason in `why` for an unusable URL, a missing key
/// or model, or Azure without a URL.
std::optional<connection_request> make_connection_request(const client_options& options,
                                                          std::string* why = nullptr);

}  // namespace npcl::realtime
