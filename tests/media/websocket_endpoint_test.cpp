// The chan_websocket endpoint against the fake Asterisk media WebSocket on loopback:
// audio both ways bit-exact, control in both formats, flow control, barge-in flush,
// marks, and every way the connection can end.
#include "npcl/media/websocket_endpoint.hpp"

#include <gtest/gtest.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>

#include <condition_variable>
#include <future>
#include <mutex>
#include <optional>
#include <thread>

#include "fakes/websocket_media_peer.hpp"
#include "npcl/audio/g711.hpp"

namespace npcl::media {
namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

// What the endpoint's handlers reported, filled on the strand, read by the test.
struct recorder {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<audio::frame> audio;
  std::string digits;
  std::vector<std::pair<std::string, steady::time_point>> marks;
  std::optional<error_code> closed;
  int closed_calls = 0;

  template <class Pred>
  testing::AssertionResult wait(Pred pred, const std::string& what, std::chrono::milliseconds timeout = 5s) {
    std::unique_lock lk(mu);
    if (cv.wait_for(lk, timeout, pred)) return testing::AssertionSuccess();
    return testing::AssertionFailure() << "timed out waiting for " << what;
  }
};

// Frame i of a test signal: deterministic, full-scale, both signs, so byte order and
// sign errors show.
std::vector<std::int16_t> test_signal(std::size_t samples, std::uint32_t seed = 1) {
  std::vector<std::int16_t> out(samples);
  std::uint32_t x = seed;
  for (auto& s : out) {
    x = x * 1664525u + 1013904223u;
    s = static_cast<std::int16_t>(x >> 16);
  }
  return out;
}

audio::frame constant_frame(std::int16_t value, int rate = 16000) {
  return audio::frame{std::vector<std::int16_t>(static_cast<std::size_t>(rate / 50), value), rate};
}

class websocket_endpoint_test : public testing::Test {
 protected:
  template <class F>
  auto on_loop(F f) {
    std::packaged_task<decltype(f())()> task(std::move(f));
    auto fut = task.get_future();
    net::post(strand_, [&task] { task(); });
    return fut.get();
  }

  void SetUp() override {
    thread_ = std::thread([this] { ioc_.run(); });
  }
  void TearDown() override {
    on_loop([&] {
      ep_.reset();
      return 0;
    });
    work_.reset();
    thread_.join();
  }

  // Waits until `pred` holds when evaluated on the strand.
  template <class Pred>
  testing::AssertionResult wait_on_loop(Pred pred, const std::string& what, std::chrono::milliseconds timeout = 5s) {
    const auto deadline = steady::now() + timeout;
    while (steady::now() < deadline) {
      if (on_loop(pred)) return testing::AssertionSuccess();
      std::this_thread::yield();
    }
    return testing::AssertionFailure() << "timed out waiting for " << what;
  }

  websocket_endpoint::server server_for_peer() {
    websocket_endpoint::server s;
    s.host = "127.0.0.1";
    s.port = peer_.port();
    s.connect_timeout = 2s;
    return s;
  }

  // Creates the endpoint and connects it to connection `id` as a session would.
  void open(const std::string& format, const std::string& id, websocket_endpoint::server s, bool echo = false) {
    media_options options;
    options.format = format;
    on_loop([&] {
      ep_ = std::make_unique<websocket_endpoint>(strand_, options, s);
      ep_->on_mark([this](const std::string& m) {
        std::lock_guard lk(rec_.mu);
        rec_.marks.emplace_back(m, steady::now());
        rec_.cv.notify_all();
      });
      ep_->set_peer({{"MEDIA_WEBSOCKET_CONNECTION_ID", id}, {"MEDIA_WEBSOCKET_OPTIMAL_FRAME_SIZE", "640"}});
      ep_->start(handlers(echo));
      return 0;
    });
  }

  media_handlers handlers(bool echo) {
    media_handlers h;
    h.on_audio = [this, echo](audio::frame f) {
      if (echo) ep_->send(f, false);
      std::lock_guard lk(rec_.mu);
      rec_.audio.push_back(std::move(f));
      rec_.cv.notify_all();
    };
    h.on_dtmf = [this](char d) {
      std::lock_guard lk(rec_.mu);
      rec_.digits += d;
      rec_.cv.notify_all();
    };
    h.on_closed = [this](error_code ec) {
      std::lock_guard lk(rec_.mu);
      rec_.closed = ec;
      ++rec_.closed_calls;
      rec_.cv.notify_all();
    };
    return h;
  }

