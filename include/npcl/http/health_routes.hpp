#pragma once
#include <functional>
#include <string>

#include "npcl/http/server.hpp"

namespace npcl::http {

/// GET /health → 200 {"status":"ok"}; GET /ready → 200 {"ready":true} when ready() is true,
/// else 503 {"ready":false}; GET /metrics → 200 text/plain; version=0.0.4 with metrics_text().
/// Both callbacks run on the connection's strand, once per request, and must not block.
void add_health_routes(server& s, std::function<bool()> ready, std::function<std::string()> metrics_text);

}  // namespace npcl::http
