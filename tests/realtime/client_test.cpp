// realtime::client against the fake Realtime server (tests/fakes): a real
// WebSocket peer on 127.0.0.1, plain and TLS, speaking the GA and beta dialects.
#include "npcl/realtime/client.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>

#include <cmath>
#include <condition_variable>
#include <future>
#include <mutex>
#include <numbers>
#include <thread>

#include "fakes/fake_realtime_server.hpp"
#include "fakes/test_tls.hpp"
#include "npcl/audio/g711.hpp"
#include "npcl/obs/metrics.hpp"
#include "npcl/realtime/errc.hpp"
#include "realtime/base64.hpp"

namespace npcl::realtime {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;
constexpr auto deadline = 5s;

// What the link reported, filled from the strand, read from the test thread.
struct recorder {
  std::mutex mutex;
  std::condition_variable changed;
  bool ready = false;
  std::size_t audio_samples = 0;
  std::vector<std::string> audio_items;
  int audio_done = 0;
  int responses_done = 0;
  int speech_started = 0;
  std::vector<std::tuple<std::string, std::string, std::string>> tool_calls;
  std::vector<transcript_line> transcripts;
  std::vector<link_error> errors;
  std::optional<error_code> closed;
  int usages = 0;
  int calls_after_close = 0;  // handlers that ran after the test closed the link
  bool test_closed = false;   // set on the strand when the test calls close()

  template <class F>
  void update(F f) {
    {
      std::lock_guard lock(mutex);
      if (test_closed) ++calls_after_close;
      f();
    }
    changed.notify_all();
  }

  template <class P>
  testing::AssertionResult wait(P predicate, const char* what, std::chrono::milliseconds timeout = deadline) {
    std::unique_lock lock(mutex);
    if (changed.wait_for(lock, timeout, [&] { return predicate(); })) return testing::AssertionSuccess();
    return testing::AssertionFailure() << "timed out waiting for " << what;
  }
};

link_handlers handlers_for(recorder& r) {
  link_handlers h;
  h.on_ready = [&r] { r.update([&] { r.ready = true; }); };
  h.on_audio = [&r](const std::string& item, std::vector<std::int16_t> pcm) {
    r.update([&] {
      r.audio_samples += pcm.size();
      if (r.audio_items.empty() || r.audio_items.back() != item) r.audio_items.push_back(item);
    });
  };
  h.on_audio_done = [&r](const std::string&) { r.update([&] { ++r.audio_done; }); };
  h.on_response_done = [&r] { r.update([&] { ++r.responses_done; }); };
  h.on_speech_started = [&r] { r.update([&] { ++r.speech_started; }); };
  h.on_tool_call = [&r](const std::string& id, const std::string& name, const std::string& args) {
    r.update([&] { r.tool_calls.emplace_back(id, name, args); });
  };
  h.on_transcript = [&r](const transcript_line& l) { r.update([&] { r.transcripts.push_back(l); }); };
  h.on_usage = [&r](const usage&) { r.update([&] { ++r.usages; }); };
  h.on_error = [&r](const link_error& e) { r.update([&] { r.errors.push_back(e); }); };
  h.on_closed = [&r](error_code ec) { r.update([&] { r.closed = ec; }); };
  return h;
}

link_config phone_config(int rate = 8000) {
  link_config c;
  c.call_format = audio::audio_format{rate, 1, 20};
  c.instructions = "You answer NPCL customers.";
  c.voice = "alloy";
  c.tools.push_back({"get_bill", "Latest bill", R"({"type":"object","properties":{"account":{"type":"string"}}})"});
  return c;
}

// An HTTP CONNECT proxy on 127.0.0.1 for one tunnel: records the request
// header, then answers `answer` and, on 200, splices bytes both ways.
struct connect_proxy : std::enable_shared_from_this<connect_proxy> {
  using tcp = net::ip::tcp;
  connect_proxy(net::io_context& ioc, std::string answer)
      : acceptor(ioc, {net::ip::make_address("127.0.0.1"), 0}), down(ioc), up(ioc), answer(std::move(answer)) {}

  void start() {
    acceptor.async_accept(down, [self = shared_from_this()](error_code ec) {
      if (!ec) self->read_request();
    });
  }
  std::uint16_t port() const { return acceptor.local_endpoint().port(); }
  std::string header() {
    std::lock_guard lock(mutex);
    return seen;
  }
  void stop() {
    error_code ignored;
    acceptor.close(ignored);
    down.close(ignored);
    up.close(ignored);
  }

