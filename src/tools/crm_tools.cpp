#include "npcl/tools/crm_tools.hpp"

#include <algorithm>
#include <cctype>
#include <memory>
#include <utility>

#include "npcl/obs/log.hpp"
#include "npcl/tools/registry.hpp"
#include "tools/crm_client.hpp"
#include "tools/npcl_tool_specs.hpp"

namespace npcl::tools {

namespace {

// The CRM's own answer, or the one failure the model is told about whatever went wrong.
tool_result answer_of(const std::string& tool, crm_outcome out) {
  if (!out.answered) {
    spdlog::warn("tool {}: CRM unavailable after {} attempt(s): {}", tool, out.attempts, out.failure);
    return tool_error("unavailable", "records are unavailable right now; offer a human agent");
  }
  std::string text = out.reply.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  auto it = out.reply.find("error");
  // Some systems always send "error", null when all went well.
  if (it == out.reply.end() || it->is_null() || (it->is_boolean() && !it->get<bool>())) return tool_ok(std::move(text));
  // The CRM refused the request in terms the model can act on (not_found, invalid_arguments).
  std::string code = it->is_string() ? it->get<std::string>() : std::string();
  const bool plain = !code.empty() && code.size() <= 64 && std::all_of(code.begin(), code.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '_' || c == '-' || c == '.';
  });
  if (!plain) code = "tool_failed";  // the code is logged and counted: no free text from outside
  spdlog::info("tool {}: CRM answered error {}", tool, code);
  return tool_result{std::move(text), false, std::move(code)};
}

}  // namespace

void add_crm_tools(registry& r, const tools_options& o, obs::metrics_registry& metrics) {
  auto client = std::make_shared<crm_client>(o, metrics);
  // The registry answers the model itself a moment after the client's own deadline, should
  // the client ever fail to (a name server that never replies).
  const auto backstop = o.deadline + std::chrono::milliseconds(500);
  for (const auto& spec : npcl_tool_specs()) {
    r.add_async(spec.name, spec.description, spec.schema.dump(),
                [client, &spec](const std::string& arguments, const std::string& call_id, executor ex,
                                std::function<void(tool_result)> finish) {
                  nlohmann::json args;
                  try {
                    args = checked_arguments(spec, arguments);
                  } catch (const bad_argument& e) {
                    spdlog::warn("tool {}: arguments refused: {}", spec.name, e.message);
                    finish(tool_error("invalid_arguments", e.message, e.field));
                    return;
                  }
                  client->call(std::move(ex), spec.name, call_id, args, !spec.creates_record,
                               [name = spec.name, finish = std::move(finish)](crm_outcome out) {
                                 finish(answer_of(name, std::move(out)));
                               });
                },
                backstop);
  }
}

}  // namespace npcl::tools
