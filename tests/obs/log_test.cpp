#include "npcl/obs/log.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <regex>
#include <stdexcept>
#include <string>
#include <vector>

#include "obs/text_lines.hpp"

namespace {

using npcl::test::split_lines;
using npcl::obs::log_context;
using npcl::obs::log_format;
using npcl::obs::log_options;

/// Runs `body` with logging configured as given and returns what it wrote to stderr.
template <class F>
std::vector<std::string> captured_lines(log_options options, F body) {
  testing::internal::CaptureStderr();
  npcl::obs::init_logging(options);
  body();
  return split_lines(testing::internal::GetCapturedStderr());
}

const log_context call{"6f1c2a9e-0b7d-4c1e-9a35-2f4b8d0e7c11", "1732435204.42"};

TEST(json_log, one_object_per_line_with_call_ids) {
  auto lines = captured_lines({"info", log_format::json}, [] {
    npcl::obs::log(spdlog::level::info, call, "answered after {} ms", 120);
    spdlog::warn("no call here");
  });
  ASSERT_EQ(lines.size(), 2u);
  const auto first = nlohmann::json::parse(lines[0]);
  EXPECT_EQ(first.at("level"), "info");
  EXPECT_EQ(first.at("msg"), "answered after 120 ms");
  EXPECT_EQ(first.at("call_id"), call.call_id);
  EXPECT_EQ(first.at("channel_id"), call.channel_id);
  EXPECT_TRUE(std::regex_match(first.at("ts").get<std::string>(),
                               std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")))
      << first.at("ts");

  const auto second = nlohmann::json::parse(lines[1]);
  EXPECT_EQ(second.at("level"), "warn");
  EXPECT_EQ(second.at("msg"), "no call here");
  EXPECT_FALSE(second.contains("call_id"));
  EXPECT_FALSE(second.contains("channel_id"));
}

TEST(json_log, hostile_messages_stay_one_valid_object) {
  const std::string hostile = std::string("say \"hi\" \\ then\nfake line\r\t\x01\x1f end ") + "caf\xC3\xA9 " +
                              "\xF0\x9F\x93\x9E " + "bad\xFF\xC0\xAFz " + "\xED\xA0\x80" + "cut\xE2\x82";
  const log_context odd{"id\"with\\quote", "chan\nnl"};
  auto lines = captured_lines({"debug", log_format::json}, [&] {
    npcl::obs::write(spdlog::level::debug, odd, hostile);
  });
  ASSERT_EQ(lines.size(), 1u);
  const auto j = nlohmann::json::parse(lines[0]);
  const std::string fffd = "\xEF\xBF\xBD";
  const std::string expected = std::string("say \"hi\" \\ then\nfake line\r\t\x01\x1f end ") + "caf\xC3\xA9 " +
                               "\xF0\x9F\x93\x9E " + "bad" + fffd + fffd + fffd + "z " + fffd + fffd + fffd +
                               "cut" + fffd + fffd;
  EXPECT_EQ(j.at("msg").get<std::string>(), expected);
  EXPECT_EQ(j.at("call_id"), odd.call_id);
  EXPECT_EQ(j.at("channel_id"), odd.channel_id);
}

TEST(json_log, level_filters_lines) {
  auto lines = captured_lines({"warn", log_format::json}, [] {
    npcl::obs::log(spdlog::level::info, call, "dropped");
    npcl::obs::log(spdlog::level::err, call, "kept");
  });
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(nlohmann::json::parse(lines[0]).at("msg"), "kept");
  EXPECT_EQ(nlohmann::json::parse(lines[0]).at("level"), "error");
}

TEST(text_log, call_lines_carry_ids_and_escape_newlines) {
  auto lines = captured_lines({"info", log_format::text}, [] {
    npcl::obs::log(spdlog::level::info, call, "caller said {}", "hello\nworld");
    spdlog::info("plain");
  });
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_NE(lines[0].find("[call=" + call.call_id + " chan=" + call.channel_id + "] caller said hello\\nworld"),
            std::string::npos)
      << lines[0];
  EXPECT_NE(lines[0].find("info"), std::string::npos) << lines[0];
  EXPECT_TRUE(std::regex_search(lines[0], std::regex(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z )"))) << lines[0];
  EXPECT_EQ(lines[1].find("call="), std::string::npos) << lines[1];
  EXPECT_NE(lines[1].find("plain"), std::string::npos) << lines[1];
}

TEST(logging, unknown_level_is_rejected) {
  EXPECT_THROW(npcl::obs::init_logging({"verbose", log_format::text}), std::invalid_argument);
  EXPECT_THROW(npcl::obs::init_logging({"", log_format::json}), std::invalid_argument);
  EXPECT_NO_THROW(npcl::obs::init_logging({"off", log_format::text}));
}

TEST(redact, replaces_every_secret_occurrence) {
  EXPECT_EQ(npcl::obs::redact("Bearer sk-123 and sk-123 again; pw=hunter2", {"sk-123", "hunter2", ""}),
            "Bearer *** and *** again; pw=***");
  EXPECT_EQ(npcl::obs::redact("nothing secret", {"", "absent"}), "nothing secret");
  // A secret that contains its own replacement must not loop forever.
  EXPECT_EQ(npcl::obs::redact("a*b*", {"*"}), "a***b***");
}

}  // namespace
