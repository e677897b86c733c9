// chan_websocket control messages: every text message Asterisk sent in the two captured
// calls ($NPCL_FIXTURES/asterisk/call-websocket-*/websocket-media.log) parses, and the
// commands we format are the ones Asterisk accepted there.
#include "npcl/media/websocket_control.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <fstream>

namespace npcl::media {
namespace {

struct logged_message {
  bool from_asterisk = false;  // RX (else TX: what the capture script sent)
  std::string text;            // the message as sent
};

// The text messages of one capture log: lines "<t> RX TEXT <msg>" / "<t> TX TEXT <msg>".
std::vector<logged_message> text_messages(const std::string& call) {
  const char* dir = std::getenv("NPCL_FIXTURES");
  std::vector<logged_message> out;
  if (!dir) {
    ADD_FAILURE() << "NPCL_FIXTURES is not set";
    return out;
  }
  std::ifstream in(std::string(dir) + "/asterisk/" + call + "/websocket-media.log");
  if (!in) ADD_FAILURE() << "cannot open the websocket-media.log of " << call;
  for (std::string line; std::getline(in, line);) {
    for (const char* tag : {" RX TEXT ", " TX TEXT "}) {
      auto pos = line.find(tag);
      if (pos != std::string::npos) out.push_back({tag[1] == 'R', line.substr(pos + 9)});
    }
  }
  return out;
}

std::vector<control_event> parsed_events(const std::string& call) {
  std::vector<control_event> out;
  for (const auto& m : text_messages(call)) {
    if (!m.from_asterisk) continue;
    std::string why;
    auto ev = parse_control_event(m.text, &why);
    EXPECT_TRUE(ev) << m.text << ": " << why;
    if (ev) {
      EXPECT_NE(ev->kind, control_event_kind::unknown) << m.text;
      out.push_back(*ev);
    }
  }
  return out;
}

TEST(websocket_control, every_event_of_the_plain_text_capture_parses) {
  auto events = parsed_events("call-websocket-server-ulaw");
  ASSERT_EQ(events.size(), 10u);

  const auto& start = events[0];
  EXPECT_EQ(start.kind, control_event_kind::media_start);
  EXPECT_EQ(start.format, control_format::plain);
  EXPECT_EQ(start.connection_id, "85427224-c654-4a8e-9a2b-4e6ff2fec3c0");
  EXPECT_EQ(start.channel, "WebSocket/INCOMING/0x7f1d48006a20");
  EXPECT_EQ(start.channel_id, "1795506995.25");
  EXPECT_EQ(start.media_format, "ulaw");
  EXPECT_EQ(start.optimal_frame_size, 160);
  EXPECT_EQ(start.ptime_ms, 20);

  const auto& status = events[1];
  EXPECT_EQ(status.kind, control_event_kind::status);
  EXPECT_EQ(status.queue_length, 0);
  EXPECT_EQ(status.xon_level, 800);
  EXPECT_EQ(status.xoff_level, 900);
  EXPECT_FALSE(status.queue_full);
  EXPECT_EQ(events[3].kind, control_event_kind::status);
  EXPECT_EQ(events[3].queue_length, 200);

  std::string digits;
  for (const auto& e : events)
    if (e.kind == control_event_kind::dtmf_end) {
      digits += e.digit;
      EXPECT_EQ(e.channel_id, "1795506995.25");
    }
  EXPECT_EQ(digits, "712");

  EXPECT_EQ(events[6].kind, control_event_kind::media_buffering_completed);
  EXPECT_EQ(events[6].correlation_id, "bulk-1");
  EXPECT_EQ(events[7].kind, control_event_kind::media_mark_processed);
  EXPECT_EQ(events[7].correlation_id, "mark-1");
  EXPECT_EQ(events[8].kind, control_event_kind::queue_drained);
}

TEST(websocket_control, every_event_of_the_json_capture_parses) {
  auto events = parsed_events("call-websocket-client-slin16-json");
  ASSERT_EQ(events.size(), 10u);

  const auto& start = events[0];
  EXPECT_EQ(start.kind, control_event_kind::media_start);
  EXPECT_EQ(start.format, control_format::json);
  EXPECT_EQ(start.connection_id, "media_client");
  EXPECT_EQ(start.channel_id, "1795507035.28");
  EXPECT_EQ(start.media_format, "slin16");
  EXPECT_EQ(start.optimal_frame_size, 640);
  EXPECT_EQ(start.ptime_ms, 20);
  EXPECT_EQ(start.channel_variables.at("MEDIA_WEBSOCKET_OPTIMAL_FRAME_SIZE"), "640");

  EXPECT_EQ(events[3].kind, control_event_kind::status);
  EXPECT_EQ(events[3].queue_length, 200);
  std::string digits;
  for (const auto& e : events)
    if (e.kind == control_event_kind::dtmf_end) digits += e.digit;
  EXPECT_EQ(digits, "712");
  EXPECT_EQ(events[6].correlation_id, "bulk-1");
  EXPECT_EQ(events[7].kind, control_event_kind::media_mark_processed);
  EXPECT_EQ(events[7].correlation_id, "mark-1");
  EXPECT_EQ(events[8].kind, control_event_kind::queue_drained);
}

// The capture script's commands are what Asterisk accepted; ours must say the same.
std::optional<std::string> as_ours(const std::string& sent, control_format format) {
  std::string name = sent, argument;
  if (format == control_format::json) {
    auto j = nlohmann::json::parse(sent);
    name = j.at("command").get<std::string>();
    argument = j.value("correlation_id", "");
  } else if (auto space = sent.find(' '); space != std::string::npos) {
    name = sent.substr(0, space);
    argument = sent.substr(space + 1);
  }
  for (auto kind : {control_command_kind::get_status, control_command_kind::start_media_buffering,
                    control_command_kind::stop_media_buffering, control_command_kind::mark_media,
                    control_command_kind::report_queue_drained, control_command_kind::hangup})
    if (control_command_name(kind) == name) return format_control_command(kind, format, argument);
  return std::nullopt;
}

TEST(websocket_control, commands_match_what_asterisk_accepted_in_plain_text) {
  int compared = 0;
  for (const auto& m : text_messages("call-websocket-server-ulaw")) {
    if (m.from_asterisk) continue;
    EXPECT_EQ(as_ours(m.text, control_format::plain), m.text);
    ++compared;
  }
  EXPECT_EQ(compared, 7);
}

TEST(websocket_control, commands_match_what_asterisk_accepted_in_json) {
  int compared = 0;
  for (const auto& m : text_messages("call-websocket-client-slin16-json")) {
    if (m.from_asterisk) continue;
    auto ours = as_ours(m.text, control_format::json);
    ASSERT_TRUE(ours) << m.text;
    EXPECT_EQ(nlohmann::json::parse(*ours), nlohmann::json::parse(m.text));
    ++compared;
  }
  EXPECT_EQ(compared, 8);
}

TEST(websocket_control, formats_barge_in_and_mark_commands_both_ways) {
  EXPECT_EQ(format_control_command(control_command_kind::flush_media, control_format::plain), "FLUSH_MEDIA");
  EXPECT_EQ(format_control_command(control_command_kind::flush_media, control_format::json),
            R"({"command":"FLUSH_MEDIA"})");
  EXPECT_EQ(format_control_command(control_command_kind::mark_media, control_format::plain, "item_7:120"),
            "MARK_MEDIA item_7:120");
  EXPECT_EQ(format_control_command(control_command_kind::mark_media, control_format::json, "m1"),
            R"({"command":"MARK_MEDIA","correlation_id":"m1"})");
  EXPECT_EQ(format_control_command(control_command_kind::stop_media_buffering, control_format::plain),
            "STOP_MEDIA_BUFFERING");
}

TEST(websocket_control, refuses_commands_asterisk_would_misread_or_ignore) {
  EXPECT_FALSE(format_control_command(control_command_kind::mark_media, control_format::plain));
  EXPECT_FALSE(format_control_command(control_command_kind::mark_media, control_format::plain, "two words"));
  EXPECT_FALSE(format_control_command(control_command_kind::mark_media, control_format::json, "a\"b"));
  EXPECT_FALSE(format_control_command(control_command_kind::get_status, control_format::plain, "x"));
  EXPECT_FALSE(format_control_command(control_command_kind::mark_media, control_format::plain,
                                      std::string(130, 'a')));  // over Asterisk's 128 bytes
}

TEST(websocket_control, plain_error_text_runs_to_the_end_and_old_versions_lack_channel_id) {
  auto err = parse_control_event("ERROR channel_id:wsA error_text:Unable to parse JSON command");
  ASSERT_TRUE(err);
  EXPECT_EQ(err->kind, control_event_kind::error);
  EXPECT_EQ(err->channel_id, "wsA");
  EXPECT_EQ(err->error_text, "Unable to parse JSON command");

  auto old = parse_control_event(
      "MEDIA_START connection_id:abc channel:WebSocket/INCOMING/0x1 format:slin16 optimal_frame_size:640 ptime:20");
  ASSERT_TRUE(old);
  EXPECT_EQ(old->channel_id, "");
  EXPECT_EQ(old->optimal_frame_size, 640);

  auto dtmf = parse_control_event("DTMF_END digit:#");
  ASSERT_TRUE(dtmf);
  EXPECT_EQ(dtmf->digit, '#');
}

TEST(websocket_control, unknown_events_and_keys_are_ignored) {
  auto future = parse_control_event("MEDIA_SOMETHING_NEW foo:bar");
  ASSERT_TRUE(future);
  EXPECT_EQ(future->kind, control_event_kind::unknown);
  EXPECT_EQ(future->name, "MEDIA_SOMETHING_NEW");

  auto extra = parse_control_event(R"({"event":"MEDIA_XOFF","channel_id":"wsA","new_key":[1,2],"more":{"a":1}})");
  ASSERT_TRUE(extra);
  EXPECT_EQ(extra->kind, control_event_kind::media_xoff);
  EXPECT_EQ(extra->channel_id, "wsA");

  auto plain_extra = parse_control_event("MEDIA_XON channel_id:wsA shiny:1 loose");
  ASSERT_TRUE(plain_extra);
  EXPECT_EQ(plain_extra->kind, control_event_kind::media_xon);
}

TEST(websocket_control, malformed_messages_are_rejected_with_a_reason) {
  for (const char* bad : {"", "   ", "{\"event\":", "[1,2]", R"({"channel_id":"wsA"})", R"({"event":5})",
                          "MEDIA_START optimal_frame_size:abc", "MEDIA_START optimal_frame_size:-160",
                          R"({"event":"MEDIA_START","optimal_frame_size":1.5})",
                          R"({"event":"MEDIA_START","channel_variables":"x"})", "DTMF_END digit:X",
                          R"({"event":"DTMF_END","digit":"12"})", "STATUS queue_full:maybe"}) {
    std::string why;
    EXPECT_FALSE(parse_control_event(bad, &why)) << bad;
    EXPECT_FALSE(why.empty()) << bad;
  }
}

}  // namespace
}  // namespace npcl::media
