// The per-call RTP endpoint against Asterisk's side: the rtp_peer fake and
// the packets captured from a real Asterisk (../shared/fixtures/asterisk).
#include "npcl/media/rtp_endpoint.hpp"

#include <gtest/gtest.h>

#include <boost/asio/ip/udp.hpp>
#include <boost/asio/post.hpp>

#include <cmath>
#include <condition_variable>
#include <cstdlib>
#include <fstream>
#include <future>
#include <numbers>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "fakes/rtp_peer.hpp"
#include "npcl/audio/g711.hpp"
#include "npcl/media/jitter_buffer.hpp"
#include "npcl/media/rtp_packet.hpp"

namespace npcl::media {
namespace {

using udp = net::ip::udp;
using namespace std::chrono_literals;

std::vector<std::uint8_t> rtp_datagram(std::uint16_t seq, std::size_t payload = 160, std::uint8_t fill = 0xff) {
  std::vector<std::uint8_t> p(12 + payload, fill);
  p[0] = 0x80;
  p[1] = 0x00;
  p[2] = static_cast<std::uint8_t>(seq >> 8);
  p[3] = static_cast<std::uint8_t>(seq);
  for (int i = 4; i < 12; ++i) p[static_cast<std::size_t>(i)] = 0;
  return p;
}

// 440 Hz at −10 dBFS, as the captures' test tone.
std::vector<std::int16_t> tone(int rate_hz, std::size_t count) {
  std::vector<std::int16_t> out(count);
  for (std::size_t n = 0; n < count; ++n) {
    out[n] = static_cast<std::int16_t>(
        std::lround(0.3 * 32767 * std::sin(2 * std::numbers::pi * 440.0 * static_cast<double>(n) / rate_hz)));
  }
  return out;
}

std::vector<std::int16_t> through_ulaw(const std::vector<std::int16_t>& pcm) {
  std::vector<std::uint8_t> wire(pcm.size());
  audio::ulaw_encode(pcm, wire);
  std::vector<std::int16_t> back(pcm.size());
  audio::ulaw_decode(wire, back);
  return back;
}

// Share of the signal's power at `hz` (Goertzel), 1.0 for a pure tone.
double power_share(const std::vector<std::int16_t>& x, int rate_hz, double hz) {
  const double w = 2 * std::numbers::pi * hz / rate_hz;
  double s1 = 0, s2 = 0, energy = 0;
  for (auto v : x) {
    const double s = v + 2 * std::cos(w) * s1 - s2;
    s2 = s1;
    s1 = s;
    energy += static_cast<double>(v) * v;
  }
  const double bin = s1 * s1 + s2 * s2 - 2 * std::cos(w) * s1 * s2;
  return energy > 0 ? 2 * bin / (static_cast<double>(x.size()) * energy) : 0;
}

// mean |Δsample| / mean |sample|: lower when the byte order is right.
double roughness(const std::vector<std::int16_t>& x) {
  double diff = 0, level = 0;
  for (std::size_t i = 1; i < x.size(); ++i) {
    diff += std::abs(x[i] - x[i - 1]);
    level += std::abs(static_cast<int>(x[i]));
  }
  return level > 0 ? diff / level : 0;
}

// One line of a capture file: `t_rel_s src dst len hex`.
struct captured {
  double t = 0;                       // seconds since the capture script started
  std::string source;                 // ip:port
  std::vector<std::uint8_t> bytes;    // the whole UDP payload
};

std::vector<captured> load_capture(const std::string& relative) {
  const char* root = std::getenv("NPCL_FIXTURES");
  EXPECT_TRUE(root) << "NPCL_FIXTURES is not set";
  std::vector<captured> out;
  if (!root) return out;
  std::ifstream in(std::string(root) + "/asterisk/" + relative);
  EXPECT_TRUE(in) << "cannot read " << relative;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    captured c;
    std::string destination, hex;
    std::size_t length = 0;
    fields >> c.t >> c.source >> destination >> length >> hex;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
      c.bytes.push_back(static_cast<std::uint8_t>(std::stoul(hex.substr(i, 2), nullptr, 16)));
    }
    EXPECT_EQ(c.bytes.size(), length) << relative << ": " << line.substr(0, 40);
    out.push_back(std::move(c));
  }
  EXPECT_FALSE(out.empty()) << relative;
  return out;
}

