#pragma once
#include <string>

namespace npcl::tools {

/// One function call the model asked for, as it arrived: nothing here is trusted yet.
struct tool_call {
  std::string call_id;         ///< the model's id for this call, echoed back with the output
  std::string name;            ///< tool name the model chose
  std::string arguments_json;  ///< arguments as JSON text (an object; empty means none)
};

}  // namespace npcl::tools
