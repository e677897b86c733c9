// RTP header parsing and building: fields, payload bounds, every reject
// reason, and random input that must never be read out of bounds.
#include "npcl/media/rtp_packet.hpp"

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace npcl::media {
namespace {

std::vector<std::uint8_t> built(const rtp_packet& p) {
  std::vector<std::uint8_t> out(rtp_packet::header_size + p.payload.size());
  EXPECT_EQ(p.build(out), out.size());
  return out;
}

TEST(rtp_packet, build_then_parse_gives_back_every_field_and_the_payload) {
  const std::vector<std::uint8_t> audio = {1, 2, 3, 4, 5};
  rtp_packet p;
  p.marker = true;
  p.payload_type = 118;
  p.sequence = 0xfffe;
  p.timestamp = 0x80000001u;
  p.ssrc = 0x571c4f76u;
  p.payload = audio;
  const auto wire = built(p);
  EXPECT_EQ(wire[0], 0x80) << "V=2, no padding, extension or CSRC";
  EXPECT_EQ(wire[1], 0x80 | 118);
  auto back = rtp_packet::parse(wire);
  ASSERT_TRUE(back);
  EXPECT_TRUE(back->marker);
  EXPECT_EQ(back->payload_type, 118);
  EXPECT_EQ(back->sequence, 0xfffe);
  EXPECT_EQ(back->timestamp, 0x80000001u);
  EXPECT_EQ(back->ssrc, 0x571c4f76u);
  EXPECT_EQ(std::vector<std::uint8_t>(back->payload.begin(), back->payload.end()), audio);
}

TEST(rtp_packet, parses_the_captured_first_packet_from_asterisk) {
  // asterisk-media.md §1.2: 80 00 0e aa 00 00 13 88 57 1c 4f 76 | 00 01 02
  const std::vector<std::uint8_t> wire = {0x80, 0x00, 0x0e, 0xaa, 0x00, 0x00, 0x13, 0x88,
                                          0x57, 0x1c, 0x4f, 0x76, 0x00, 0x01, 0x02};
  auto p = rtp_packet::parse(wire);
  ASSERT_TRUE(p);
  EXPECT_FALSE(p->marker);
  EXPECT_EQ(p->payload_type, 0);
  EXPECT_EQ(p->sequence, 0x0eaa);
  EXPECT_EQ(p->timestamp, 5000u);
  EXPECT_EQ(p->ssrc, 0x571c4f76u);
  EXPECT_EQ(p->payload.size(), 3u);
}

TEST(rtp_packet, build_refuses_a_buffer_too_small_and_writes_nothing) {
  const std::vector<std::uint8_t> audio(160, 0xff);
  rtp_packet p;
  p.payload = audio;
  std::vector<std::uint8_t> out(171, 0x11);
  EXPECT_EQ(p.build(out), 0u);
  EXPECT_EQ(out[0], 0x11);
}

TEST(rtp_packet, skips_csrcs_extension_and_padding) {
  std::vector<std::uint8_t> wire = {0xa2, 0x08, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3};  // P=1, CC=2
  wire[0] |= 0x10;                                                           // X=1
  for (int i = 0; i < 8; ++i) wire.push_back(0xcc);                          // two CSRCs
  for (std::uint8_t b : {0xbe, 0xde, 0x00, 0x01}) wire.push_back(b);         // extension: 1 word
  for (int i = 0; i < 4; ++i) wire.push_back(0xee);
  for (std::uint8_t b : {7, 8, 9}) wire.push_back(b);                        // payload
  for (std::uint8_t b : {0, 0, 3}) wire.push_back(b);                        // 3 bytes of padding
  auto p = rtp_packet::parse(wire);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->payload_type, 8);
  EXPECT_EQ(std::vector<std::uint8_t>(p->payload.begin(), p->payload.end()), (std::vector<std::uint8_t>{7, 8, 9}));
}

struct reject_case {
  const char* name;                  // what is wrong
  std::vector<std::uint8_t> wire;    // the datagram
  rtp_reject expected;               // the reason parse must give
};

TEST(rtp_packet, rejects_each_kind_of_malformed_datagram_with_its_reason) {
  const std::vector<std::uint8_t> header = {0x80, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1};
  auto with = [&](std::uint8_t byte0, std::vector<std::uint8_t> tail) {
    auto w = header;
    w[0] = byte0;
    w.insert(w.end(), tail.begin(), tail.end());
    return w;
  };
  const std::vector<reject_case> cases = {
      {"empty", {}, rtp_reject::too_short},
      {"11 bytes", std::vector<std::uint8_t>(header.begin(), header.end() - 1), rtp_reject::too_short},
      {"version 1", with(0x40, {1, 2}), rtp_reject::bad_version},
      {"version 3", with(0xc0, {1, 2}), rtp_reject::bad_version},
      {"15 CSRCs in 4 bytes", with(0x8f, {1, 2, 3, 4}), rtp_reject::truncated_csrc},
      {"extension without its preamble", with(0x90, {0xbe, 0xde}), rtp_reject::truncated_extension},
      {"extension longer than the packet", with(0x90, {0xbe, 0xde, 0x00, 0x10, 1, 2, 3, 4}),
       rtp_reject::truncated_extension},
      {"padding count 0", with(0xa0, {1, 2, 0}), rtp_reject::bad_padding},
      {"padding past the header", with(0xa0, {1, 2, 4}), rtp_reject::bad_padding},
  };
  for (const auto& c : cases) {
    rtp_reject why{};
    EXPECT_FALSE(rtp_packet::parse(c.wire, &why)) << c.name;
    EXPECT_EQ(why, c.expected) << c.name << ": " << to_string(why);
  }
}

TEST(rtp_packet, random_datagrams_are_either_rejected_or_give_a_payload_inside_the_datagram) {
  std::mt19937 rng(20261124);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<std::size_t> length(0, 96);
  int accepted = 0;
  int rejected = 0;
  constexpr int total = 5000;
  for (int i = 0; i < total; ++i) {
    std::vector<std::uint8_t> wire(length(rng));
    for (auto& b : wire) b = static_cast<std::uint8_t>(byte(rng));
    // Half of them look like version 2 so the deeper checks are reached.
    if (i % 2 == 0 && !wire.empty()) wire[0] = static_cast<std::uint8_t>(0x80 | (wire[0] & 0x3f));
    rtp_reject why{};
    auto p = rtp_packet::parse(wire, &why);
    if (!p) {
      ++rejected;
      continue;
    }
    ++accepted;
    ASSERT_GE(p->payload.data(), wire.data() + rtp_packet::header_size);
    ASSERT_LE(p->payload.data() + p->payload.size(), wire.data() + wire.size());
  }
  EXPECT_EQ(accepted + rejected, total);
  EXPECT_GT(accepted, 0) << "the generator never reached a valid packet";
  EXPECT_GT(rejected, 0);
}

}  // namespace
}  // namespace npcl::media