std::vector<rtp_packet> parse_all(const std::vector<captured>& capture) {
  std::vector<rtp_packet> out;
  for (const auto& c : capture) {
    rtp_reject why{};
    auto p = rtp_packet::parse(c.bytes, &why);
    EXPECT_TRUE(p) << "at t=" << c.t << ": " << to_string(why);
    if (p) out.push_back(*p);
  }
  return out;
}

// --- captures alone -------------------------------------------------------

TEST(rtp_capture, every_packet_asterisk_sent_parses_as_one_stream) {
  struct stream {
    const char* file;    // capture
    int payload_type;    // what Asterisk sends for the format
    std::size_t bytes;   // payload of a full 20 ms packet
    std::uint32_t step;  // timestamp step of a full packet
  };
  for (const stream& s : {stream{"call-rtp-ulaw/rtp-from-asterisk-ulaw.txt", 0, 160, 160},
                          stream{"call-rtp-ulaw-gap/rtp-from-asterisk-ulaw.txt", 0, 160, 160},
                          stream{"call-rtp-slin16/rtp-from-asterisk-slin16.txt", 118, 640, 320}}) {
    SCOPED_TRACE(s.file);
    const auto capture = load_capture(s.file);
    const auto packets = parse_all(capture);
    ASSERT_EQ(packets.size(), capture.size());
    EXPECT_EQ(packets.front().timestamp, s.step) << "first timestamp is one packet of samples";
    for (std::size_t i = 0; i < packets.size(); ++i) {
      EXPECT_EQ(packets[i].payload_type, s.payload_type);
      EXPECT_EQ(packets[i].ssrc, packets.front().ssrc);
      EXPECT_LE(packets[i].payload.size(), s.bytes);
      if (i > 0) EXPECT_EQ(static_cast<std::uint16_t>(packets[i].sequence - packets[i - 1].sequence), 1);
    }
  }
}

TEST(rtp_capture, our_own_captured_packets_have_the_shape_asterisk_accepted) {
  for (const char* file : {"call-rtp-ulaw/rtp-to-asterisk-ulaw.txt", "call-rtp-slin16-tx-pt11/rtp-to-asterisk-slin16.txt",
                           "call-rtp-slin16/rtp-to-asterisk-slin16.txt"}) {
    SCOPED_TRACE(file);
    const auto capture = load_capture(file);
    const auto packets = parse_all(capture);
    ASSERT_EQ(packets.size(), capture.size());
    for (const auto& c : capture) EXPECT_EQ(c.bytes[0], 0x80) << "V=2 and nothing optional";
    EXPECT_TRUE(packets.front().marker);
  }
}

