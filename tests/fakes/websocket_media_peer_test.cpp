// The fake chan_websocket against what the real one did in the captures
// ($NPCL_FIXTURES/asterisk/call-websocket-*): upgrade answers, message shapes, frame
// rules, flow control and the ways it closes. Driven by a plain Beast client, not by
// the endpoint under test.
#include "fakes/websocket_media_peer.hpp"

#include <gtest/gtest.h>

#include <boost/asio/ip/tcp.hpp>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <fstream>
#include <optional>

#include "util/beast.hpp"

namespace npcl::fakes {
namespace {

using namespace std::chrono_literals;
using tcp = net::ip::tcp;
using steady = std::chrono::steady_clock;

// One media connection as Asterisk's peer (the daemon) sees it. Every operation has a
// 5 s deadline so a misbehaving fake fails the test instead of hanging it.
class media_client {
 public:
  struct message {
    bool text = false;   // text frame (else binary)
    std::string data;    // payload
  };

  explicit media_client(std::uint16_t port) : port_(port) {}

  // Upgrades to ws://127.0.0.1:<port><target>; returns the HTTP status (101 when accepted).
  int connect(const std::string& target, bool ask_media = true) {
    auto& tcp_layer = beast::get_lowest_layer(ws_);
    tcp_layer.expires_after(5s);
    error_code ec;
    tcp_layer.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port_), ec);
    if (ec) return 0;
    ws_.set_option(websocket::stream_base::decorator([ask_media](websocket::request_type& req) {
      if (ask_media) req.set(bhttp::field::sec_websocket_protocol, "media");
    }));
    websocket::response_type res;
    run([&](auto done) { ws_.async_handshake(res, "127.0.0.1", target, done); });
    protocol = std::string(res[bhttp::field::sec_websocket_protocol]);
    return static_cast<int>(res.result_int());
  }

  std::optional<message> read() {
    beast::flat_buffer buffer;
    error_code ec = run([&](auto done) { ws_.async_read(buffer, [done](error_code e, std::size_t) { done(e); }); });
    if (ec) {
      last_error = ec;
      return std::nullopt;
    }
    return message{ws_.got_text(), beast::buffers_to_string(buffer.data())};
  }

  // The next text message; binary messages before it are counted in `binary_seen`.
  std::optional<std::string> read_text() {
    for (;;) {
      auto m = read();
      if (!m) return std::nullopt;
      if (m->text) return m->data;
      ++binary_seen;
    }
  }

  error_code write(bool text, const std::string& data) {
    ws_.text(text);
    return run([&](auto done) { ws_.async_write(net::buffer(data), [done](error_code e, std::size_t) { done(e); }); });
  }

  int close_code() const { return static_cast<int>(ws_.reason().code); }

  std::string protocol;      // Sec-WebSocket-Protocol of the upgrade answer
  error_code last_error;     // why the last read ended
  int binary_seen = 0;       // binary messages skipped by read_text()

 private:
  template <class Start>
  error_code run(Start start) {
    error_code result = net::error::timed_out;
    beast::get_lowest_layer(ws_).expires_after(5s);
    start([&result](error_code e) { result = e; });
    ioc_.restart();
    ioc_.run();
    return result;
  }

  std::uint16_t port_;
  net::io_context ioc_;
  websocket::stream<beast::tcp_stream> ws_{ioc_};
};

std::vector<std::string> keys_of_plain(const std::string& line) {
  std::vector<std::string> keys;
  std::size_t pos = line.find(' ');
  while (pos != std::string::npos) {
    auto end = line.find(' ', pos + 1);
    auto token = line.substr(pos + 1, end == std::string::npos ? std::string::npos : end - pos - 1);
    keys.push_back(token.substr(0, token.find(':')));
    pos = end;
  }
  return keys;
}

// The first text message Asterisk sent in a capture that starts with `prefix`.
std::string captured(const std::string& call, const std::string& prefix) {
  const char* dir = std::getenv("NPCL_FIXTURES");
  if (!dir) {
    ADD_FAILURE() << "NPCL_FIXTURES is not set";
    return {};
  }
  std::ifstream in(std::string(dir) + "/asterisk/" + call + "/websocket-media.log");
  for (std::string line; std::getline(in, line);) {
    auto at = line.find(" RX TEXT ");
    if (at != std::string::npos && line.compare(at + 9, prefix.size(), prefix) == 0) return line.substr(at + 9);
  }
  ADD_FAILURE() << "no '" << prefix << "' in " << call;
  return {};
}

