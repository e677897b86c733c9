// AudioSocket framing checked against what a real Asterisk sent
// ($NPCL_FIXTURES/asterisk/call-audiosocket-*/audiosocket.log), however TCP
// cuts the bytes, and against malformed input.
#include "npcl/media/audiosocket_framing.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <regex>

#include "npcl/util/ids.hpp"

namespace npcl::media {
namespace {

using bytes = std::vector<std::uint8_t>;

std::string fixtures() {
  const char* dir = std::getenv("NPCL_FIXTURES");
  return dir ? dir : "tests/fixtures";
}

bytes from_hex(const std::string& hex) {
  bytes out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<std::uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return out;
}

// One message as the capture log describes it (audio lines show only the
// first 16 payload bytes; the rest is filled with a counting pattern).
struct logged {
  std::uint8_t kind;
  bytes payload;
};

std::vector<logged> read_capture(const std::string& call) {
  std::ifstream in(fixtures() + "/asterisk/" + call + "/audiosocket.log");
  static const std::regex rx(R"(RX KIND=0x([0-9a-f]{2}) \(\w+\) len=(\d+) (uuid|first16|digit)=(\S+))");
  std::vector<logged> out;
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (!std::regex_search(line, m, rx)) continue;
    logged l{static_cast<std::uint8_t>(std::stoi(m[1], nullptr, 16)), {}};
    const auto len = static_cast<std::size_t>(std::stoul(m[2]));
    const std::string what = m[3], value = m[4];
    if (what == "uuid") {
      unsigned char raw[16];
      EXPECT_TRUE(util::parse_uuid(value, raw)) << value;
      l.payload.assign(raw, raw + 16);
    } else if (what == "digit") {
      l.payload.push_back(static_cast<std::uint8_t>(value.at(2)));  // b'7'
    } else {
      l.payload = from_hex(value);
      for (std::size_t i = l.payload.size(); i < len; ++i) l.payload.push_back(static_cast<std::uint8_t>(i * 7));
    }
    EXPECT_EQ(l.payload.size(), len) << line;
    out.push_back(std::move(l));
  }
  return out;
}

bytes wire_of(const std::vector<logged>& messages) {
  bytes wire;
  for (const auto& m : messages) {
    wire.push_back(m.kind);
    wire.push_back(static_cast<std::uint8_t>(m.payload.size() >> 8));
    wire.push_back(static_cast<std::uint8_t>(m.payload.size() & 0xff));
    wire.insert(wire.end(), m.payload.begin(), m.payload.end());
  }
  return wire;
}

// Feeds `wire` in pieces of `step` bytes, collecting every message.
std::vector<logged> parse_in_steps(const bytes& wire, std::size_t step) {
  audiosocket_parser parser;
  std::vector<logged> out;
  for (std::size_t at = 0; at < wire.size(); at += step) {
    parser.feed(std::span<const std::uint8_t>(wire).subspan(at, std::min(step, wire.size() - at)));
    audiosocket_message m;
    audiosocket_parser::result r;
    while ((r = parser.next(m)) == audiosocket_parser::result::message)
      out.push_back({static_cast<std::uint8_t>(m.kind), bytes(m.payload.begin(), m.payload.end())});
    EXPECT_NE(r, audiosocket_parser::result::malformed) << parser.error();
  }
  EXPECT_TRUE(parser.unparsed().empty());
  return out;
}

void expect_same(const std::vector<logged>& got, const std::vector<logged>& want, std::size_t step) {
  ASSERT_EQ(got.size(), want.size()) << "step " << step;
  for (std::size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(got[i].kind, want[i].kind) << "message " << i << ", step " << step;
    EXPECT_EQ(got[i].payload, want[i].payload) << "message " << i << ", step " << step;
  }
}

class audiosocket_capture : public testing::TestWithParam<const char*> {};

TEST_P(audiosocket_capture, every_message_asterisk_sent_parses_however_tcp_cut_it) {
  const auto want = read_capture(GetParam());
  ASSERT_GE(want.size(), 10u) << "capture not found under " << fixtures();
  EXPECT_EQ(want.front().kind, 0x01);
  const auto wire = wire_of(want);
  for (std::size_t step : {wire.size(), std::size_t{1}, std::size_t{2}, std::size_t{3}, std::size_t{7},
                           std::size_t{641}, std::size_t{1283}})
    expect_same(parse_in_steps(wire, step), want, step);
}

TEST_P(audiosocket_capture, id_message_carries_the_externalmedia_uuid) {
  const auto want = read_capture(GetParam());
  ASSERT_FALSE(want.empty());
  const std::string uuid = std::string(GetParam()) == "call-audiosocket-slin"
                               ? "e42d3f3a-acef-4ecf-a6c1-8994d111655b"
                               : "c0947d6e-3c27-4263-bf7a-0625ee86a77c";
  EXPECT_EQ(audiosocket_uuid_text(want.front().payload), uuid);
}

INSTANTIATE_TEST_SUITE_P(real_asterisk, audiosocket_capture,
                         testing::Values("call-audiosocket-slin", "call-audiosocket-slin16"));

TEST(audiosocket_framing, audio_built_for_asterisk_has_the_captured_header_and_little_endian_samples) {
  // First 16 bytes of a captured slin16 frame: 6d00 f500 6f01 7f01 ...
  const std::vector<std::int16_t> samples16 = {0x006d, 0x00f5, 0x016f, 0x017f, 0x0138, 0x00d0, 0x0044, -119};
  std::vector<std::int16_t> frame(320, 0);
  std::copy(samples16.begin(), samples16.end(), frame.begin());
  bytes wire;
  append_audiosocket_audio(wire, audiosocket_kind::slin16, frame);
  ASSERT_EQ(wire.size(), 3u + 640u);
  EXPECT_EQ(bytes(wire.begin(), wire.begin() + 3), (bytes{0x12, 0x02, 0x80}));
  EXPECT_EQ(bytes(wire.begin() + 3, wire.begin() + 19), from_hex("6d00f5006f017f013801d000440089ff"));

  bytes slin;
  append_audiosocket_audio(slin, audiosocket_kind::slin, std::vector<std::int16_t>(160, -1));
  EXPECT_EQ(bytes(slin.begin(), slin.begin() + 5), (bytes{0x10, 0x01, 0x40, 0xff, 0xff}));

  std::vector<std::int16_t> decoded;
  decode_audiosocket_audio(std::span<const std::uint8_t>(wire).subspan(3), decoded);
  EXPECT_EQ(decoded, frame);
}

TEST(audiosocket_framing, hangup_and_kinds_match_the_protocol) {
  bytes wire;
  append_audiosocket_message(wire, audiosocket_kind::hangup, {});
  EXPECT_EQ(wire, (bytes{0x00, 0x00, 0x00}));
  EXPECT_EQ(audiosocket_audio_rate(audiosocket_kind::slin), 8000);
  EXPECT_EQ(audiosocket_audio_rate(audiosocket_kind::slin16), 16000);
  EXPECT_EQ(audiosocket_audio_rate(audiosocket_kind::slin24), 24000);
  EXPECT_EQ(audiosocket_audio_rate(audiosocket_kind::dtmf), 0);
  EXPECT_EQ(audiosocket_audio_kind(16000), audiosocket_kind::slin16);
  EXPECT_EQ(audiosocket_audio_kind(44100), audiosocket_kind::slin44);
  EXPECT_FALSE(audiosocket_audio_kind(11025).has_value());
}

TEST(audiosocket_framing, short_last_frame_of_a_prompt_is_accepted) {
  bytes wire{0x10, 0x00, 186};
  wire.resize(3 + 186, 0x01);
  audiosocket_parser parser;
  parser.feed(wire);
  audiosocket_message m;
  ASSERT_EQ(parser.next(m), audiosocket_parser::result::message);
  EXPECT_EQ(m.payload.size(), 186u);
  EXPECT_EQ(parser.next(m), audiosocket_parser::result::need_more);
}

struct malformed_case {
  const char* name;
  bytes wire;
  const char* reason;  // a word the rejection must contain
};

class audiosocket_malformed : public testing::TestWithParam<malformed_case> {};

TEST_P(audiosocket_malformed, is_rejected_with_a_reason_as_soon_as_the_header_shows_it) {
  const auto& c = GetParam();
  audiosocket_parser parser;
  // Only the header: a bad message must not wait for a payload that may never come.
  parser.feed(std::span<const std::uint8_t>(c.wire).first(std::min<std::size_t>(3, c.wire.size())));
  audiosocket_message m;
  ASSERT_EQ(parser.next(m), audiosocket_parser::result::malformed) << c.name;
  EXPECT_NE(parser.error().find(c.reason), std::string::npos) << parser.error();
  // Framing is lost for good: valid bytes afterwards do not resynchronise it.
  parser.feed(bytes{0x03, 0x00, 0x01, '5'});
  EXPECT_EQ(parser.next(m), audiosocket_parser::result::malformed);
}

INSTANTIATE_TEST_SUITE_P(
    audiosocket_framing, audiosocket_malformed,
    testing::Values(malformed_case{"unknown_kind", {0x02, 0x00, 0x06, 1, 2, 3, 4, 5, 6}, "unknown kind 0x02"},
                    malformed_case{"text_garbage", {'G', 'E', 'T'}, "unknown kind"},
                    malformed_case{"empty_audio", {0x10, 0x00, 0x00}, "empty audio"},
                    malformed_case{"odd_audio", {0x12, 0x00, 0x03, 1, 2, 3}, "odd length"},
                    malformed_case{"short_id", {0x01, 0x00, 0x0f}, "UUID has 16"},
                    malformed_case{"long_dtmf", {0x03, 0x00, 0x02, '1', '2'}, "one digit"},
                    malformed_case{"hangup_with_payload", {0x00, 0x00, 0x01, 0}, "hangup"},
                    malformed_case{"absurd_length", {0x10, 0xff, 0xfe}, "over the limit"}),
    [](const testing::TestParamInfo<malformed_case>& info) { return std::string(info.param.name); });

TEST(audiosocket_framing, unknown_kind_byte_is_rejected_before_its_length_arrives) {
  audiosocket_parser parser;
  parser.feed(bytes{0x7f});
  audiosocket_message m;
  EXPECT_EQ(parser.next(m), audiosocket_parser::result::malformed);
}

TEST(audiosocket_framing, payload_limit_is_configurable) {
  audiosocket_parser parser(640);
  bytes ok{0x12, 0x02, 0x80};
  ok.resize(3 + 640, 0);
  parser.feed(ok);
  audiosocket_message m;
  EXPECT_EQ(parser.next(m), audiosocket_parser::result::message);
  parser.feed(bytes{0x12, 0x02, 0x82});
  EXPECT_EQ(parser.next(m), audiosocket_parser::result::malformed);
}

}  // namespace
}  // namespace npcl::media