TEST(rtp_capture, the_two_second_hole_is_a_pause_not_loss) {
  const auto capture = load_capture("call-rtp-ulaw-gap/rtp-from-asterisk-ulaw.txt");
  jitter_buffer jb;
  std::size_t frames = 0, samples_in = 0, samples_out = 0;
  bool marker_after_jump = false;
  const auto t0 = jitter_buffer::clock::now();
  std::optional<rtp_packet> previous;
  for (const auto& c : capture) {
    auto p = rtp_packet::parse(c.bytes);
    ASSERT_TRUE(p);
    audio::frame pcm{std::vector<std::int16_t>(p->payload.size()), 8000};
    audio::ulaw_decode(p->payload, pcm.samples);
    samples_in += pcm.samples.size();
    if (previous && p->timestamp - previous->timestamp > 8000) marker_after_jump = p->marker;
    previous = p;
    std::vector<audio::frame> out;
    const auto arrival = t0 + std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::duration<double>(c.t));
    jb.push(*p, std::move(pcm), arrival, out);
    frames += out.size();
    for (const auto& f : out) samples_out += f.samples.size();
  }
  EXPECT_TRUE(marker_after_jump) << "Asterisk marks the packet after the hole";
  EXPECT_EQ(frames, capture.size()) << "one frame per packet, nothing invented";
  EXPECT_EQ(samples_out, samples_in);
  const auto st = jb.stats();
  EXPECT_EQ(st.lost, 0u);
  EXPECT_EQ(st.late + st.duplicated + st.reordered + st.ssrc_changes, 0u);
  EXPECT_GT(st.jitter_ms, 0.0);
  EXPECT_LT(st.jitter_ms, 20.0) << "the hole must not count as jitter";
}

// --- endpoint on loopback -------------------------------------------------

class rtp_endpoint_test : public testing::Test {
 protected:
  void SetUp() override {
    options_.bind_host = "127.0.0.1";
    work_thread_ = std::thread([this] { ioc_.run(); });
  }
  template <class F>
  auto on_loop(F f) {
    std::packaged_task<decltype(f())()> task(std::move(f));
    auto fut = task.get_future();
    net::post(ioc_, [&task] { task(); });
    return fut.get();
  }
  void TearDown() override {
    if (ep_) on_loop([&] { ep_.reset(); return 0; });
    work_.reset();
    work_thread_.join();
  }
  // Opens ep_ on a port of `first`..first+9 for `format` at `rate`, peer at
  // 127.0.0.1:`peer_port` (0: channelvars without the UNICASTRTP_* pair),
  // delivering audio into frames_.
  void open(std::uint16_t first, std::uint16_t peer_port, std::string format = "ulaw", int rate = 8000) {
    options_.format = std::move(format);
    options_.sample_rate = rate;
    error_code ec;
    auto ports = std::make_shared<port_allocator>(first, static_cast<std::uint16_t>(first + 9));
    ep_ = on_loop([&] { return rtp_endpoint::open(ioc_.get_executor(), options_, ports, ec); });
    ASSERT_TRUE(ep_) << ec.message();
    on_loop([&] {
      if (peer_port != 0) {
        ep_->set_peer({{"UNICASTRTP_LOCAL_ADDRESS", "127.0.0.1"}, {"UNICASTRTP_LOCAL_PORT", std::to_string(peer_port)}});
      } else {
        ep_->set_peer({{"STASISSTATUS", ""}});
      }
      media_handlers h;
      h.on_audio = [this](audio::frame f) {
        std::lock_guard lock(mu_);
        frames_.push_back(std::move(f));
        if (close_after_ && frames_.size() == close_after_) ep_->close();
        cv_.notify_all();
      };
      ep_->start(std::move(h));
      return 0;
    });
  }
  testing::AssertionResult wait_frames(std::size_t n, std::chrono::milliseconds timeout = 5s) {
    std::unique_lock lock(mu_);
    if (cv_.wait_for(lock, timeout, [&] { return frames_.size() >= n; })) return testing::AssertionSuccess();
    return testing::AssertionFailure() << "got " << frames_.size() << " of " << n << " frames";
  }
  std::vector<audio::frame> frames() {
    std::lock_guard lock(mu_);
    return frames_;
  }
  std::vector<std::int16_t> received_pcm() {
    std::vector<std::int16_t> pcm;
    for (const auto& f : frames()) pcm.insert(pcm.end(), f.samples.begin(), f.samples.end());
    return pcm;
  }
  media_stats stats() { return on_loop([&] { return ep_->stats(); }); }
  // Waits until the endpoint has counted `n` packets in total (any kind).
  testing::AssertionResult wait_counted(std::uint64_t n, std::chrono::milliseconds timeout = 5s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      auto s = stats();
      if (s.packets_in + s.foreign_dropped + s.malformed >= n) return testing::AssertionSuccess();
      std::this_thread::sleep_for(2ms);
    }
    auto s = stats();
    return testing::AssertionFailure() << "counted " << s.packets_in + s.foreign_dropped + s.malformed << " of " << n;
  }
  void send_frames(const std::vector<std::int16_t>& pcm, int rate, std::size_t per_frame) {
    for (std::size_t at = 0; at < pcm.size(); at += per_frame) {
      audio::frame f{{pcm.begin() + static_cast<long>(at), pcm.begin() + static_cast<long>(at + per_frame)}, rate};
      on_loop([&] { ep_->send(f, at == 0); return 0; });
    }
  }

  net::io_context ioc_;
  net::executor_work_guard<net::io_context::executor_type> work_ = net::make_work_guard(ioc_);
  std::thread work_thread_;
  media_options options_;
  std::unique_ptr<rtp_endpoint> ep_;  // endpoint under test; used on the loop thread only
  std::mutex mu_;                     // guards frames_ and close_after_
  std::condition_variable cv_;        // signalled per delivered frame
  std::vector<audio::frame> frames_;  // caller audio delivered so far
  std::size_t close_after_ = 0;       // close the endpoint from the handler at this frame (0: never)
};

