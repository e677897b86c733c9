#pragma once
#include <boost/asio/thread_pool.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "npcl/tools/tool_registry.hpp"

namespace npcl::obs {
class counter;
class metrics_registry;
}  // namespace npcl::obs

namespace npcl::tools {

/// The concrete registry: tools are added at start-up, then it is read-only (thread-safe).
/// Metrics: tool_calls_total{tool,outcome} (ok, invalid, error, timeout, unknown) and
/// tool_duration_seconds{tool}.
class registry final : public tool_registry {
 public:
  /// Runs one tool. `arguments_json` is an object that already passed the tool's schema.
  /// A handler reports failures the model can act on with tool_error(); an exception is
  /// turned into a generic "tool_failed" output and logged.
  using handler = std::function<tool_result(const std::string& arguments_json, call_actions& actions)>;

  /// A tool that waits on the network rather than on a thread (the HTTP CRM): started on the
  /// call's strand `ex` with arguments that passed the schema and the id of the call it runs
  /// in (empty outside a call); it must not block, and calls `finish` once, from any thread.
  /// A result after the deadline is dropped; a handler that throws gives "tool_failed".
  using async_handler = std::function<void(const std::string& arguments_json, const std::string& call_id,
                                           executor ex, std::function<void(tool_result)> finish)>;

  /// Arguments larger than this many bytes are rejected unparsed.
  static constexpr std::size_t max_arguments_bytes = 16 * 1024;
  /// Arguments nested deeper than this many objects/arrays are rejected unparsed.
  static constexpr std::size_t max_arguments_depth = 16;
  /// A schema node with "pattern" must limit "maxLength" to at most this many characters:
  /// std::regex recurses per character and would overflow the stack on long untrusted text.
  static constexpr std::size_t max_pattern_subject_length = 256;

  /// `blocking_pool` runs handlers marked blocking (database, HTTP CRM) off the event loop;
  /// `default_deadline` applies to tools added without their own. Both `blocking_pool` and
  /// `metrics` must outlive the registry and every call in flight.
  registry(net::thread_pool& blocking_pool, std::chrono::milliseconds default_deadline,
           obs::metrics_registry& metrics);
  ~registry() override;
  registry(const registry&) = delete;
  registry& operator=(const registry&) = delete;

  /// Adds a tool. Not thread-safe: call only at start-up, before the first invoke().
  /// Throws std::invalid_argument for a duplicate or malformed name, a schema that is not
  /// valid JSON Schema (draft 7), a pattern that is not a valid regex or lacks a short enough
  /// maxLength, or the "format"/"patternProperties" keywords (unbounded regex on input).
  void add(std::string name, std::string description, std::string schema_json, handler h,
           bool blocking, std::optional<std::chrono::milliseconds> deadline = {});

  /// Adds a tool run by an async_handler; otherwise as add().
  void add_async(std::string name, std::string description, std::string schema_json, async_handler h,
                 std::optional<std::chrono::milliseconds> deadline = {});

  std::vector<spec> specs() const override;

  /// See tool_registry::invoke. `ex` must be a strand (or a single-threaded executor):
  /// the deadline and the handler's completion race on it.
  void invoke(tool_call call, call_actions& actions, executor ex,
              std::function<void(tool_result)> done) override;

 private:
  struct tool;        // defined in registry.cpp: schema validator, handler and its metric series
  struct invocation;  // defined in registry.cpp: one call in flight, from invoke() to `done`

  void add_tool(std::string name, std::string description, const std::string& schema_json, handler h,
                async_handler ah, bool blocking, std::optional<std::chrono::milliseconds> deadline);

  net::thread_pool& blocking_pool_;                         ///< where blocking handlers run
  std::chrono::milliseconds default_deadline_;              ///< per-call deadline unless the tool sets one
  obs::metrics_registry& metrics_;                          ///< owner of every series below
  obs::counter& unknown_calls_;                             ///< calls naming no known tool
  std::vector<std::shared_ptr<const tool>> tools_;          ///< in the order added, for specs()
  std::map<std::string, std::shared_ptr<const tool>> by_name_;  ///< same tools, for invoke()
};

}  // namespace npcl::tools
