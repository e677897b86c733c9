#include "obs/call_scope.hpp"

namespace npcl::obs {
namespace {
thread_local const log_context* current_context = nullptr;
}  // namespace

call_scope::call_scope(const log_context& ctx) noexcept : previous_(current_context) {
  current_context = &ctx;
}

call_scope::~call_scope() { current_context = previous_; }

const log_context* call_scope::current() noexcept { return current_context; }

}  // namespace npcl::obs