TEST_F(rtp_endpoint_test, accepts_asterisk_and_drops_foreign_and_malformed_packets) {
  net::io_context client;
  udp::socket asterisk(client, udp::endpoint(net::ip::make_address("127.0.0.1"), 0));
  udp::socket stranger(client, udp::endpoint(net::ip::make_address("127.0.0.1"), 0));
  open(43000, asterisk.local_endpoint().port());
  EXPECT_EQ(ep_->external_media().external_host, "127.0.0.1:" + std::to_string(ep_->local_port()));
  udp::endpoint target(net::ip::make_address("127.0.0.1"), ep_->local_port());
  for (std::uint16_t s = 0; s < 5; ++s) asterisk.send_to(net::buffer(rtp_datagram(s)), target);
  for (std::uint16_t s = 5; s < 8; ++s) stranger.send_to(net::buffer(rtp_datagram(s, 160, 0x80)), target);
  std::vector<std::uint8_t> not_rtp(20, 0x00);  // version 0
  asterisk.send_to(net::buffer(not_rtp), target);
  std::vector<std::uint8_t> short_packet(5, 0x80);
  asterisk.send_to(net::buffer(short_packet), target);
  auto dtmf = rtp_datagram(5, 4);
  dtmf[1] = 101;  // telephone-event: not audio
  asterisk.send_to(net::buffer(dtmf), target);
  ASSERT_TRUE(wait_counted(11));
  auto s = stats();
  EXPECT_EQ(s.packets_in, 5u);
  EXPECT_EQ(s.bytes_in, 5u * 160u);
  EXPECT_EQ(s.foreign_dropped, 3u);
  EXPECT_EQ(s.malformed, 3u);
  ASSERT_TRUE(wait_frames(5));
  for (const auto& f : frames()) EXPECT_EQ(f, audio::frame::silence(audio::audio_format{8000, 1, 20}));
}

