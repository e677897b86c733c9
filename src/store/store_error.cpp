#include "npcl/store/store_error.hpp"

namespace npcl::store {

const char* to_string(store_error_kind kind) noexcept {
  switch (kind) {
    case store_error_kind::not_found: return "not_found";
    case store_error_kind::invalid: return "invalid";
    case store_error_kind::unavailable: return "unavailable";
    case store_error_kind::conflict: return "conflict";
  }
  return "unknown";
}

}  // namespace npcl::store
