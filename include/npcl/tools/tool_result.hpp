#pragma once
#include <string>

namespace npcl::tools {

/// What goes back to the model for one call.
struct tool_result {
  std::string output_json;  ///< always valid JSON; on failure {"error":..,"message":..[,"field":..]}
  bool ok{false};           ///< the tool did what was asked
  std::string error_code;   ///< empty when ok; otherwise the "error" value of output_json
};

/// A successful result carrying `output_json`, which must be valid JSON text.
tool_result tool_ok(std::string output_json);

/// A failed result whose output the model can act on:
/// {"error":code,"message":message} plus "field" when `field` is not empty.
/// Any text is accepted; it is escaped into valid JSON.
tool_result tool_error(std::string code, std::string message, std::string field = {});

}  // namespace npcl::tools
