#include "npcl/util/ids.hpp"

#include <gtest/gtest.h>

#include <set>

namespace {

TEST(ids, uuids_are_canonical_version_4_and_distinct) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    auto id = npcl::util::make_uuid();
    ASSERT_EQ(id.size(), 36u);
    EXPECT_EQ(id[14], '4');
    EXPECT_NE(std::string("89ab").find(id[19]), std::string::npos);
    unsigned char raw[16];
    EXPECT_TRUE(npcl::util::parse_uuid(id, raw));
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(ids, parse_uuid_rejects_malformed_text) {
  unsigned char raw[16] = {};
  EXPECT_FALSE(npcl::util::parse_uuid("", raw));
  EXPECT_FALSE(npcl::util::parse_uuid("0123456789abcdef0123456789abcdef0123", raw));
  EXPECT_FALSE(npcl::util::parse_uuid("g1234567-89ab-4def-8123-456789abcdef", raw));
  ASSERT_TRUE(npcl::util::parse_uuid("01234567-89ab-4def-8123-456789abcdef", raw));
  EXPECT_EQ(raw[0], 0x01);
  EXPECT_EQ(raw[15], 0xef);
}

}  // namespace
