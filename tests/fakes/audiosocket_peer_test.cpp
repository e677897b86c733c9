// The fake Asterisk AudioSocket side checked against a minimal server written
// here: the bytes it sends are what the real Asterisk sent (captures in
// $NPCL_FIXTURES/asterisk/call-audiosocket-*), paced, and it records what the
// server sends back.
#include "fakes/audiosocket_peer.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include <optional>

namespace npcl::fakes {
namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;
using namespace std::chrono_literals;
using bytes = std::vector<std::uint8_t>;

// A one-connection server run on the test thread, each step bounded in time.
class tiny_server {
 public:
  tiny_server() : acceptor_(ioc_, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0)) {}
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

  testing::AssertionResult accept() {
    socket_.emplace(ioc_);
    error_code result = net::error::timed_out;
    acceptor_.async_accept(*socket_, [&](error_code ec) { result = ec; });
    run();
    if (result) return testing::AssertionFailure() << "accept: " << result.message();
    return testing::AssertionSuccess();
  }

  // Everything the peer sends until it closes, with the time of the last read.
  bytes read_to_eof(std::chrono::steady_clock::time_point& first, std::chrono::steady_clock::time_point& last) {
    bytes all;
    std::array<std::uint8_t, 4096> buf{};
    std::function<void()> step = [&] {
      socket_->async_read_some(net::buffer(buf), [&](error_code ec, std::size_t n) {
        if (ec) return;
        if (all.empty()) first = std::chrono::steady_clock::now();
        last = std::chrono::steady_clock::now();
        all.insert(all.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
        step();
      });
    };
    step();
    run(5s);
    return all;
  }

  void write(const bytes& b) {
    net::async_write(*socket_, net::buffer(b), [](error_code, std::size_t) {});
    run();
  }
  void close() { socket_->close(); }

 private:
  void run(std::chrono::milliseconds limit = 2s) {
    ioc_.restart();
    ioc_.run_for(limit);
  }
  net::io_context ioc_;
  tcp::acceptor acceptor_;
  std::optional<tcp::socket> socket_;
};

std::vector<std::int16_t> ramp(std::size_t n) {
  std::vector<std::int16_t> s(n);
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<std::int16_t>(static_cast<int>(i * 397) - 30000);
  return s;
}

TEST(audiosocket_peer, sends_id_paced_audio_dtmf_then_closes_like_asterisk) {
  tiny_server server;
  audiosocket_peer peer;
  ASSERT_TRUE(peer.connect("127.0.0.1", server.port()));
  ASSERT_TRUE(server.accept());
  const auto signal = ramp(10 * 320 + 50);
  peer.send_id("c0947d6e-3c27-4263-bf7a-0625ee86a77c");  // from call-audiosocket-slin16
  peer.send_audio(signal, {.kind = 0x12, .samples_per_frame = 320, .pace = 20ms, .fragment = true});
  peer.send_dtmf('7');
  peer.close();

  std::chrono::steady_clock::time_point first, last;
  const bytes wire = server.read_to_eof(first, last);
  ASSERT_TRUE(peer.wait_for_sent(1s));

  // The id message exactly as captured: 01 00 10 <16 raw bytes>.
  const bytes id = {0x01, 0x00, 0x10, 0xc0, 0x94, 0x7d, 0x6e, 0x3c, 0x27, 0x42, 0x63,
                    0xbf, 0x7a, 0x06, 0x25, 0xee, 0x86, 0xa7, 0x7c};
  ASSERT_GE(wire.size(), id.size());
  EXPECT_EQ(bytes(wire.begin(), wire.begin() + static_cast<std::ptrdiff_t>(id.size())), id);

  std::size_t at = id.size();
  std::vector<std::int16_t> samples;
  std::size_t frames = 0;
  while (at + 3 <= wire.size() && wire[at] == 0x12) {
    const std::size_t len = (std::size_t{wire[at + 1]} << 8) | wire[at + 2];
    EXPECT_EQ(len, frames < 10 ? 640u : 100u);  // captured header 12 02 80, then the short rest
    for (std::size_t b = at + 3; b + 1 < at + 3 + len; b += 2)
      samples.push_back(static_cast<std::int16_t>(wire[b] | (wire[b + 1] << 8)));
    at += 3 + len;
    ++frames;
  }
  EXPECT_EQ(frames, 11u);
  EXPECT_EQ(samples, signal);
  EXPECT_EQ(bytes(wire.begin() + static_cast<std::ptrdiff_t>(at), wire.end()), (bytes{0x03, 0x00, 0x01, '7'}));
  // Real-time pace: 11 frames span at least 10 intervals.
  EXPECT_GE(last - first, 190ms);
}

TEST(audiosocket_peer, records_what_the_daemon_sends_and_its_close) {
  tiny_server server;
  audiosocket_peer peer;
  ASSERT_TRUE(peer.connect("127.0.0.1", server.port()));
  ASSERT_TRUE(server.accept());
  bytes audio = {0x10, 0x01, 0x40};
  for (int i = 0; i < 160; ++i) {
    audio.push_back(static_cast<std::uint8_t>(i));
    audio.push_back(0x80);
  }
  bytes two = audio;
  two.insert(two.end(), audio.begin(), audio.end());  // coalesced in one write
  two.insert(two.end(), {0x00, 0x00, 0x00});
  server.write(two);
  ASSERT_TRUE(peer.wait_for_audio(2, 2s));
  ASSERT_TRUE(peer.wait_for_hangup(2s));
  EXPECT_FALSE(peer.wait_for_closed(20ms));
  server.close();
  ASSERT_TRUE(peer.wait_for_closed(2s));

  const auto got = peer.received();
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].kind, 0x10);
  EXPECT_EQ(got[0].payload.size(), 320u);
  EXPECT_LE(got[0].arrived, got[1].arrived);
  EXPECT_EQ(got[2].kind, 0x00);
  const auto samples = peer.audio_samples();
  ASSERT_EQ(samples.size(), 320u);
  EXPECT_EQ(samples[1], static_cast<std::int16_t>(0x8001));
}

TEST(audiosocket_peer, connect_to_a_closed_port_fails_instead_of_hanging) {
  std::uint16_t port;
  {
    tiny_server gone;
    port = gone.port();
  }
  audiosocket_peer peer;
  EXPECT_FALSE(peer.connect("127.0.0.1", port, 2s));
}

}  // namespace
}  // namespace npcl::fakes