TEST_F(rtp_endpoint_test, ports_are_returned_when_the_call_ends_and_busy_ports_are_skipped) {
  auto ports = std::make_shared<port_allocator>(43100, 43101);
  // Another process holds the first port of the range.
  net::io_context other;
  udp::socket squatter(other, udp::endpoint(net::ip::make_address("127.0.0.1"), 43100));
  error_code ec;
  auto ep = on_loop([&] { return rtp_endpoint::open(ioc_.get_executor(), options_, ports, ec); });
  ASSERT_TRUE(ep) << ec.message();
  EXPECT_EQ(ep->local_port(), 43101);
  auto second = on_loop([&] { return rtp_endpoint::open(ioc_.get_executor(), options_, ports, ec); });
  EXPECT_FALSE(second) << "the range is full";
  on_loop([&] { ep.reset(); return 0; });
  auto deadline = std::chrono::steady_clock::now() + 2s;
  while (ports->in_use() != 0 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(2ms);
  EXPECT_EQ(ports->in_use(), 0u);
}

TEST_F(rtp_endpoint_test, a_format_rtp_cannot_carry_is_refused_at_open) {
  options_.format = "g729";
  auto ports = std::make_shared<port_allocator>(43110, 43111);
  error_code ec;
  auto ep = on_loop([&] { return rtp_endpoint::open(ioc_.get_executor(), options_, ports, ec); });
  EXPECT_FALSE(ep);
  EXPECT_EQ(ec, net::error::invalid_argument);
}

TEST_F(rtp_endpoint_test, a_second_of_tone_from_asterisk_arrives_as_its_ulaw_decoding_frame_by_frame) {
  fakes::rtp_peer peer;
  open(43200, peer.port());
  peer.set_target(ep_->local_port());
  const auto x = tone(8000, 8000);
  peer.play(x);
  ASSERT_TRUE(wait_frames(50));
  for (const auto& f : frames()) {
    EXPECT_EQ(f.sample_rate_hz, 8000);
    EXPECT_EQ(f.samples.size(), 160u);
  }
  EXPECT_EQ(received_pcm(), through_ulaw(x));
  auto s = stats();
  EXPECT_EQ(s.packets_in, 50u);
  EXPECT_EQ(s.lost + s.late + s.duplicated + s.reordered, 0u);
}

TEST_F(rtp_endpoint_test, loss_reordering_and_duplicates_leave_continuous_audio_and_are_counted) {
  fakes::rtp_peer_options o;
  o.loss = 0.1;
  o.reorder = 0.1;
  o.duplicate = 0.1;
  o.seed = 7;
  fakes::rtp_peer peer(o);
  open(43210, peer.port());
  peer.set_target(ep_->local_port());
  const auto x = tone(8000, 100 * 160);
  peer.play(x);
  ASSERT_TRUE(peer.wait_for_played(10s));
  // What the peer really put on the wire decides what must come out. The
  // first packet to arrive starts the stream; one sent before it (swapped
  // behind it) is late.
  const auto sent = peer.sent();
  ASSERT_FALSE(sent.empty());
  const std::uint16_t base = sent.front().sequence;
  std::set<int> offsets;  // slots that arrived, relative to the first arrival
  std::uint64_t reordered = 0, duplicated = 0, late = 0;
  int highest = 0;
  for (const auto& p : sent) {
    const int off = static_cast<std::int16_t>(p.sequence - base);
    if (off < 0) {
      ++late;
    } else if (offsets.count(off)) {
      ++duplicated;
    } else {
      if (off < highest) ++reordered;
      highest = std::max(highest, off);
      offsets.insert(off);
    }
  }
  const std::size_t slots = static_cast<std::size_t>(highest + 1);
  ASSERT_TRUE(wait_frames(slots));
  const auto got = frames();
  ASSERT_EQ(got.size(), slots) << "one frame per sequence number between the first and last to arrive";
  const auto expected = through_ulaw(x);
  // The peer's first timestamp is one packet (160), so a timestamp names its chunk of x.
  const std::size_t first_chunk = (sent.front().timestamp - 160) / 160;
  for (std::size_t i = 0; i < got.size(); ++i) {
    if (!offsets.count(static_cast<int>(i))) continue;  // concealed
    const auto at = expected.begin() + static_cast<long>((first_chunk + i) * 160);
    EXPECT_EQ(got[i].samples, std::vector<std::int16_t>(at, at + 160)) << "frame " << i;
  }
  auto s = stats();
  EXPECT_EQ(s.lost, slots - offsets.size());
  EXPECT_EQ(s.duplicated, duplicated);
  EXPECT_EQ(s.reordered, reordered);
  EXPECT_EQ(s.late, late);
  EXPECT_GT(s.lost, 0u) << "seed 7 should lose something";
  EXPECT_GT(s.duplicated, 0u);
}

TEST_F(rtp_endpoint_test, packets_after_a_gap_are_played_when_the_wait_runs_out_although_nothing_follows) {
  net::io_context client;
  udp::socket asterisk(client, udp::endpoint(net::ip::make_address("127.0.0.1"), 0));
  open(43220, asterisk.local_endpoint().port());
  udp::endpoint target(net::ip::make_address("127.0.0.1"), ep_->local_port());
  for (std::uint16_t s : {1, 2, 4}) asterisk.send_to(net::buffer(rtp_datagram(s, 160, 0x90)), target);
  ASSERT_TRUE(wait_frames(4, 2s)) << "3 is concealed after the hold time";
  EXPECT_EQ(stats().lost, 1u);
}

TEST_F(rtp_endpoint_test, packets_from_another_port_never_reach_the_call) {
  fakes::rtp_peer peer;
  fakes::rtp_peer stranger;
  open(43230, peer.port());
  peer.set_target(ep_->local_port());
  stranger.set_target(ep_->local_port());
  const auto x = tone(8000, 10 * 160);
  stranger.play(std::vector<std::int16_t>(x.size(), 20000));
  peer.play(x);
  ASSERT_TRUE(peer.wait_for_played(5s));
  ASSERT_TRUE(stranger.wait_for_played(5s));
  ASSERT_TRUE(wait_counted(20));
  ASSERT_TRUE(wait_frames(10));
  EXPECT_EQ(received_pcm(), through_ulaw(x));
  EXPECT_EQ(stats().foreign_dropped, 10u);
}

TEST_F(rtp_endpoint_test, thousands_of_random_datagrams_are_all_counted_and_none_crashes) {
  fakes::rtp_peer peer;
  open(43240, peer.port());
  peer.set_target(ep_->local_port());
  std::mt19937 rng(99);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<std::size_t> length(0, 400);
  constexpr int batches = 20, per_batch = 100;
  for (int b = 0; b < batches; ++b) {
    for (int i = 0; i < per_batch; ++i) {
      std::vector<std::uint8_t> d(length(rng));
      for (auto& v : d) v = static_cast<std::uint8_t>(byte(rng));
      if (i % 2 == 0 && d.size() > 1) {
        d[0] = static_cast<std::uint8_t>(0x80 | (d[0] & 0x3f));
        d[1] = static_cast<std::uint8_t>((d[1] & 0x80) | (i % 4 == 0 ? 0 : 118));  // decodable types too
      }
      peer.send_raw(std::move(d));
    }
    // Batches keep the socket's receive buffer from overflowing.
    ASSERT_TRUE(wait_counted(static_cast<std::uint64_t>((b + 1) * per_batch)));
  }
  auto s = stats();
  EXPECT_EQ(s.packets_in + s.malformed, static_cast<std::uint64_t>(batches * per_batch));
  EXPECT_GT(s.malformed, 0u);
  EXPECT_EQ(s.foreign_dropped, 0u);
}

TEST_F(rtp_endpoint_test, closing_from_the_audio_handler_stops_delivery_at_once) {
  net::io_context client;
  udp::socket asterisk(client, udp::endpoint(net::ip::make_address("127.0.0.1"), 0));
  close_after_ = 2;
  open(43250, asterisk.local_endpoint().port());
  udp::endpoint target(net::ip::make_address("127.0.0.1"), ep_->local_port());
  // 3 and 4 wait for 2; its arrival releases three frames in one go.
  for (std::uint16_t s : {1, 3, 4, 2}) asterisk.send_to(net::buffer(rtp_datagram(s)), target);
  ASSERT_TRUE(wait_frames(2));
  on_loop([&] { ep_->close(); ep_->close(); return 0; });  // idempotent
  EXPECT_EQ(frames().size(), 2u);
}

TEST_F(rtp_endpoint_test, frames_sent_arrive_with_continuous_sequence_and_timestamps_and_a_marker_first) {
  fakes::rtp_peer peer;
  open(43260, peer.port());
  const auto x = tone(8000, 50 * 160);
  send_frames(x, 8000, 160);
  ASSERT_TRUE(peer.wait_for_received(50, 5s));
  const auto got = peer.received();
  ASSERT_EQ(got.size(), 50u);
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].source, "127.0.0.1:" + std::to_string(ep_->local_port())) << "strict RTP source";
    EXPECT_EQ(got[i].payload_type, 0);
    EXPECT_EQ(got[i].payload.size(), 160u);
    EXPECT_EQ(got[i].marker, i == 0);
    EXPECT_EQ(got[i].ssrc, got[0].ssrc);
    if (i > 0) {
      EXPECT_EQ(static_cast<std::uint16_t>(got[i].sequence - got[i - 1].sequence), 1);
      EXPECT_EQ(got[i].timestamp - got[i - 1].timestamp, 160u);
    }
  }
  EXPECT_EQ(peer.decoded(), through_ulaw(x));
  auto s = stats();
  EXPECT_EQ(s.packets_out, 50u);
  EXPECT_EQ(s.bytes_out, 50u * 160u);
  // After a pause the playout flags the next frame: it carries the marker.
  send_frames(tone(8000, 2 * 160), 8000, 160);
  ASSERT_TRUE(peer.wait_for_received(52, 5s));
  const auto more = peer.received();
  EXPECT_TRUE(more[50].marker);
  EXPECT_FALSE(more[51].marker);
  EXPECT_EQ(static_cast<std::uint16_t>(more[50].sequence - more[49].sequence), 1);
}

