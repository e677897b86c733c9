#include "npcl/tools/tool_result.hpp"

#include <nlohmann/json.hpp>

namespace npcl::tools {

tool_result tool_ok(std::string output_json) { return {std::move(output_json), true, {}}; }

tool_result tool_error(std::string code, std::string message, std::string field) {
  nlohmann::json out{{"error", code}, {"message", std::move(message)}};
  if (!field.empty()) out["field"] = std::move(field);
  // Replace rather than throw: the text may echo untrusted input that is not valid UTF-8.
  return {out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), false, std::move(code)};
}

}  // namespace npcl::tools
