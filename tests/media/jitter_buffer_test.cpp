// Event-driven jitter buffer: what the caller's audio looks like after
// reordering, loss, duplicates, sequence wrap and a restarted source.
#include "npcl/media/jitter_buffer.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace npcl::media {
namespace {

using namespace std::chrono_literals;
using clock = jitter_buffer::clock;
constexpr std::size_t samples = 160;  // 20 ms at 8 kHz
constexpr std::int16_t loud = 8000;   // amplitude of the test frames

// A frame whose samples all carry the packet's sequence number, so the order
// of the output can be read back from the audio itself.
audio::frame tagged(std::uint16_t seq) {
  return audio::frame{std::vector<std::int16_t>(samples, static_cast<std::int16_t>(loud + seq % 1000)), 8000};
}

std::int16_t tag_of(std::uint16_t seq) { return static_cast<std::int16_t>(loud + seq % 1000); }

// The first concealment of a loss after packet `seq`: its frame at half amplitude.
std::int16_t halved(std::uint16_t seq) { return static_cast<std::int16_t>(tag_of(seq) / 2); }

class jitter_buffer_test : public testing::Test {
 protected:
  // Pushes packet `seq` of stream `ssrc` arriving at `t0_ + seq_time × 20 ms`,
  // with a timestamp that matches that slot; returns what came out.
  std::vector<audio::frame> push(std::uint16_t seq, std::uint32_t ssrc = 0x1234, int slot = -1) {
    rtp_packet h;
    h.sequence = seq;
    h.ssrc = ssrc;
    const int at = slot >= 0 ? slot : pushed_;
    h.timestamp = 160u + static_cast<std::uint32_t>(at) * samples;
    ++pushed_;
    std::vector<audio::frame> out;
    jb_.push(h, tagged(seq), t0_ + at * 20ms, out);
    return out;
  }
  // The tag of each released frame (0 for silence).
  static std::vector<std::int16_t> tags(const std::vector<audio::frame>& frames) {
    std::vector<std::int16_t> t;
    for (const auto& f : frames) t.push_back(f.samples.empty() ? -1 : f.samples.front());
    return t;
  }

  jitter_buffer jb_;
  clock::time_point t0_ = clock::now();
  int pushed_ = 0;
};

TEST_F(jitter_buffer_test, packets_in_order_come_out_at_once) {
  for (std::uint16_t s = 100; s < 110; ++s) {
    auto out = push(s);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0], tagged(s));
    EXPECT_EQ(jb_.held(), 0u);
  }
  auto st = jb_.stats();
  EXPECT_EQ(st.lost + st.reordered + st.duplicated + st.late + st.ssrc_changes, 0u);
}

TEST_F(jitter_buffer_test, a_packet_overtaken_within_the_depth_is_put_back_in_order) {
  EXPECT_EQ(tags(push(10)), (std::vector<std::int16_t>{tag_of(10)}));
  EXPECT_TRUE(push(12).empty()) << "12 waits for 11";
  EXPECT_TRUE(push(13).empty());
  EXPECT_EQ(tags(push(11)), (std::vector<std::int16_t>{tag_of(11), tag_of(12), tag_of(13)}));
  EXPECT_EQ(jb_.stats().reordered, 1u);
  EXPECT_EQ(jb_.stats().lost, 0u);
}

TEST_F(jitter_buffer_test, a_missing_packet_is_concealed_once_depth_packets_wait_and_its_late_copy_dropped) {
  push(1);
  EXPECT_TRUE(push(3).empty());
  EXPECT_TRUE(push(4).empty());
  EXPECT_TRUE(push(5).empty()) << "three packets (the default depth) may wait";
  auto out = push(6);
  ASSERT_EQ(out.size(), 5u) << "2 concealed, then 3..6";
  // The gap is filled with the previous frame at half amplitude.
  EXPECT_EQ(out[0].samples.size(), samples);
  EXPECT_EQ(out[0].samples.front(), tag_of(1) / 2);
  EXPECT_EQ(tags({out.begin() + 1, out.end()}),
            (std::vector<std::int16_t>{tag_of(3), tag_of(4), tag_of(5), tag_of(6)}));
  EXPECT_EQ(jb_.stats().lost, 1u);
  EXPECT_TRUE(push(2).empty()) << "its slot was already played";
  EXPECT_EQ(jb_.stats().late, 1u);
}

TEST_F(jitter_buffer_test, a_burst_of_losses_fades_to_silence_and_keeps_time) {
  jitter_buffer shallow(0);  // every gap is loss at once
  std::vector<audio::frame> out;
  rtp_packet h;
  h.sequence = 1;
  shallow.push(h, tagged(1), t0_, out);
  h.sequence = 6;
  shallow.push(h, tagged(6), t0_ + 100ms, out);
  ASSERT_EQ(out.size(), 6u) << "one frame per sequence number: time is kept";
  EXPECT_EQ(out[1].samples.front(), tag_of(1) / 2);
  EXPECT_EQ(out[2].samples.front(), tag_of(1) / 4);
  EXPECT_EQ(out[3].samples.front(), 0);
  EXPECT_EQ(out[4].samples.front(), 0);
  EXPECT_EQ(out[5], tagged(6));
  EXPECT_EQ(shallow.stats().lost, 4u);
}

