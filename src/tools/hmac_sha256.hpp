#pragma once
#include <string>
#include <string_view>

namespace npcl::tools {

/// HMAC-SHA256 of `message` under `key`, as 64 lower-case hex digits (RFC 2104, FIPS 180-4).
std::string hmac_sha256_hex(std::string_view key, std::string_view message);

}  // namespace npcl::tools