TEST(websocket_media_peer, upgrade_answers_match_asterisk) {
  websocket_media_peer peer;
  peer.add_connection("known", "slin16");

  media_client stranger(peer.port());
  EXPECT_EQ(stranger.connect("/media/unknown"), 404);

  media_client first(peer.port());
  EXPECT_EQ(first.connect("/media/known"), 101);
  EXPECT_EQ(first.protocol, "media");
  media_client second(peer.port());
  EXPECT_EQ(second.connect("/media/known"), 409);
  EXPECT_EQ(peer.refusals(), (std::vector<int>{404, 409}));

  websocket_media_peer other;
  other.add_connection("plain");
  media_client no_protocol(other.port());
  EXPECT_EQ(no_protocol.connect("/media/plain", /*ask_media=*/false), 101);
  EXPECT_EQ(no_protocol.protocol, "");
}

TEST(websocket_media_peer, media_start_and_status_have_the_captured_shape) {
  websocket_media_peer peer;
  peer.add_connection("p1", "ulaw");
  peer.add_connection("j1", "slin16", /*json=*/true);

  media_client plain(peer.port());
  ASSERT_EQ(plain.connect("/media/p1"), 101);
  auto start = plain.read_text();
  ASSERT_TRUE(start);
  EXPECT_EQ(keys_of_plain(*start), keys_of_plain(captured("call-websocket-server-ulaw", "MEDIA_START")));
  EXPECT_NE(start->find("format:ulaw optimal_frame_size:160 ptime:20"), std::string::npos) << *start;
  ASSERT_FALSE(plain.write(true, "GET_STATUS"));
  auto status = plain.read_text();
  ASSERT_TRUE(status);
  EXPECT_EQ(keys_of_plain(*status), keys_of_plain(captured("call-websocket-server-ulaw", "STATUS")));

  media_client json(peer.port());
  ASSERT_EQ(json.connect("/media/j1"), 101);
  auto jstart = json.read_text();
  ASSERT_TRUE(jstart);
  auto ours = nlohmann::ordered_json::parse(*jstart);
  auto real = nlohmann::ordered_json::parse(captured("call-websocket-client-slin16-json", "{\"event\":\"MEDIA_START\""));
  std::vector<std::string> our_keys, real_keys;
  for (auto& [k, v] : ours.items()) our_keys.push_back(k);
  for (auto& [k, v] : real.items()) real_keys.push_back(k);
  EXPECT_EQ(our_keys, real_keys);
  EXPECT_EQ(ours["optimal_frame_size"], 640);
  ASSERT_FALSE(json.write(true, "not json"));
  auto error = json.read_text();
  ASSERT_TRUE(error);
  EXPECT_EQ(nlohmann::json::parse(*error)["event"], "ERROR");
}

TEST(websocket_media_peer, only_whole_frames_are_queued) {
  websocket_media_peer peer;
  peer.add_connection("f1", "slin16");
  media_client c(peer.port());
  ASSERT_EQ(c.connect("/media/f1"), 101);
  ASSERT_TRUE(c.read_text());
  ASSERT_FALSE(c.write(false, std::string(320, '\x01')));  // half a frame: dropped
  ASSERT_FALSE(c.write(false, std::string(960, '\x02')));  // 1.5 frames: one kept
  ASSERT_FALSE(c.write(false, std::string(1280, '\x03'))); // two frames
  ASSERT_TRUE(peer.wait_for_received("f1", 3, 5s));
  auto counts = peer.counts("f1");
  EXPECT_EQ(counts.frames_received, 3u);
  EXPECT_EQ(counts.partial_dropped, 2u);
  ASSERT_TRUE(peer.wait_for_played("f1", 3, 5s));
  auto played = peer.played("f1");
  EXPECT_EQ(played[0].bytes, std::vector<std::uint8_t>(640, 0x02));
  EXPECT_EQ(played[2].bytes, std::vector<std::uint8_t>(640, 0x03));
  EXPECT_GE(played[2].at - played[0].at, 40ms);  // one frame per 20 ms slot
}

TEST(websocket_media_peer, streams_caller_audio_one_frame_per_ptime) {
  websocket_media_peer peer;
  peer.add_connection("s1", "slin16");
  media_client c(peer.port());
  ASSERT_EQ(c.connect("/media/s1"), 101);
  ASSERT_TRUE(c.read_text());
  std::vector<std::int16_t> pcm(5 * 320 + 100);
  for (std::size_t i = 0; i < pcm.size(); ++i) pcm[i] = static_cast<std::int16_t>(i * 7 - 3000);
  peer.stream("s1", pcm);
  std::vector<std::size_t> sizes;
  const auto began = steady::now();
  std::string joined;
  for (int i = 0; i < 6; ++i) {
    auto m = c.read();
    ASSERT_TRUE(m);
    ASSERT_FALSE(m->text);
    sizes.push_back(m->data.size());
    joined += m->data;
  }
  EXPECT_GE(steady::now() - began, 80ms);  // six frames on a 20 ms clock
  EXPECT_EQ(sizes, (std::vector<std::size_t>{640, 640, 640, 640, 640, 200}));
  ASSERT_EQ(joined.size(), pcm.size() * 2);
  for (std::size_t i = 0; i < pcm.size(); ++i) {
    auto v = static_cast<std::int16_t>(static_cast<std::uint8_t>(joined[2 * i]) |
                                       (static_cast<std::uint8_t>(joined[2 * i + 1]) << 8));
    ASSERT_EQ(v, pcm[i]) << "sample " << i;
  }
}