TEST_F(rtp_endpoint_test, without_asterisks_address_it_answers_the_first_source_and_drops_until_then) {
  fakes::rtp_peer peer;
  open(43310, 0);
  send_frames(tone(8000, 160), 8000, 160);  // nowhere to send yet
  EXPECT_EQ(stats().packets_out, 0u);
  peer.set_target(ep_->local_port());
  peer.play(tone(8000, 160));
  ASSERT_TRUE(wait_frames(1));
  send_frames(tone(8000, 160), 8000, 160);
  ASSERT_TRUE(peer.wait_for_received(1, 5s));
  EXPECT_EQ(stats().packets_out, 1u);
}

TEST_F(rtp_endpoint_test, slin16_goes_back_as_8khz_l16_which_asterisk_plays) {
  fakes::rtp_peer peer;
  open(43270, peer.port(), "slin16", 16000);
  EXPECT_FALSE(rtp_endpoint::send_back_note(options_).empty());
  const auto x = tone(16000, 50 * 320);
  send_frames(x, 16000, 320);
  ASSERT_TRUE(peer.wait_for_received(50, 5s));
  EXPECT_EQ(peer.dropped_dynamic(), 0u);
  for (const auto& p : peer.received()) {
    EXPECT_EQ(p.payload_type, 11);
    EXPECT_EQ(p.payload.size(), 320u) << "160 samples of 8 kHz L16";
  }
  const auto pcm = peer.decoded();
  ASSERT_EQ(pcm.size(), 50u * 160u);
  // After the resampler settles the caller hears the tone, at full level.
  const std::vector<std::int16_t> steady(pcm.begin() + 800, pcm.end());
  EXPECT_GT(power_share(steady, 8000, 440.0), 0.95);
  const auto reference = tone(8000, steady.size());
  EXPECT_NEAR(roughness(steady), roughness(reference), 0.05 * roughness(reference));
}

