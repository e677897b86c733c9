#include "tools/json_depth.hpp"

#include <gtest/gtest.h>

namespace {

using npcl::tools::json_depth;

TEST(json_depth, counts_nesting_of_objects_and_arrays) {
  EXPECT_EQ(json_depth("1", 16), 0u);
  EXPECT_EQ(json_depth("{}", 16), 1u);
  EXPECT_EQ(json_depth(R"({"a":[{"b":[]}],"c":{}})", 16), 4u);
}

TEST(json_depth, ignores_brackets_inside_strings_including_escaped_quotes) {
  EXPECT_EQ(json_depth(R"({"a":"[[[{{{"})", 16), 1u);
  EXPECT_EQ(json_depth(R"({"a":"\"[[[","b":"\\"})", 16), 1u);
}

TEST(json_depth, stops_just_past_the_limit) {
  EXPECT_EQ(json_depth(std::string(1000, '['), 16), 17u);
}

}  // namespace
