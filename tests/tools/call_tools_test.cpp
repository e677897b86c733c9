#include "npcl/tools/call_tools.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "tools/tool_harness.hpp"

namespace {

using npcl::test::output_of;
using npcl::test::tool_harness;
using json = nlohmann::json;

class call_tools : public testing::Test {
 protected:
  call_tools() { npcl::tools::add_call_tools(h_.tools()); }
  tool_harness h_;
};

TEST_F(call_tools, are_offered_with_object_schemas) {
  std::set<std::string> names;
  for (const auto& s : h_.tools().specs()) {
    names.insert(s.name);
    EXPECT_EQ(json::parse(s.parameters_json)["type"], "object") << s.name;
    EXPECT_FALSE(s.description.empty()) << s.name;
  }
  EXPECT_EQ(names, (std::set<std::string>{"end_call", "transfer_to_agent", "set_language"}));
  EXPECT_THROW(npcl::tools::add_call_tools(h_.tools()), std::invalid_argument);
}

TEST_F(call_tools, end_call_asks_the_session_to_hang_up_after_speech) {
  auto a = h_.call("end_call", R"({"reason":"caller said goodbye"})");
  EXPECT_TRUE(a.result.ok) << a.result.output_json;
  EXPECT_TRUE(h_.actions().asked_once("end_call", "caller said goodbye"));
}

TEST_F(call_tools, end_call_without_a_reason_still_ends_the_call) {
  EXPECT_TRUE(h_.call("end_call", "{}").result.ok);
  EXPECT_TRUE(h_.actions().asked_once("end_call", ""));
}

TEST_F(call_tools, transfer_to_agent_asks_the_session_to_transfer) {
  auto a = h_.call("transfer_to_agent", R"({"reason":"wire down on the street"})");
  EXPECT_TRUE(a.result.ok);
  EXPECT_TRUE(h_.actions().asked_once("transfer", "wire down on the street"));
}

TEST_F(call_tools, set_language_switches_to_each_supported_language) {
  for (const char* lang : {"en-IN", "hi-IN", "bho-IN", "bn-IN"}) {
    auto a = h_.call("set_language", json{{"language", lang}}.dump());
    EXPECT_TRUE(a.result.ok) << lang;
    EXPECT_EQ(output_of(a.result)["language"], lang);
  }
  auto actions = h_.actions().actions();
  ASSERT_EQ(actions.size(), 4u);
  EXPECT_EQ(actions[1].what, "set_language");
  EXPECT_EQ(actions[1].argument, "hi-IN");
}

TEST_F(call_tools, set_language_refuses_a_language_outside_the_list) {
  auto a = h_.call("set_language", R"({"language":"fr-FR"})");
  EXPECT_FALSE(a.result.ok);
  EXPECT_EQ(output_of(a.result), (json{{"error", "invalid_arguments"},
                                       {"message", "language must be one of en-IN, hi-IN, bho-IN, bn-IN"},
                                       {"field", "language"}}));
  auto missing = h_.call("set_language", "{}");
  EXPECT_EQ(output_of(missing.result)["message"], "language is required");
  EXPECT_TRUE(h_.actions().actions().empty());
}

TEST_F(call_tools, reason_of_the_wrong_type_is_refused) {
  auto a = h_.call("end_call", R"({"reason":42})");
  EXPECT_EQ(output_of(a.result)["field"], "reason");
  EXPECT_TRUE(h_.actions().actions().empty());
}

}  // namespace
