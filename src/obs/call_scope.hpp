#pragma once
#include "npcl/obs/log.hpp"

namespace npcl::obs {

/// Makes a call's identity visible to the line formatters for the duration of
/// one log call. spdlog formats synchronously on the calling thread, so a
/// thread-local pointer carries the context without widening spdlog's API.
class call_scope {
 public:
  explicit call_scope(const log_context& ctx) noexcept;
  ~call_scope();
  call_scope(const call_scope&) = delete;
  call_scope& operator=(const call_scope&) = delete;

  /// The context of the line being formatted on this thread, or nullptr for a
  /// line logged without one (plain spdlog::info and friends).
  static const log_context* current() noexcept;

 private:
  const log_context* previous_;  ///< restored on exit, so nested scopes unwind correctly
};

}  // namespace npcl::obs
