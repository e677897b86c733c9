// The per-call RTP socket: binds in the range, accepts Asterisk's packets,
// drops foreign and malformed ones.
#include "npcl/media/rtp_endpoint.hpp"

#include <gtest/gtest.h>

#include <boost/asio/ip/udp.hpp>
#include <boost/asio/post.hpp>

#include <future>
#include <thread>

namespace npcl::media {
namespace {

using udp = net::ip::udp;
using namespace std::chrono_literals;

std::vector<std::uint8_t> rtp_packet(std::uint16_t seq, std::size_t payload = 160) {
  std::vector<std::uint8_t> p(12 + payload, 0xff);
  p[0] = 0x80;
  p[1] = 0x00;
  p[2] = static_cast<std::uint8_t>(seq >> 8);
  p[3] = static_cast<std::uint8_t>(seq);
  return p;
}

class rtp_endpoint_test : public testing::Test {
 protected:
  void SetUp() override {
    options_.bind_host = "127.0.0.1";
    work_thread_ = std::thread([this] { ioc_.run(); });
  }
  void TearDown() override {
    work_.reset();
    work_thread_.join();
  }
  template <class F>
  auto on_loop(F f) {
    std::packaged_task<decltype(f())()> task(std::move(f));
    auto fut = task.get_future();
    net::post(ioc_, [&task] { task(); });
    return fut.get();
  }
  // Waits until the endpoint has counted `n` packets in total (any kind).
  testing::AssertionResult wait_counted(rtp_endpoint& ep, std::uint64_t n) {
    auto deadline = std::chrono::steady_clock::now() + 2s;
    while (std::chrono::steady_clock::now() < deadline) {
      auto s = on_loop([&] { return ep.stats(); });
      if (s.packets_in + s.foreign_dropped + s.malformed >= n) return testing::AssertionSuccess();
      std::this_thread::sleep_for(2ms);
    }
    return testing::AssertionFailure() << "packets not counted";
  }

  net::io_context ioc_;
  net::executor_work_guard<net::io_context::executor_type> work_ = net::make_work_guard(ioc_);
  std::thread work_thread_;
  media_options options_;
};

TEST_F(rtp_endpoint_test, accepts_asterisk_and_drops_foreign_and_malformed_packets) {
  auto ports = std::make_shared<port_allocator>(43000, 43009);
  error_code ec;
  auto ep = on_loop([&] { return rtp_endpoint::open(ioc_.get_executor(), options_, ports, ec); });
  ASSERT_TRUE(ep) << ec.message();
  EXPECT_EQ(ep->external_media().external_host, "127.0.0.1:" + std::to_string(ep->local_port()));

  net::io_context client;
  udp::socket asterisk(client, udp::endpoint(net::ip::make_address("127.0.0.1"), 0));
  udp::socket stranger(client, udp::endpoint(net::ip::make_address("127.0.0.1"), 0));
  on_loop([&] {
    ep->set_peer({{"UNICASTRTP_LOCAL_ADDRESS", "127.0.0.1"},
                  {"UNICASTRTP_LOCAL_PORT", std::to_string(asterisk.local_endpoint().port())}});
    return 0;
  });
  udp::endpoint target(net::ip::make_address("127.0.0.1"), ep->local_port());
  for (std::uint16_t s = 0; s < 5; ++s) asterisk.send_to(net::buffer(rtp_packet(s)), target);
  for (std::uint16_t s = 0; s < 3; ++s) stranger.send_to(net::buffer(rtp_packet(s)), target);
  std::vector<std::uint8_t> not_rtp(20, 0x00);  // version 0
  asterisk.send_to(net::buffer(not_rtp), target);
  std::vector<std::uint8_t> short_packet(5, 0x80);
  asterisk.send_to(net::buffer(short_packet), target);
  ASSERT_TRUE(wait_counted(*ep, 10));
  auto s = on_loop([&] { return ep->stats(); });
  EXPECT_EQ(s.packets_in, 5u);
  EXPECT_EQ(s.bytes_in, 5u * 160u);
  EXPECT_EQ(s.foreign_dropped, 3u);
  EXPECT_EQ(s.malformed, 2u);
  on_loop([&] { ep.reset(); return 0; });
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

}  // namespace
}  // namespace npcl::media