TEST(rtp_endpoint, send_back_note_speaks_only_where_asterisk_would_drop_its_own_payload_type) {
  media_options o;
  for (const char* f : {"ulaw", "alaw", "slin"}) {
    o.format = f;
    EXPECT_EQ(rtp_endpoint::send_back_note(o), "") << f;
  }
  for (const char* f : {"slin16", "slin24"}) {
    o.format = f;
    EXPECT_NE(rtp_endpoint::send_back_note(o).find("11"), std::string::npos) << f;
  }
}

TEST_F(rtp_endpoint_test, our_packets_have_the_shape_of_the_captured_ones_asterisk_accepted) {
  struct shape_case {
    const char* file;    // what the capture script sent and the caller heard
    const char* format;  // AUDIO_FORMAT of that call
    int rate;            // call rate (Hz)
    std::uint16_t ports; // first port for the endpoint
  };
  for (const shape_case& c : {shape_case{"call-rtp-ulaw/rtp-to-asterisk-ulaw.txt", "ulaw", 8000, 43280},
                              shape_case{"call-rtp-slin16-tx-pt11/rtp-to-asterisk-slin16.txt", "slin16", 16000, 43290}}) {
    SCOPED_TRACE(c.file);
    const auto accepted = parse_all(load_capture(c.file));
    ASSERT_GE(accepted.size(), 2u);
    if (ep_) on_loop([&] { ep_.reset(); return 0; });
    fakes::rtp_peer peer;
    open(c.ports, peer.port(), c.format, c.rate);
    const std::size_t per_frame = static_cast<std::size_t>(c.rate / 50);
    send_frames(tone(c.rate, accepted.size() * per_frame), c.rate, per_frame);
    ASSERT_TRUE(peer.wait_for_received(accepted.size(), 5s));
    const auto ours = peer.received();
    for (std::size_t i = 0; i < accepted.size(); ++i) {
      EXPECT_EQ(ours[i].bytes[0], 0x80);
      EXPECT_EQ(ours[i].payload_type, accepted[i].payload_type);
      EXPECT_EQ(ours[i].payload.size(), accepted[i].payload.size());
      EXPECT_EQ(ours[i].marker, accepted[i].marker);
      if (i > 0) {
        EXPECT_EQ(ours[i].timestamp - ours[i - 1].timestamp, accepted[i].timestamp - accepted[i - 1].timestamp);
      }
    }
  }
}

