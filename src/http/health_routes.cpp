#include "npcl/http/health_routes.hpp"

#include <utility>

namespace npcl::http {

void add_health_routes(server& s, std::function<bool()> ready, std::function<std::string()> metrics_text) {
  s.route("GET", "/health", [](const request&, std::function<void(response)> reply) {
    reply(response{200, "application/json", R"({"status":"ok"})", {}});
  });
  s.route("GET", "/ready", [ready = std::move(ready)](const request&, std::function<void(response)> reply) {
    const bool is_ready = ready();
    reply(response{is_ready ? 200u : 503u, "application/json", is_ready ? R"({"ready":true})" : R"({"ready":false})",
                   {}});
  });
  s.route("GET", "/metrics",
          [metrics_text = std::move(metrics_text)](const request&, std::function<void(response)> reply) {
            reply(response{200, "text/plain; version=0.0.4; charset=utf-8", metrics_text(), {}});
          });
}

}  // namespace npcl::http
