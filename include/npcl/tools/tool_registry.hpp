#pragma once
#include <functional>
#include <string>
#include <vector>

#include "npcl/tools/call_actions.hpp"
#include "npcl/tools/tool_call.hpp"
#include "npcl/tools/tool_result.hpp"
#include "npcl/util/net.hpp"

namespace npcl::tools {

/// Session-facing, abstract: what the model is offered and how a call is run.
class tool_registry {
 public:
  virtual ~tool_registry() = default;

  /// One tool as offered to the model.
  struct spec {
    std::string name;             ///< function name
    std::string description;      ///< when and why the model should call it
    std::string parameters_json;  ///< JSON Schema of the arguments object
  };

  /// Every tool, in the order they were added.
  virtual std::vector<spec> specs() const = 0;

  /// Validates the arguments against the tool's schema, runs the handler with a deadline and
  /// calls `done` exactly once on `ex` (the call's strand) — also on unknown tool, invalid JSON,
  /// schema violation (an error output the model can act on, naming the field), handler
  /// exception, or deadline (a timeout error output). Never throws, never blocks the caller.
  /// `actions` must stay valid until `done` has been called; it is used only on `ex`.
  virtual void invoke(tool_call call, call_actions& actions, executor ex,
                      std::function<void(tool_result)> done) = 0;
};

}  // namespace npcl::tools
