// Each kind of schema violation is refused with an output the model can act on: the
// "invalid_arguments" error, a message saying what is wrong, and the field it is about.
#include <gtest/gtest.h>

#include <atomic>
#include <string>

#include "tools/tool_harness.hpp"

namespace {

using npcl::test::output_of;
using npcl::test::tool_harness;
using npcl::tools::call_actions;
using npcl::tools::tool_ok;
using json = nlohmann::json;

constexpr const char* complaint_schema = R"({
  "type": "object",
  "properties": {
    "account": {"type": "string", "pattern": "^[0-9]{10}$", "maxLength": 10,
                "description": "the 10-digit consumer number"},
    "category": {"type": "string", "enum": ["no_supply", "billing", "meter"]},
    "details": {"type": "string", "minLength": 5, "maxLength": 200},
    "units": {"type": "integer", "minimum": 1, "maximum": 100},
    "contact": {
      "type": "object",
      "properties": {"phone": {"type": "string", "pattern": "^[6-9][0-9]{9}$", "maxLength": 10}},
      "required": ["phone"]
    },
    "readings": {"type": "array", "items": {"type": "integer"}}
  },
  "required": ["account", "category"],
  "additionalProperties": false
})";

struct violation_case {
  const char* label;
  json arguments;
  const char* field;
  const char* message;
};

class schema_violation : public testing::TestWithParam<violation_case> {};

json valid_with(json extra) {
  json args{{"account", "0123456789"}, {"category", "billing"}};
  args.update(extra);
  return args;
}

TEST_P(schema_violation, is_refused_naming_the_field) {
  const auto& c = GetParam();
  tool_harness h;
  std::atomic<int> runs{0};
  h.tools().add("register_complaint", "Register a complaint.", complaint_schema,
                [&](const std::string&, call_actions&) { ++runs; return tool_ok(R"({"ticket":"T1"})"); }, true);
  auto a = h.call("register_complaint", c.arguments.dump());
  EXPECT_FALSE(a.result.ok);
  EXPECT_EQ(a.result.error_code, "invalid_arguments");
  auto out = output_of(a.result);
  EXPECT_EQ(out["error"], "invalid_arguments");
  EXPECT_EQ(out.value("field", ""), c.field) << out;
  EXPECT_EQ(out.value("message", ""), c.message) << out;
  EXPECT_EQ(runs.load(), 0);
  EXPECT_EQ(h.calls("register_complaint", "invalid"), 1u);
}

INSTANTIATE_TEST_SUITE_P(
    kinds, schema_violation,
    testing::Values(
        violation_case{"missing_required", json{{"category", "billing"}}, "account", "account is required"},
        violation_case{"wrong_type", valid_with({{"account", 123456789}}), "account", "account must be a string"},
        violation_case{"integer_given_a_fraction", valid_with({{"units", 1.5}}), "units", "units must be a whole number"},
        violation_case{"not_in_enum", valid_with({{"category", "gas"}}), "category",
                       "category must be one of no_supply, billing, meter"},
        violation_case{"pattern", valid_with({{"account", "12345abcde"}}), "account",
                       "account is not in the expected format (the 10-digit consumer number)"},
        violation_case{"too_short", valid_with({{"details", "hi"}}), "details", "details must be at least 5 characters"},
        violation_case{"too_long", valid_with({{"details", std::string(201, 'x')}}), "details",
                       "details must be at most 200 characters"},
        violation_case{"below_minimum", valid_with({{"units", 0}}), "units", "units must be at least 1"},
        violation_case{"above_maximum", valid_with({{"units", 101}}), "units", "units must be at most 100"},
        violation_case{"nested_required", valid_with({{"contact", json::object()}}), "contact.phone",
                       "contact.phone is required"},
        violation_case{"nested_pattern", valid_with({{"contact", {{"phone", "1234567890"}}}}), "contact.phone",
                       "contact.phone is not in the expected format (pattern ^[6-9][0-9]{9}$)"},
        violation_case{"array_item_type", valid_with({{"readings", {1, "two"}}}), "readings[1]",
                       "readings[1] must be a whole number"},
        violation_case{"unexpected_argument", valid_with({{"colour", "red"}}), "colour",
                       "colour is not an argument of this tool"},
        // Far longer than maxLength: reported as too long, and never handed to std::regex whole.
        violation_case{"huge_string_in_pattern_field", valid_with({{"account", std::string(15000, '1')}}), "account",
                       "account must be at most 10 characters"}),
    [](const testing::TestParamInfo<violation_case>& info) { return info.param.label; });

TEST(schema_validation, valid_arguments_reach_the_handler_unchanged) {
  tool_harness h;
  std::string seen;
  h.tools().add("register_complaint", "Register a complaint.", complaint_schema,
                [&](const std::string& args, call_actions&) { seen = args; return tool_ok(R"({"ticket":"T1"})"); },
                false);
  const json args = valid_with({{"details", "no power since noon"}, {"units", 3}, {"contact", {{"phone", "9876543210"}}},
                                {"readings", {1, 2}}});
  auto a = h.call("register_complaint", args.dump());
  EXPECT_TRUE(a.result.ok) << a.result.output_json;
  EXPECT_EQ(json::parse(seen), args);
}

TEST(schema_validation, backtracking_pattern_on_hostile_input_is_refused_without_crashing) {
  tool_harness h;
  // (a|b)* makes std::regex recurse per character; 15000 of them would overflow the stack.
  h.tools().add("word", "Word.",
                R"({"type":"object","properties":{"w":{"type":"string","pattern":"^(a|b)*$","maxLength":256}}})",
                [](const std::string&, call_actions&) { return tool_ok("{}"); }, false);
  auto a = h.call("word", json{{"w", std::string(15000, 'a')}}.dump());
  EXPECT_EQ(a.result.error_code, "invalid_arguments");
  EXPECT_EQ(output_of(a.result)["message"], "w must be at most 256 characters");
  EXPECT_TRUE(h.call("word", json{{"w", std::string(256, 'a')}}.dump()).result.ok);
}

}  // namespace
