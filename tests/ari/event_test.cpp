#include "npcl/ari/event.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <map>

namespace npcl::ari {
namespace {

std::string fixtures() {
  const char* dir = std::getenv("NPCL_FIXTURES");
  return dir ? dir : "tests/fixtures";
}

std::vector<std::string> lines_of(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(line);
  return out;
}

TEST(ari_event, every_captured_event_of_a_real_call_parses) {
  for (const char* call : {"call-rtp-ulaw", "call-rtp-ulaw-gap", "call-audiosocket-slin16",
                           "call-websocket-server-ulaw", "call-rtp-slin16"}) {
    auto lines = lines_of(fixtures() + "/asterisk/" + call + "/events.jsonl");
    ASSERT_FALSE(lines.empty()) << call;
    for (const auto& line : lines) {
      std::string error;
      auto e = parse_event(line, error);
      ASSERT_TRUE(e) << call << ": " << error << "\n" << line;
      EXPECT_EQ(e->application, "openai-voice-assistant");
    }
  }
}

TEST(ari_event, captured_call_yields_the_typed_fields_the_daemon_uses) {
  std::map<event_type, int> seen;
  event start;
  for (const auto& line : lines_of(fixtures() + "/asterisk/call-rtp-ulaw/events.jsonl")) {
    std::string error;
    auto e = parse_event(line, error);
    ASSERT_TRUE(e);
    ++seen[e->type];
    if (e->type == event_type::stasis_start && seen[e->type] == 1) start = *e;
    if (e->type == event_type::channel_dtmf_received) {
      EXPECT_TRUE(e->digit == "1" || e->digit == "2") << e->digit;
      EXPECT_EQ(e->duration_ms, 100);
    }
    if (e->type == event_type::channel_hangup_request && e->soft) EXPECT_EQ(e->cause, 32);
  }
  ASSERT_TRUE(start.chan);
  EXPECT_EQ(start.chan->name.rfind("Local/1000@default-", 0), 0u);
  EXPECT_EQ(start.chan->caller_number, "5551000");
  EXPECT_EQ(start.chan->caller_name, "Held Caller");
  EXPECT_EQ(start.chan->exten, "1000");
  EXPECT_EQ(seen[event_type::stasis_start], 2);  // the caller and our own media channel
  EXPECT_EQ(seen[event_type::stasis_end], 2);
  EXPECT_GE(seen[event_type::channel_dtmf_received], 2);
  EXPECT_GE(seen[event_type::other], 1);  // Dial, ChannelVarset, ... are not ours to act on
}

TEST(ari_event, malformed_or_hostile_input_is_rejected_with_a_reason) {
  const char* bad[] = {
      "",
      "not json",
      "[1,2,3]",
      R"({"channel":{"id":"x"}})",
      R"({"type":"StasisStart"})",
      R"({"type":"StasisStart","channel":"x"})",
      R"({"type":"StasisStart","channel":{"name":"no id"}})",
      R"({"type":"StasisStart","channel":{"id":"x"},"args":"notalist"})",
      R"({"type":"ChannelDtmfReceived","channel":{"id":"x"},"digit":"12"})",
      R"({"type":"ChannelDtmfReceived","channel":{"id":"x"},"digit":"Z"})",
      R"({"type":"ChannelLeftBridge","channel":{"id":"x"}})",
      R"({"type":"PlaybackFinished","playback":{}})",
      R"({"type":42})",
  };
  for (const char* text : bad) {
    std::string error;
    EXPECT_FALSE(parse_event(text, error)) << text;
    EXPECT_FALSE(error.empty()) << text;
  }
}

TEST(ari_event, unknown_types_parse_as_other_and_wrong_field_types_are_ignored) {
  std::string error;
  auto e = parse_event(R"({"type":"BridgeVideoSourceChanged","whatever":[1]})", error);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->type, event_type::other);
  auto h = parse_event(R"({"type":"ChannelHangupRequest","channel":{"id":"c1","caller":7},"cause":"16","soft":"yes"})",
                       error);
  ASSERT_TRUE(h) << error;
  EXPECT_EQ(h->cause, 0);
  EXPECT_FALSE(h->soft);
  EXPECT_EQ(h->chan->caller_number, "");
}

TEST(ari_event, channel_lists_from_rest_replies) {
  std::string error;
  auto list = parse_channel_list(R"([{"id":"a","name":"Local/1000@default-0;2","state":"Up"},{"id":"b"}])", error);
  ASSERT_TRUE(list) << error;
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].state, "Up");
  EXPECT_FALSE(parse_channel_list(R"({"id":"a"})", error));
  EXPECT_FALSE(parse_channel_list(R"([{"name":"x"}])", error));
}

}  // namespace
}  // namespace npcl::ari