  testing::AssertionResult wait_closed() {
    return rec_.wait([&] { return rec_.closed.has_value(); }, "on_closed");
  }

  net::io_context ioc_;
  net::executor_work_guard<net::io_context::executor_type> work_ = net::make_work_guard(ioc_);
  executor strand_ = net::make_strand(ioc_);
  std::thread thread_;
  fakes::websocket_media_peer peer_;
  recorder rec_;
  std::unique_ptr<websocket_endpoint> ep_;
};

TEST_F(websocket_endpoint_test, asks_asterisk_for_a_server_mode_websocket_channel) {
  media_options options;
  options.format = "slin24";
  websocket_endpoint ep(strand_, options, server_for_peer());
  auto p = ep.external_media();
  EXPECT_EQ(p.transport, "websocket");
  EXPECT_EQ(p.encapsulation, "none");
  EXPECT_EQ(p.connection_type, "server");
  EXPECT_EQ(p.format, "slin24");
  EXPECT_EQ(p.external_host, "");
  EXPECT_EQ(ep.format(), (audio::audio_format{24000, 1, 20}));
  options.format = "opus";
  EXPECT_THROW(websocket_endpoint(strand_, options, server_for_peer()), std::invalid_argument);
}

TEST_F(websocket_endpoint_test, slin16_caller_audio_echoed_back_is_played_bit_exact) {
  peer_.add_connection("c1", "slin16");
  auto s = server_for_peer();
  s.username = "asterisk";
  s.password = "1234";
  open("slin16", "c1", s, /*echo=*/true);
  ASSERT_TRUE(peer_.wait_for_connected("c1", 5s));
  EXPECT_EQ(peer_.last_authorization(), "Basic YXN0ZXJpc2s6MTIzNA==");

  const auto signal = test_signal(25 * 320);
  peer_.stream("c1", signal);
  ASSERT_TRUE(peer_.wait_for_played("c1", 25, 5s));
  EXPECT_EQ(peer_.played_pcm("c1"), signal);

  {
    std::lock_guard lk(rec_.mu);
    ASSERT_EQ(rec_.audio.size(), 25u);
    std::vector<std::int16_t> heard;
    for (const auto& f : rec_.audio) {
      EXPECT_EQ(f.sample_rate_hz, 16000);
      EXPECT_EQ(f.samples.size(), 320u);
      heard.insert(heard.end(), f.samples.begin(), f.samples.end());
    }
    EXPECT_EQ(heard, signal);
  }
  auto c = peer_.counts("c1");
  EXPECT_EQ(c.partial_dropped, 0u);
  EXPECT_EQ(c.frames_received, 25u);
  auto st = on_loop([&] { return ep_->stats(); });
  EXPECT_EQ(st.packets_in, 25u);
  EXPECT_EQ(st.packets_out, 25u);
  EXPECT_EQ(st.bytes_out, 25u * 640u);

  peer_.send_dtmf("c1", '5');
  peer_.send_dtmf("c1", '#');
  EXPECT_TRUE(rec_.wait([&] { return rec_.digits == "5#"; }, "digits 5#"));
}

TEST_F(websocket_endpoint_test, ulaw_with_json_control_decodes_encodes_and_marks) {
  peer_.add_connection("c2", "ulaw", /*json=*/true);
  open("ulaw", "c2", server_for_peer(), /*echo=*/true);
  ASSERT_TRUE(peer_.wait_for_connected("c2", 5s));

  const auto signal = test_signal(10 * 160, 7);
  std::vector<std::int16_t> expected(signal.size());
  {
    std::vector<std::uint8_t> wire(signal.size());
    audio::ulaw_encode(signal, wire);
    audio::ulaw_decode(wire, expected);
  }
  peer_.stream("c2", signal);
  ASSERT_TRUE(peer_.wait_for_played("c2", 10, 5s));
  EXPECT_EQ(peer_.played_pcm("c2"), expected);
  {
    std::lock_guard lk(rec_.mu);
    std::vector<std::int16_t> heard;
    for (const auto& f : rec_.audio) heard.insert(heard.end(), f.samples.begin(), f.samples.end());
    EXPECT_EQ(heard, expected);
  }

  EXPECT_TRUE(on_loop([&] { return ep_->mark("m-1"); }));
  ASSERT_TRUE(peer_.wait_for_command("c2", R"({"command":"MARK_MEDIA","correlation_id":"m-1"})", 5s));
  EXPECT_TRUE(rec_.wait([&] { return !rec_.marks.empty(); }, "the mark"));
  peer_.send_dtmf("c2", '7');
  EXPECT_TRUE(rec_.wait([&] { return rec_.digits == "7"; }, "digit 7"));
}

TEST_F(websocket_endpoint_test, mark_is_reported_after_the_audio_before_it_was_played) {
  peer_.add_connection("c3", "slin16");
  open("slin16", "c3", server_for_peer());
  ASSERT_TRUE(peer_.wait_for_connected("c3", 5s));
  on_loop([&] {
    for (int i = 0; i < 10; ++i) ep_->send(constant_frame(static_cast<std::int16_t>(i)), i == 0);
    EXPECT_FALSE(ep_->mark("has space"));
    return ep_->mark("after-10");
  });
  ASSERT_TRUE(rec_.wait([&] { return !rec_.marks.empty(); }, "the mark"));
  auto played = peer_.played("c3");
  ASSERT_GE(played.size(), 10u);
  std::lock_guard lk(rec_.mu);
  EXPECT_EQ(rec_.marks[0].first, "after-10");
  EXPECT_LE(played[9].at, rec_.marks[0].second);
  EXPECT_EQ(peer_.commands("c3"), std::vector<std::string>{"MARK_MEDIA after-10"});
}

TEST_F(websocket_endpoint_test, xoff_holds_audio_until_xon_without_losing_any) {
  peer_.add_connection("c4", "slin16");
  auto s = server_for_peer();
  s.max_queued_frames = 1000;
  open("slin16", "c4", s);
  ASSERT_TRUE(peer_.wait_for_connected("c4", 5s));
  on_loop([&] {
    for (int i = 0; i < 950; ++i) ep_->send(constant_frame(static_cast<std::int16_t>(i)), false);
    return 0;
  });
  ASSERT_TRUE(peer_.wait_for_event("c4", "MEDIA_XOFF", 5s));
  ASSERT_TRUE(wait_on_loop([&] { return ep_->paused_by_asterisk(); }, "the endpoint to see XOFF"));
  on_loop([&] {
    for (int i = 950; i < 1000; ++i) ep_->send(constant_frame(static_cast<std::int16_t>(i)), false);
    return 0;
  });
  ASSERT_TRUE(peer_.wait_for_received("c4", 1000, 10s));
  auto c = peer_.counts("c4");
  EXPECT_GE(c.xon_sent, 1u);
  EXPECT_EQ(c.discarded_full, 0u);
  EXPECT_EQ(c.partial_dropped, 0u);
  EXPECT_LE(c.largest_message, 65535u);
  ASSERT_EQ(c.frame_arrivals.size(), 1000u);
  for (std::size_t i = 950; i < 1000; ++i) EXPECT_GE(c.frame_arrivals[i], c.last_xon_at) << "frame " << i;
  EXPECT_EQ(on_loop([&] { return ep_->send_dropped(); }), 0u);
  EXPECT_FALSE(on_loop([&] { return ep_->paused_by_asterisk(); }));
}

TEST_F(websocket_endpoint_test, full_local_queue_drops_the_oldest_frames_and_counts_them) {
  peer_.add_connection("c5", "slin16");
  media_options options;
  options.format = "slin16";
  auto s = server_for_peer();
  s.max_queued_frames = 10;
  on_loop([&] {
    ep_ = std::make_unique<websocket_endpoint>(strand_, options, s);
    for (int i = 0; i < 15; ++i) ep_->send(constant_frame(static_cast<std::int16_t>(100 + i)), false);
    EXPECT_EQ(ep_->send_dropped(), 5u);
    EXPECT_EQ(ep_->queued_frames(), 10u);
    ep_->set_peer({{"MEDIA_WEBSOCKET_CONNECTION_ID", "c5"}});
    ep_->start(handlers(false));
    return 0;
  });
  ASSERT_TRUE(peer_.wait_for_played("c5", 10, 5s));
  auto played = peer_.played_pcm("c5");
  ASSERT_EQ(played.size(), 10u * 320u);
  for (std::size_t f = 0; f < 10; ++f) EXPECT_EQ(played[f * 320], 105 + static_cast<int>(f));
}

TEST_F(websocket_endpoint_test, flush_remote_empties_asterisks_queue) {
  peer_.add_connection("c6", "slin16");
  open("slin16", "c6", server_for_peer());
  ASSERT_TRUE(peer_.wait_for_connected("c6", 5s));
  on_loop([&] {
    for (int i = 0; i < 100; ++i) ep_->send(constant_frame(1000), false);
    return 0;
  });
  ASSERT_TRUE(peer_.wait_for_received("c6", 100, 5s));
  on_loop([&] {
    ep_->flush_remote();
    return 0;
  });
  ASSERT_TRUE(peer_.wait_for_command("c6", "FLUSH_MEDIA", 5s));
  auto c = peer_.counts("c6");
  EXPECT_EQ(c.queue_length, 0u);
  EXPECT_LT(peer_.played("c6").size(), 100u);
}

TEST_F(websocket_endpoint_test, unknown_connection_id_fails_the_upgrade_cleanly) {
  open("slin16", "never-registered", server_for_peer());
  ASSERT_TRUE(wait_closed());
  EXPECT_TRUE(*rec_.closed);
  EXPECT_EQ(peer_.refusals(), std::vector<int>{404});
  EXPECT_EQ(rec_.closed_calls, 1);
}

TEST_F(websocket_endpoint_test, asterisk_closing_the_socket_reports_on_closed_once) {
  peer_.add_connection("c7", "slin16");
  open("slin16", "c7", server_for_peer());
  ASSERT_TRUE(peer_.wait_for_connected("c7", 5s));
  peer_.hangup("c7");
  ASSERT_TRUE(wait_closed());
  EXPECT_TRUE(*rec_.closed);
  on_loop([&] {
    ep_->send(constant_frame(1), false);  // after the end: ignored, no crash
    ep_->close();
    return 0;
  });
  EXPECT_EQ(rec_.closed_calls, 1);
}

TEST_F(websocket_endpoint_test, our_close_ends_the_socket_and_calls_no_handler) {
  peer_.add_connection("c8", "slin16");
  open("slin16", "c8", server_for_peer());
  ASSERT_TRUE(peer_.wait_for_connected("c8", 5s));
  // One frame through proves our side finished its handshake and read
  // MEDIA_START; closing earlier would cut the TCP connection mid-upgrade.
  peer_.stream("c8", std::vector<std::int16_t>(320, 100));
  ASSERT_TRUE(rec_.wait([&] { return !rec_.audio.empty(); }, "the first frame"));
  on_loop([&] {
    ep_->close();
    ep_->close();  // idempotent
    return 0;
  });
  ASSERT_TRUE(peer_.wait_for_closed("c8", 5s));
  EXPECT_EQ(peer_.counts("c8").close_code, 1000);
  on_loop([] { return 0; });  // anything posted before this has run
  EXPECT_EQ(rec_.closed_calls, 0);
}

TEST_F(websocket_endpoint_test, silent_server_times_out_the_upgrade) {
  net::io_context other;
  net::ip::tcp::acceptor mute(other, {net::ip::make_address("127.0.0.1"), 0});  // listens, never answers
  auto s = server_for_peer();
  s.port = mute.local_endpoint().port();
  s.connect_timeout = 200ms;
  const auto began = steady::now();
  open("slin16", "c9", s);
  ASSERT_TRUE(wait_closed());
  EXPECT_EQ(*rec_.closed, net::error::timed_out);
  EXPECT_GE(steady::now() - began, 200ms);
}

TEST_F(websocket_endpoint_test, format_other_than_asked_ends_the_call) {
  peer_.add_connection("c10", "ulaw");
  open("slin16", "c10", server_for_peer());
  ASSERT_TRUE(wait_closed());
  EXPECT_TRUE(*rec_.closed);
  EXPECT_TRUE(peer_.wait_for_closed("c10", 5s));
}

TEST_F(websocket_endpoint_test, missing_connection_id_is_reported_by_start) {
  media_options options;
  options.format = "slin16";
  on_loop([&] {
    ep_ = std::make_unique<websocket_endpoint>(strand_, options, server_for_peer());
    ep_->set_peer({{"MEDIA_WEBSOCKET_CONNECTION_ID", "../../ari/events"}});
    ep_->start(handlers(false));
    EXPECT_EQ(rec_.closed_calls, 0);  // never from inside start()
    return 0;
  });
  ASSERT_TRUE(wait_closed());
  EXPECT_EQ(*rec_.closed, net::error::invalid_argument);
  EXPECT_TRUE(peer_.refusals().empty());
}

}  // namespace
}  // namespace npcl::media
