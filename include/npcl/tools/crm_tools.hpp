#pragma once
#include "npcl/tools/tools_options.hpp"

namespace npcl::obs {
class metrics_registry;
}  // namespace npcl::obs

namespace npcl::tools {

class registry;

/// Adds the customer-service tools of add_npcl_tools (same names, descriptions and argument
/// checks) answered by the utility's CRM instead of the daemon's records (TOOL_BACKEND=http).
/// Each call is one POST of {"tool","call_id","arguments"} to o.endpoint, signed with
/// o.secret (X-NPCL-Timestamp, X-NPCL-Signature: sha256=HMAC(secret, timestamp "." body)).
/// A 2xx JSON object is the tool's output as is; one with an "error" member is a failure the
/// model can act on. Anything else — no answer by o.deadline, another status, a reply that
/// is not a JSON object or larger than 64 KiB — gives {"error":"unavailable",...} and a
/// logged reason. Look-ups are tried up to o.retries more times after a network error, a
/// timeout, a 5xx or 429; register_complaint and request_new_connection never.
/// Nothing blocks a thread: requests run on the calling session's strand. Each attempt is
/// counted in tool_backend_attempts_total{result} (see crm_client). `metrics` must outlive `r`.
/// Throws std::invalid_argument if TLS cannot be set up or a tool is already registered.
void add_crm_tools(registry& r, const tools_options& o, obs::metrics_registry& metrics);

}  // namespace npcl::tools