TEST_F(jitter_buffer_test, duplicates_of_played_and_of_waiting_packets_are_dropped) {
  push(1);
  EXPECT_TRUE(push(1).empty());
  push(3);
  EXPECT_TRUE(push(3).empty());
  EXPECT_EQ(jb_.stats().duplicated, 2u);
  EXPECT_EQ(tags(push(2)), (std::vector<std::int16_t>{tag_of(2), tag_of(3)}));
}

TEST_F(jitter_buffer_test, sequence_numbers_wrap_from_65535_to_0) {
  std::vector<std::int16_t> got;
  for (std::uint16_t s : {65533, 65534, 65535, 1, 0, 2}) {
    for (auto t : tags(push(s))) got.push_back(t);
  }
  EXPECT_EQ(got, (std::vector<std::int16_t>{tag_of(65533), tag_of(65534), tag_of(65535), tag_of(0), tag_of(1),
                                             tag_of(2)}));
  EXPECT_EQ(jb_.stats().lost, 0u);
  EXPECT_EQ(jb_.stats().reordered, 1u);
}

TEST_F(jitter_buffer_test, a_new_ssrc_restarts_the_stream_without_counting_loss) {
  push(100);
  push(101);
  EXPECT_TRUE(push(103).empty()) << "held behind the gap at 102";
  auto out = push(7000, 0x9999);
  // The old stream's held packet is played (its gap concealed) before the new one.
  EXPECT_EQ(tags(out), (std::vector<std::int16_t>{halved(101), tag_of(103), tag_of(7000)}));
  EXPECT_EQ(tags(push(7001, 0x9999)), (std::vector<std::int16_t>{tag_of(7001)}));
  EXPECT_EQ(jb_.stats().ssrc_changes, 1u);
  EXPECT_EQ(jb_.stats().lost, 1u) << "only 102 of the old stream";
}

TEST_F(jitter_buffer_test, a_timestamp_jump_with_consecutive_sequence_numbers_is_a_pause_not_loss) {
  push(500, 0x1234, 0);
  push(501, 0x1234, 1);
  auto out = push(502, 0x1234, 101);  // 2 s later, timestamp +16000
  EXPECT_EQ(tags(out), (std::vector<std::int16_t>{tag_of(502)}));
  EXPECT_EQ(jb_.stats().lost, 0u);
}

TEST_F(jitter_buffer_test, held_packets_are_released_when_their_wait_runs_out_even_if_nothing_else_arrives) {
  push(1, 0x1234, 0);
  EXPECT_TRUE(push(3, 0x1234, 2).empty());
  auto deadline = jb_.hold_deadline();
  ASSERT_TRUE(deadline);
  EXPECT_EQ(*deadline, t0_ + 2 * 20ms + jitter_buffer::default_depth * 20ms);
  std::vector<audio::frame> out;
  jb_.expire(*deadline - 1ms, out);
  EXPECT_TRUE(out.empty());
  jb_.expire(*deadline, out);
  EXPECT_EQ(tags(out), (std::vector<std::int16_t>{halved(1), tag_of(3)}));
  EXPECT_FALSE(jb_.hold_deadline());
  EXPECT_EQ(jb_.stats().lost, 1u);
}

TEST_F(jitter_buffer_test, a_jump_far_ahead_is_a_renumbered_stream_not_a_second_of_concealment) {
  push(10);
  auto out = push(static_cast<std::uint16_t>(10 + jitter_buffer::max_gap + 40));
  EXPECT_EQ(out.size(), 1u);
  EXPECT_EQ(jb_.stats().lost, 0u);
}

TEST_F(jitter_buffer_test, jitter_estimate_is_zero_for_a_steady_stream_and_follows_arrival_variation) {
  for (std::uint16_t s = 0; s < 50; ++s) push(s);
  EXPECT_NEAR(jb_.stats().jitter_ms, 0.0, 0.01);
  // Arrivals alternately 10 ms early and on time: every transit difference is
  // 10 ms, so the RFC 3550 estimate converges on 10 ms.
  jitter_buffer jb;
  std::vector<audio::frame> out;
  for (std::uint16_t s = 0; s < 200; ++s) {
    rtp_packet h;
    h.sequence = s;
    h.timestamp = s * 160u;
    jb.push(h, tagged(s), t0_ + s * 20ms - (s % 2 ? 10ms : 0ms), out);
  }
  EXPECT_NEAR(jb.stats().jitter_ms, 10.0, 0.1);
}

}  // namespace
}  // namespace npcl::media
