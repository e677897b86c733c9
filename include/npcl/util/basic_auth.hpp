#pragma once
#include <string>

namespace npcl::util {

/// The value of an `Authorization: Basic ...` header for `user:password`
/// (RFC 7617). The result is a secret: never log it.
std::string basic_auth(const std::string& user, const std::string& password);

}  // namespace npcl::util
