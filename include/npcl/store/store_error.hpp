#pragma once
#include <stdexcept>
#include <string>

namespace npcl::store {

/// Why a store operation failed, so a caller can choose what to tell the caller on the phone.
enum class store_error_kind {
  not_found,    ///< a record the operation depends on does not exist
  invalid,      ///< the input was rejected before reaching the database
  unavailable,  ///< the database could not be reached or did not answer in time
  conflict,     ///< a uniqueness or concurrency conflict the caller may retry
};

/// Name of a kind for logs: "not_found", "invalid", "unavailable", "conflict".
const char* to_string(store_error_kind kind) noexcept;

/// The one exception the store throws. Store calls run on a blocking pool, never on the
/// event loop; the pool's handler turns this into an output for the model.
class store_error : public std::runtime_error {
 public:
  /// `message` names what failed and why, without secrets such as passwords.
  store_error(store_error_kind kind, const std::string& message)
      : std::runtime_error(message), kind_(kind) {}

  /// What kind of failure this is.
  store_error_kind kind() const noexcept { return kind_; }

 private:
  store_error_kind kind_;  ///< category of the failure
};

}  // namespace npcl::store