TEST(websocket_media_peer, flow_control_marks_and_flush_behave_like_asterisk) {
  websocket_media_peer peer;
  peer.add_connection("q1", "ulaw");
  media_client c(peer.port());
  ASSERT_EQ(c.connect("/media/q1"), 101);
  ASSERT_TRUE(c.read_text());
  // Paused, so that nothing is played meanwhile: 1010 frames in messages of 101 give
  // XOFF at 900 and the last 10 discarded.
  ASSERT_FALSE(c.write(true, "PAUSE_MEDIA"));
  for (int i = 0; i < 10; ++i) ASSERT_FALSE(c.write(false, std::string(160 * 101, '\x55')));
  ASSERT_FALSE(c.write(true, "MARK_MEDIA m1"));
  auto xoff = c.read_text();
  ASSERT_TRUE(xoff);
  EXPECT_EQ(*xoff, "MEDIA_XOFF");
  ASSERT_TRUE(peer.wait_for_received("q1", 1000, 5s));
  EXPECT_EQ(peer.counts("q1").discarded_full, 10u);
  ASSERT_FALSE(c.write(true, "GET_STATUS"));
  auto status = c.read_text();
  ASSERT_TRUE(status);
  EXPECT_NE(status->find("queue_length:1000 xon_level:800 xoff_level:900 queue_full:true bulk_media:false "
                         "media_paused:true"),
            std::string::npos)
      << *status;
  ASSERT_FALSE(c.write(true, "CONTINUE_MEDIA"));
  ASSERT_FALSE(c.write(true, "FLUSH_MEDIA"));
  auto next = c.read_text();  // the flushed mark is never reached; XON follows the flush
  ASSERT_TRUE(next);
  EXPECT_EQ(*next, "MEDIA_XON");
  EXPECT_EQ(peer.counts("q1").queue_length, 0u);

  ASSERT_FALSE(c.write(false, std::string(160 * 3, '\x11')));
  ASSERT_FALSE(c.write(true, "MARK_MEDIA m2"));
  ASSERT_FALSE(c.write(true, "REPORT_QUEUE_DRAINED"));
  auto mark = c.read_text();
  ASSERT_TRUE(mark);
  EXPECT_EQ(*mark, "MEDIA_MARK_PROCESSED m2");
  auto drained = c.read_text();
  ASSERT_TRUE(drained);
  EXPECT_EQ(*drained, "QUEUE_DRAINED");
  EXPECT_GE(peer.played("q1").size(), 3u);
}

TEST(websocket_media_peer, oversized_message_closes_with_1009_and_hangup_with_1000) {
  websocket_media_peer peer;
  peer.add_connection("big", "slin16");
  peer.add_connection("bye", "slin16", /*json=*/true);

  media_client big(peer.port());
  ASSERT_EQ(big.connect("/media/big"), 101);
  ASSERT_TRUE(big.read_text());
  big.write(false, std::string(65536, '\0'));
  EXPECT_FALSE(big.read());  // the close frame, then the socket goes (our close reply may hit EPIPE)
  EXPECT_EQ(big.close_code(), 1009);
  EXPECT_TRUE(peer.wait_for_closed("big", 5s));

  media_client bye(peer.port());
  ASSERT_EQ(bye.connect("/media/bye"), 101);
  ASSERT_TRUE(bye.read_text());
  ASSERT_FALSE(bye.write(true, R"({"command":"HANGUP"})"));
  EXPECT_FALSE(bye.read());
  EXPECT_EQ(bye.last_error, websocket::error::closed);
  EXPECT_EQ(bye.close_code(), 1000);
  EXPECT_TRUE(peer.wait_for_closed("bye", 5s));
  EXPECT_EQ(peer.counts("bye").close_code, 1000);

  media_client again(peer.port());
  EXPECT_EQ(again.connect("/media/bye"), 404);  // the channel is gone
}

}  // namespace
}  // namespace npcl::fakes
