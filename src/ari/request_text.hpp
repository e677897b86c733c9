#pragma once
// Small text helpers shared by the REST and events clients.
#include <string>
#include <string_view>

namespace npcl::ari::detail {

/// RFC 3986 percent-encoding of everything but unreserved characters.
std::string percent_encode(std::string_view s);

}  // namespace npcl::ari::detail
