// The signature the CRM checks: HMAC-SHA256 against the published test vectors.
#include "tools/hmac_sha256.hpp"

#include <gtest/gtest.h>

#include <string>

namespace {

using npcl::tools::hmac_sha256_hex;

// RFC 4231, test cases 1, 2 and 6 (a key longer than the hash's block).
TEST(hmac_sha256, matches_rfc_4231) {
  EXPECT_EQ(hmac_sha256_hex(std::string(20, '\x0b'), "Hi There"),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  EXPECT_EQ(hmac_sha256_hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(hmac_sha256_hex(std::string(131, '\xaa'), "Test Using Larger Than Block-Size Key - Hash Key First"),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST(hmac_sha256, another_key_or_message_gives_another_signature) {
  const auto base = hmac_sha256_hex("npcl-secret", "1764950000.{}");
  EXPECT_NE(hmac_sha256_hex("npcl-secreT", "1764950000.{}"), base);
  EXPECT_NE(hmac_sha256_hex("npcl-secret", "1764950001.{}"), base);
  EXPECT_EQ(base.size(), 64u);
}

}  // namespace
