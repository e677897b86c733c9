#pragma once
// Small text helpers shared by the REST and events clients.
#include <string>
#include <string_view>

namespace npcl::ari::detail {

/// RFC 3986 percent-encoding of everything but unreserved characters.
std::string percent_encode(std::string_view s);

/// The value of an `Authorization: Basic ...` header. The result is a secret.
std::string basic_auth(const std::string& user, const std::string& password);

}  // namespace npcl::ari::detail