TEST_F(rtp_endpoint_test, slin16_from_asterisk_is_decoded_big_endian) {
  net::io_context client;
  udp::socket asterisk(client, udp::endpoint(net::ip::make_address("127.0.0.1"), 0));
  open(43300, asterisk.local_endpoint().port(), "slin16", 16000);
  udp::endpoint target(net::ip::make_address("127.0.0.1"), ep_->local_port());
  const auto capture = load_capture("call-rtp-slin16/rtp-from-asterisk-slin16.txt");
  std::size_t sent = 0;
  for (const auto& c : capture) {
    asterisk.send_to(net::buffer(c.bytes), target);
    if (++sent % 50 == 0) ASSERT_TRUE(wait_counted(sent));  // keep the receive buffer from overflowing
  }
  ASSERT_TRUE(wait_frames(capture.size()));
  for (const auto& f : frames()) {
    EXPECT_EQ(f.sample_rate_hz, 16000);
    EXPECT_EQ(f.samples.size(), 320u);
  }
  const auto pcm = received_pcm();
  std::vector<std::int16_t> swapped(pcm.size());
  for (std::size_t i = 0; i < pcm.size(); ++i) {
    const auto u = static_cast<std::uint16_t>(pcm[i]);
    swapped[i] = static_cast<std::int16_t>(static_cast<std::uint16_t>((u << 8) | (u >> 8)));
  }
  // Speech is smooth in the right byte order (the capture's summary: 0.35 vs 1.31).
  EXPECT_LT(roughness(pcm) * 2, roughness(swapped));
}

}  // namespace
}  // namespace npcl::media