  void read_request() {
    net::async_read_until(down, net::dynamic_buffer(buffer), "\r\n\r\n", [self = shared_from_this()](error_code ec, std::size_t n) {
      if (ec) return;
      std::string line = self->buffer.substr(0, self->buffer.find("\r\n"));
      {
        std::lock_guard lock(self->mutex);
        self->seen = self->buffer.substr(0, n);
      }
      // "CONNECT 127.0.0.1:<port> HTTP/1.1"
      auto target = line.substr(8, line.find(' ', 8) - 8);
      auto port = static_cast<std::uint16_t>(std::stoi(target.substr(target.rfind(':') + 1)));
      self->up.async_connect({net::ip::make_address("127.0.0.1"), port}, [self](error_code ec) {
        if (ec) return;
        net::async_write(self->down, net::buffer(self->answer), [self](error_code ec, std::size_t) {
          if (ec || self->answer.find(" 200 ") == std::string::npos) return;
          self->splice(self->down, self->up, self->to_up);
          self->splice(self->up, self->down, self->to_down);
        });
      });
    });
  }
  void splice(tcp::socket& from, tcp::socket& to, std::array<char, 4096>& chunk) {
    from.async_read_some(net::buffer(chunk), [self = shared_from_this(), &from, &to, &chunk](error_code ec, std::size_t n) {
      if (ec) {
        error_code ignored;
        to.shutdown(tcp::socket::shutdown_both, ignored);
        return;
      }
      net::async_write(to, net::buffer(chunk.data(), n), [self, &from, &to, &chunk](error_code ec, std::size_t) {
        if (!ec) self->splice(from, to, chunk);
      });
    });
  }

  tcp::acceptor acceptor;          // listens for the one client
  tcp::socket down;                // towards the client
  tcp::socket up;                  // towards the fake server
  std::string answer;              // status line and header sent back
  std::string buffer;              // the CONNECT request as read
  std::array<char, 4096> to_up{};  // bytes in flight client → server
  std::array<char, 4096> to_down{};  // bytes in flight server → client
  std::mutex mutex;                // guards seen
  std::string seen;                // the request header received
};

// One io_context thread and a strand, as the daemon runs a call.
class client_test : public testing::Test {
 protected:
  client_test() : strand_(net::make_strand(ioc_)), guard_(ioc_.get_executor()) {
    thread_ = std::thread([this] { ioc_.run(); });
  }
  ~client_test() override {
    on_strand([this] { link_.reset(); });
    guard_.reset();
    ioc_.stop();
    thread_.join();
  }

  // Runs `f` on the call's strand and waits for it.
  template <class F>
  void on_strand(F f) {
    std::promise<void> done;
    net::post(strand_, [&] {
      f();
      done.set_value();
    });
    done.get_future().wait();
  }

  client_options options_for(const fakes::fake_realtime_server& fake, dialect d = dialect::ga) {
    client_options o;
    o.dialect = d;
    o.url = fake.url();
    o.service.api_key = "sk-test-key";
    o.service.model = "gpt-realtime";
    o.handshake_timeout = 3s;
    return o;
  }

  void start(client_options o, link_config c = phone_config()) {
    on_strand([&] {
      link_ = std::make_unique<client>(strand_, std::move(o), metrics_);
      link_->start(std::move(c), handlers_for(rec_));
    });
  }

  // Caller audio: `ms` of a loud 300 Hz tone then `silence_ms` of silence, in 20 ms frames.
  void speak(int rate, int ms, int silence_ms) {
    const int frame = rate / 50;
    for (int t = 0; t < ms + silence_ms; t += 20) {
      std::vector<std::int16_t> pcm(static_cast<std::size_t>(frame), 0);
      if (t < ms)
        for (int i = 0; i < frame; ++i)
          pcm[static_cast<std::size_t>(i)] = static_cast<std::int16_t>(
              9000 * std::sin(2 * std::numbers::pi * 300 * (t * rate / 1000 + i) / rate));
      on_strand([&] { link_->send_audio(pcm); });
    }
  }

  std::uint64_t counter(const std::string& name, const obs::labels& l = {}) {
    return metrics_.get_counter(name, "", l).value();
  }

