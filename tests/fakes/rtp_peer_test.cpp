// The RTP peer plays Asterisk's side as captured: stream shape, real-time
// pacing, seeded faults, and dropping what Asterisk would not play.
#include "fakes/rtp_peer.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "npcl/audio/g711.hpp"
#include "npcl/audio/wav.hpp"

namespace npcl::fakes {
namespace {

using namespace std::chrono_literals;

std::vector<std::int16_t> ramp(std::size_t n) {
  std::vector<std::int16_t> x(n);
  for (std::size_t i = 0; i < n; ++i) x[i] = static_cast<std::int16_t>((static_cast<int>(i) * 97) % 20000 - 10000);
  return x;
}

TEST(rtp_peer, sends_a_stream_shaped_like_asterisks_at_real_time_pace) {
  rtp_peer asterisk;
  rtp_peer daemon;
  asterisk.set_target(daemon.port());
  constexpr std::size_t packets = 10;
  const auto x = ramp(packets * 160 - 67);  // a short last packet, as at the end of a prompt
  const auto started = std::chrono::steady_clock::now();
  asterisk.play(x);
  ASSERT_TRUE(daemon.wait_for_received(packets, 2s));
  const auto got = daemon.received();
  ASSERT_EQ(got.size(), packets);
  EXPECT_EQ(got.front().timestamp, 160u) << "first timestamp is one packet of samples";
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_TRUE(got[i].played);
    EXPECT_EQ(got[i].payload_type, 0);
    EXPECT_FALSE(got[i].marker);
    EXPECT_EQ(got[i].source, "127.0.0.1:" + std::to_string(asterisk.port()));
    EXPECT_EQ(got[i].payload.size(), i + 1 < packets ? 160u : 93u);
    if (i > 0) {
      EXPECT_EQ(static_cast<std::uint16_t>(got[i].sequence - got[i - 1].sequence), 1);
      EXPECT_EQ(got[i].timestamp - got[i - 1].timestamp, 160u);
      EXPECT_EQ(got[i].ssrc, got[0].ssrc);
    }
  }
  // Absolute deadlines: packet k never leaves before k × 20 ms, and a late
  // start is caught up rather than carried into every later packet.
  for (std::size_t k = 0; k < got.size(); ++k) EXPECT_GE(got[k].arrival, started + k * 20ms) << k;
  EXPECT_LT(got.back().arrival, started + (packets - 1) * 20ms + 200ms);
  std::vector<std::uint8_t> wire(x.size());
  audio::ulaw_encode(x, wire);
  std::vector<std::int16_t> want(x.size());
  audio::ulaw_decode(wire, want);
  EXPECT_EQ(daemon.decoded(), want);
  EXPECT_EQ(daemon.inter_arrival_gaps().size(), packets - 1);
}

TEST(rtp_peer, a_second_play_continues_the_stream_after_a_marked_pause) {
  rtp_peer asterisk;
  rtp_peer daemon;
  asterisk.set_target(daemon.port());
  asterisk.play(ramp(3 * 160));
  ASSERT_TRUE(daemon.wait_for_received(3, 2s));
  ASSERT_TRUE(asterisk.wait_for_played(1s));
  const auto paused_at = std::chrono::steady_clock::now();
  asterisk.play(ramp(2 * 160));
  ASSERT_TRUE(daemon.wait_for_received(5, 2s));
  const auto got = daemon.received();
  EXPECT_TRUE(got[3].marker);
  EXPECT_EQ(static_cast<std::uint16_t>(got[3].sequence - got[2].sequence), 1);
  EXPECT_EQ(got[3].ssrc, got[2].ssrc);
  EXPECT_GE(got[3].timestamp - got[2].timestamp, 160u) << "the pause advances the timestamp";
  EXPECT_GT(got[3].arrival, paused_at);
}

TEST(rtp_peer, faults_are_reproducible_from_the_seed) {
  rtp_peer_options o;
  o.loss = 0.2;
  o.reorder = 0.2;
  o.duplicate = 0.2;
  o.ptime = 20ms;
  auto run = [&](std::uint32_t seed) {
    o.seed = seed;
    rtp_peer asterisk(o);
    rtp_peer daemon;
    asterisk.set_target(daemon.port());
    asterisk.play(ramp(30 * 160));
    EXPECT_TRUE(asterisk.wait_for_played(3s));
    std::vector<std::uint16_t> order;
    for (const auto& s : asterisk.sent()) order.push_back(static_cast<std::uint16_t>(s.timestamp / 160));
    return std::make_pair(order, asterisk.lost_on_purpose());
  };
  const auto a = run(5);
  const auto b = run(5);
  const auto c = run(6);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  // Every packet is either sent (once or twice) or counted lost.
  std::vector<std::uint16_t> distinct = a.first;
  std::sort(distinct.begin(), distinct.end());
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  EXPECT_EQ(distinct.size() + a.second, 30u);
  EXPECT_GT(a.first.size(), distinct.size()) << "some duplicates";
  EXPECT_FALSE(std::is_sorted(a.first.begin(), a.first.end())) << "some reordering";
}

TEST(rtp_peer, drops_dynamic_payload_types_as_asterisk_does_and_decodes_the_rest) {
  rtp_peer_options slin16;
  slin16.format = "slin16";
  rtp_peer daemon(slin16);  // sends PT 118 big-endian, as Asterisk does for slin16
  rtp_peer asterisk;
  daemon.set_target(asterisk.port());
  daemon.play(ramp(2 * 320));
  ASSERT_TRUE(asterisk.wait_for_received(2, 2s));
  EXPECT_EQ(asterisk.dropped_dynamic(), 2u);
  for (const auto& p : asterisk.received()) {
    EXPECT_EQ(p.payload_type, 118);
    EXPECT_EQ(p.payload.size(), 640u);
    EXPECT_FALSE(p.played);
  }
  EXPECT_TRUE(asterisk.decoded().empty());
  // PT 11 (8 kHz L16, big-endian) is played.
  std::vector<std::uint8_t> pt11 = {0x80, 11, 0, 1, 0, 0, 0, 160, 0, 0, 0, 1, 0x12, 0x34, 0xfe, 0xdc};
  daemon.send_raw(pt11);
  ASSERT_TRUE(asterisk.wait_for_received(3, 2s));
  EXPECT_EQ(asterisk.decoded(), (std::vector<std::int16_t>{0x1234, static_cast<std::int16_t>(0xfedc)}));
}

TEST(rtp_peer, plays_a_wav_file_only_at_its_own_rate) {
  const auto dir = std::filesystem::temp_directory_path();
  const auto narrow = dir / ("rtp_peer_8k_" + std::to_string(::getpid()) + ".wav");
  const auto wide = dir / ("rtp_peer_16k_" + std::to_string(::getpid()) + ".wav");
  ASSERT_TRUE(audio::write_wav(narrow, 8000, ramp(320)));
  ASSERT_TRUE(audio::write_wav(wide, 16000, ramp(640)));
  rtp_peer asterisk;
  rtp_peer daemon;
  asterisk.set_target(daemon.port());
  EXPECT_FALSE(asterisk.play_wav("/nonexistent.wav"));
  EXPECT_FALSE(asterisk.play_wav(wide)) << "a ulaw stream is 8 kHz";
  EXPECT_TRUE(asterisk.play_wav(narrow));
  EXPECT_TRUE(daemon.wait_for_received(2, 2s));
  std::filesystem::remove(narrow);
  std::filesystem::remove(wide);
}

}  // namespace
}  // namespace npcl::fakes