  net::io_context ioc_;
  net::strand<net::io_context::executor_type> strand_;
  net::executor_work_guard<net::io_context::executor_type> guard_;
  std::thread thread_;
  obs::metrics_registry metrics_;
  recorder rec_;
  std::unique_ptr<client> link_;
};

TEST_F(client_test, ga_connects_and_the_session_update_is_accepted) {
  fakes::fake_realtime_server fake;
  start(options_for(fake));
  ASSERT_TRUE(rec_.wait([&] { return rec_.ready; }, "on_ready"));
  ASSERT_TRUE(fake.wait_for_session_update(deadline));
  auto handshakes = fake.handshakes();
  ASSERT_EQ(handshakes.size(), 1u);
  EXPECT_EQ(handshakes[0].target, "/v1/realtime?model=gpt-realtime");
  EXPECT_FALSE(handshakes[0].beta);
  auto update = json::parse(*fake.last_session_update());
  EXPECT_EQ(update["session"]["audio"]["input"]["format"]["type"], "audio/pcmu");
  EXPECT_FALSE(update["session"].contains("temperature"));
  std::lock_guard lock(rec_.mutex);
  EXPECT_TRUE(rec_.errors.empty());
}

TEST_F(client_test, caller_turn_gets_an_audio_answer_at_the_call_rate) {
  fakes::fake_realtime_server fake;
  fake.script_audio(fakes::fake_realtime_server::tone(500), "Namaste, NPCL here.");
  start(options_for(fake));
  ASSERT_TRUE(rec_.wait([&] { return rec_.ready; }, "on_ready"));
  speak(8000, 600, 800);
  ASSERT_TRUE(fake.wait_for_audio_ms(1400, deadline));
  ASSERT_TRUE(rec_.wait([&] { return rec_.responses_done >= 1 && rec_.audio_done >= 1; }, "the answer"));
  std::lock_guard lock(rec_.mutex);
  EXPECT_GE(rec_.speech_started, 1);
  // 500 ms of assistant audio at 8 kHz.
  EXPECT_EQ(rec_.audio_samples, 4000u);
  EXPECT_EQ(rec_.usages, 1);
  bool heard_transcript = false;
  for (const auto& t : rec_.transcripts)
    if (t.who == transcript_line::speaker::assistant && t.text == "Namaste, NPCL here.") heard_transcript = true;
  EXPECT_TRUE(heard_transcript);
  // Caller audio went out in appends of 40 ms (320 μ-law bytes).
  int appends = 0;
  for (const auto& e : fake.received()) {
    if (e.type != "input_audio_buffer.append") continue;
    ++appends;
    EXPECT_EQ(json::parse(e.raw)["audio"].get<std::string>().size(), 428u);  // base64 of 320 bytes
  }
  EXPECT_EQ(appends, 35);
}

TEST_F(client_test, wideband_call_round_trips_pcm16_through_24k) {
  fakes::fake_realtime_server fake;
  fake.script_audio(fakes::fake_realtime_server::tone(400), "ok");
  start(options_for(fake), phone_config(16000));
  ASSERT_TRUE(rec_.wait([&] { return rec_.ready; }, "on_ready"));
  on_strand([&] { link_->request_response("Greet the caller."); });
  ASSERT_TRUE(rec_.wait([&] { return rec_.responses_done >= 1; }, "the greeting"));
  std::lock_guard lock(rec_.mutex);
  // 400 ms at 16 kHz, give or take the resampler's settling.
  EXPECT_NEAR(static_cast<double>(rec_.audio_samples), 6400.0, 32.0);
  auto update = json::parse(*fake.last_session_update());
  EXPECT_EQ(update["session"]["audio"]["output"]["format"]["rate"], 24000);
}

TEST_F(client_test, cancel_and_truncate_reach_the_server_with_clamped_milliseconds) {
  fakes::fake_realtime_server fake;
  fake.script_audio(fakes::fake_realtime_server::tone(3000), "a long answer");
  start(options_for(fake));
  ASSERT_TRUE(rec_.wait([&] { return rec_.ready; }, "on_ready"));
  on_strand([&] { link_->request_response(); });
  ASSERT_TRUE(rec_.wait([&] { return rec_.audio_samples > 0; }, "first audio"));
  std::string item;
  on_strand([&] {
    item = rec_.audio_items.front();
    link_->cancel_response();
    // Far more than was received: the link clamps it to what arrived.
    link_->truncate(item, 60s);
  });
  ASSERT_TRUE(fake.wait_for_cancel(deadline));
  ASSERT_TRUE(fake.wait_for_truncation(deadline));
  auto t = fake.truncations();
  EXPECT_EQ(t[0].item_id, item);
  EXPECT_GT(t[0].audio_end_ms, 0);
  EXPECT_LE(t[0].audio_end_ms, 3000);
  ASSERT_TRUE(rec_.wait([&] { return rec_.responses_done >= 1; }, "the cancelled response's end"));
  std::lock_guard lock(rec_.mutex);
  for (const auto& e : rec_.errors) ADD_FAILURE() << "unexpected error " << e.code << ": " << e.message;
}

TEST_F(client_test, tool_call_result_goes_back_and_a_follow_up_response_is_asked_for) {
  fakes::fake_realtime_server fake;
  fake.script_function_call("get_bill", R"({"account":"123"})");
  fake.script_audio(fakes::fake_realtime_server::tone(200), "Your bill is 1234 rupees.");
  start(options_for(fake));
  ASSERT_TRUE(rec_.wait([&] { return rec_.ready; }, "on_ready"));
  on_strand([&] { link_->request_response(); });
  ASSERT_TRUE(rec_.wait([&] { return !rec_.tool_calls.empty(); }, "the tool call"));
  std::string call_id;
  {
    std::lock_guard lock(rec_.mutex);
    ASSERT_EQ(rec_.tool_calls.size(), 1u);
    call_id = std::get<0>(rec_.tool_calls[0]);
    EXPECT_EQ(std::get<1>(rec_.tool_calls[0]), "get_bill");
    EXPECT_EQ(json::parse(std::get<2>(rec_.tool_calls[0])), (json{{"account", "123"}}));
  }
  on_strand([&] { link_->send_tool_result(call_id, R"({"amount":1234})"); });
  ASSERT_TRUE(fake.wait_for_function_output(deadline));
  EXPECT_EQ(fake.function_outputs()[0].call_id, call_id);
  ASSERT_TRUE(fake.wait_for_event("response.create", deadline, 2));
  ASSERT_TRUE(rec_.wait([&] { return rec_.responses_done >= 2 && rec_.audio_samples > 0; }, "the spoken answer"));
  std::lock_guard lock(rec_.mutex);
  EXPECT_TRUE(rec_.errors.empty());
}

TEST_F(client_test, history_lines_are_replayed_as_items) {
  fakes::fake_realtime_server fake;
  start(options_for(fake));
  ASSERT_TRUE(rec_.wait([&] { return rec_.ready; }, "on_ready"));
  on_strand([&] {
    link_->add_history({transcript_line::speaker::caller, "", "My meter is broken"});
    link_->add_history({transcript_line::speaker::assistant, "", "I will raise a complaint"});
  });
  ASSERT_TRUE(fake.wait_for_history_items(2, deadline));
  auto items = fake.history_items();
  auto item = json::parse(items[1]);
  if (item.contains("item")) item = item["item"];  // the event or the item alone
  EXPECT_EQ(item["role"], "assistant");
  EXPECT_EQ(item["content"][0]["type"], "output_text");
  std::lock_guard lock(rec_.mutex);
  EXPECT_TRUE(rec_.errors.empty());
}

TEST_F(client_test, beta_dialect_sends_its_header_and_flat_session) {
  fakes::fake_realtime_server fake;
  fake.script_audio(fakes::fake_realtime_server::tone(300), "hello");
  start(options_for(fake, dialect::beta));
  ASSERT_TRUE(rec_.wait([&] { return rec_.ready; }, "on_ready"));
  EXPECT_TRUE(fake.handshakes().at(0).beta);
  auto update = json::parse(*fake.last_session_update());
  EXPECT_EQ(update["session"]["input_audio_format"], "g711_ulaw");
  EXPECT_TRUE(update["session"].contains("temperature"));
  on_strand([&] { link_->request_response(); });
  ASSERT_TRUE(rec_.wait([&] { return rec_.responses_done >= 1; }, "the response"));
  std::lock_guard lock(rec_.mutex);
  EXPECT_EQ(rec_.audio_samples, 2400u);
  EXPECT_TRUE(rec_.errors.empty());
}

TEST_F(client_test, bad_key_is_a_fatal_error_then_closed) {
  fakes::fake_realtime_server fake;
  auto o = options_for(fake);
  o.service.api_key = "sk-wrong";
  start(o);
  ASSERT_TRUE(rec_.wait([&] { return rec_.closed.has_value(); }, "on_closed"));
  std::lock_guard lock(rec_.mutex);
  ASSERT_EQ(rec_.errors.size(), 1u);
  EXPECT_TRUE(rec_.errors[0].fatal);
  EXPECT_EQ(rec_.errors[0].code, "invalid_api_key");
  EXPECT_EQ(rec_.errors[0].message.find("sk-wrong"), std::string::npos);
  EXPECT_FALSE(rec_.ready);
  EXPECT_EQ(*rec_.closed, make_error_code(errc::handshake_refused));
  EXPECT_EQ(counter("realtime_errors_total", {{"code", "invalid_api_key"}}), 1u);
}

TEST_F(client_test, quota_error_event_is_fatal_and_benign_races_are_not_reported) {
  fakes::fake_realtime_server fake;
  start(options_for(fake));
  ASSERT_TRUE(rec_.wait([&] { return rec_.ready; }, "on_ready"));
  fake.send_error("invalid_request_error", "response_cancel_not_active", "Cancellation failed");
  fake.send_error("insufficient_quota", "insufficient_quota", "You exceeded your current quota");
  ASSERT_TRUE(rec_.wait([&] { return rec_.closed.has_value(); }, "on_closed"));
  std::lock_guard lock(rec_.mutex);
  ASSERT_EQ(rec_.errors.size(), 1u);
  EXPECT_EQ(rec_.errors[0].code, "insufficient_quota");
  EXPECT_TRUE(rec_.errors[0].fatal);
  EXPECT_EQ(counter("realtime_errors_total", {{"code", "response_cancel_not_active"}}), 1u);
  EXPECT_TRUE(fake.wait_for_no_connections(deadline));
}

TEST_F(client_test, tls_with_the_test_ca_connects) {
  fakes::fake_realtime_options fo;
  fo.tls = true;
  fakes::fake_realtime_server fake(fo);
  auto o = options_for(fake);
  o.ca_file = fake.ca_file();
  start(o);
  ASSERT_TRUE(rec_.wait([&] { return rec_.ready; }, "on_ready over TLS"));
  EXPECT_EQ(fake.tls_failures(), 0);
}

TEST_F(client_test, tls_with_a_wrong_ca_fails_fatally) {
  fakes::fake_realtime_options fo;
  fo.tls = true;
  fakes::fake_realtime_server fake(fo);
  fakes::test_tls other("some other CA");
  auto o = options_for(fake);
  o.ca_file = other.ca_file();
  start(o);
  ASSERT_TRUE(rec_.wait([&] { return rec_.closed.has_value(); }, "on_closed"));
  std::lock_guard lock(rec_.mutex);
  ASSERT_EQ(rec_.errors.size(), 1u);
  EXPECT_TRUE(rec_.errors[0].fatal);
  EXPECT_EQ(rec_.errors[0].code, "tls_handshake_failed");
  EXPECT_FALSE(rec_.ready);
}

TEST_F(client_test, silent_peer_hits_the_handshake_timeout) {
  // Accepts TCP and never answers the upgrade.
  net::ip::tcp::acceptor mute(ioc_, {net::ip::make_address("127.0.0.1"), 0});
  net::ip::tcp::socket accepted(ioc_);
  mute.async_accept(accepted, [](error_code) {});
  client_options o;
  o.url = "ws://127.0.0.1:" + std::to_string(mute.local_endpoint().port()) + "/v1/realtime";
  o.service.api_key = "sk-test-key";
  o.handshake_timeout = 300ms;
  auto begun = std::chrono::steady_clock::now();
  start(o);
  ASSERT_TRUE(rec_.wait([&] { return rec_.closed.has_value(); }, "on_closed"));
  EXPECT_GE(std::chrono::steady_clock::now() - begun, 300ms);
  std::lock_guard lock(rec_.mutex);
  EXPECT_EQ(*rec_.closed, make_error_code(errc::handshake_timeout));
  ASSERT_EQ(rec_.errors.size(), 1u);
  EXPECT_EQ(rec_.errors[0].code, "handshake_timeout");
  on_strand([&] { mute.close(); accepted.close(); });
}

TEST_F(client_test, audio_beyond_the_queue_is_dropped_oldest_first_and_counted) {
  fakes::fake_realtime_server fake;
  auto o = options_for(fake);
  o.audio_queue_max = 2;
  on_strand([&] {
    link_ = std::make_unique<client>(strand_, o, metrics_);
    link_->start(phone_config(), handlers_for(rec_));
    // Ten appends while the socket is still connecting: only the newest two wait.
    for (int i = 0; i < 10; ++i) {
      std::vector<std::int16_t> pcm(320, static_cast<std::int16_t>(1000 * (i + 1)));
      link_->send_audio(pcm);
    }
    link_->request_response();  // control events are never dropped
  });
  ASSERT_TRUE(fake.wait_for_event("response.create", deadline));
  EXPECT_EQ(counter("realtime_audio_dropped_total"), 8u);
  auto received = fake.received();
  ASSERT_GE(received.size(), 4u);
  EXPECT_EQ(received[0].type, "session.update");
  EXPECT_EQ(received[1].type, "input_audio_buffer.append");
  EXPECT_EQ(received[2].type, "input_audio_buffer.append");
  EXPECT_EQ(received[3].type, "response.create");
  // The survivors are the last two appends (levels 9000 and 10000).
  auto first_byte = [](const std::string& raw) {
    std::vector<std::uint8_t> bytes;
    EXPECT_TRUE(detail::base64_decode(json::parse(raw)["audio"].get<std::string>(), bytes));
    return bytes.empty() ? -1 : int(bytes[0]);
  };
  EXPECT_EQ(first_byte(received[1].raw), audio::ulaw_encode(std::int16_t{9000}));
  EXPECT_EQ(first_byte(received[2].raw), audio::ulaw_encode(std::int16_t{10000}));
}

TEST_F(client_test, https_proxy_tunnel_carries_the_connection) {
  fakes::fake_realtime_server fake;
  auto proxy = std::make_shared<connect_proxy>(ioc_, "HTTP/1.1 200 Connection established\r\n\r\n");
  proxy->start();
  auto o = options_for(fake);
  o.https_proxy = "http://user:pw@127.0.0.1:" + std::to_string(proxy->port());
  start(o);
  ASSERT_TRUE(rec_.wait([&] { return rec_.ready; }, "on_ready through the proxy"));
  auto header = proxy->header();
  EXPECT_EQ(header.rfind("CONNECT 127.0.0.1:" + std::to_string(fake.port()) + " HTTP/1.1\r\n", 0), 0u);
  EXPECT_NE(header.find("Proxy-Authorization: Basic dXNlcjpwdw==\r\n"), std::string::npos);  // user:pw
  on_strand([&] { proxy->stop(); });
}

TEST_F(client_test, proxy_refusal_ends_the_link_with_its_status_line) {
  fakes::fake_realtime_server fake;
  auto proxy = std::make_shared<connect_proxy>(ioc_, "HTTP/1.1 407 Proxy Authentication Required\r\n\r\n");
  proxy->start();
  auto o = options_for(fake);
  o.https_proxy = "127.0.0.1:" + std::to_string(proxy->port());
  start(o);
  ASSERT_TRUE(rec_.wait([&] { return rec_.closed.has_value(); }, "on_closed"));
  std::lock_guard lock(rec_.mutex);
  EXPECT_EQ(*rec_.closed, make_error_code(errc::proxy_refused));
  ASSERT_EQ(rec_.errors.size(), 1u);
  EXPECT_NE(rec_.errors[0].message.find("407"), std::string::npos);
  EXPECT_EQ(fake.handshakes().size(), 0u);
  on_strand([&] { proxy->stop(); });
}

TEST_F(client_test, no_handler_runs_after_close) {
  fakes::fake_realtime_server fake;
  fake.script_audio(fakes::fake_realtime_server::tone(2000), "long");
  start(options_for(fake));
  ASSERT_TRUE(rec_.wait([&] { return rec_.ready; }, "on_ready"));
  on_strand([&] { link_->request_response(); });
  ASSERT_TRUE(rec_.wait([&] { return rec_.audio_samples > 0; }, "first audio"));
  on_strand([&] {
    link_->close();
    std::lock_guard lock(rec_.mutex);
    rec_.test_closed = true;
  });
  ASSERT_TRUE(fake.wait_for_no_connections(deadline));
  on_strand([&] { link_->close(); });  // idempotent
  on_strand([] {});                     // let anything already posted run
  std::lock_guard lock(rec_.mutex);
  EXPECT_EQ(rec_.calls_after_close, 0);
  EXPECT_FALSE(rec_.closed.has_value());
}

}  // namespace
}  // namespace npcl::realtime
