// The fake OpenAI Realtime server checked with a small Beast client: both dialects, the
// reference's error events for malformed client events, a whole VAD turn, cancel and
// truncate bounds, a function-call round trip, TLS trust, and the handshake refusals.
#include "fakes/fake_realtime_server.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numbers>
#include <type_traits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core/detail/base64.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "fakes/test_tls.hpp"
#include "npcl/audio/g711.hpp"
#include "util/beast.hpp"

namespace npcl::fakes {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;
using tcp = net::ip::tcp;
namespace ssl = net::ssl;

std::string base64(std::string_view in) {
  namespace b64 = boost::beast::detail::base64;
  std::string out(b64::encoded_size(in.size()), '\0');
  out.resize(b64::encode(out.data(), in.data(), in.size()));
  return out;
}

std::string unbase64(std::string_view in) {
  namespace b64 = boost::beast::detail::base64;
  std::string out(b64::decoded_size(in.size()), '\0');
  out.resize(b64::decode(out.data(), in.data(), in.size()).first);
  return out;
}

// Caller audio as μ-law at 8 kHz: `ms` of silence or of a loud two-tone signal.
std::string ulaw_audio(int ms, bool speech) {
  std::string out(static_cast<std::size_t>(ms) * 8, '\0');
  for (std::size_t i = 0; i < out.size(); ++i) {
    const double t = static_cast<double>(i) / 8000.0;
    const double v = speech ? 6000.0 * std::sin(2 * std::numbers::pi * 220 * t) + 3000.0 * std::sin(2 * std::numbers::pi * 710 * t) : 0.0;
    out[i] = static_cast<char>(audio::ulaw_encode(static_cast<std::int16_t>(v)));
  }
  return out;
}

// The same as PCM16 LE at 24 kHz.
std::string pcm16_audio(int ms, bool speech) {
  std::string out(static_cast<std::size_t>(ms) * 48, '\0');
  for (std::size_t i = 0; i < out.size() / 2; ++i) {
    const double t = static_cast<double>(i) / 24000.0;
    const double v = speech ? 6000.0 * std::sin(2 * std::numbers::pi * 220 * t) + 3000.0 * std::sin(2 * std::numbers::pi * 710 * t) : 0.0;
    const auto s = static_cast<std::uint16_t>(static_cast<std::int16_t>(v));
    out[2 * i] = static_cast<char>(s & 0xff);
    out[2 * i + 1] = static_cast<char>(s >> 8);
  }
  return out;
}

double ulaw_rms(const std::string& bytes) {
  double sq = 0;
  for (unsigned char b : bytes) {
    const double v = audio::ulaw_decode(b);
    sq += v * v;
  }
  return bytes.empty() ? 0 : std::sqrt(sq / static_cast<double>(bytes.size()));
}

// A Realtime client over any Beast WebSocket stream; every operation has a deadline.
class client {
 public:
  virtual ~client() = default;

  /// Next event, or null on timeout, error or close (close_code() tells which).
  json next(std::chrono::milliseconds timeout = 5s) {
    std::string text;
    if (read(text, timeout)) return nullptr;
    json ev = json::parse(text, nullptr, false);
    events.push_back(ev);
    return ev;
  }

  /// Reads until an event of `type` arrives; null if it does not within `timeout`.
  json until(const std::string& type, std::chrono::milliseconds timeout = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return nullptr;
      json ev = next(left);
      if (ev.is_null()) return nullptr;
      if (ev["type"] == type) return ev;
    }
  }

  /// Types of every event read so far, starting at index `from`.
  std::vector<std::string> types(std::size_t from = 0) const {
    std::vector<std::string> out;
    for (std::size_t i = from; i < events.size(); ++i) out.push_back(events[i]["type"]);
    return out;
  }

  void send(const json& ev) { ASSERT_FALSE(write(ev.dump())) << "write failed"; }
  void send_raw(const std::string& text) { ASSERT_FALSE(write(text)) << "write failed"; }

  void append(const std::string& bytes, int chunk_bytes) {
    for (std::size_t off = 0; off < bytes.size(); off += static_cast<std::size_t>(chunk_bytes))
      send({{"type", "input_audio_buffer.append"}, {"audio", base64(bytes.substr(off, chunk_bytes))}});
  }

  virtual int close_code() const = 0;
  virtual error_code write(const std::string& text) = 0;
  virtual error_code read(std::string& text, std::chrono::milliseconds timeout) = 0;

  std::vector<json> events;  ///< every event read, in order
};

template <class Ws>
class ws_client : public client {
 public:
  template <class... Args>
  explicit ws_client(Args&&... args) : ws_(ioc_, std::forward<Args>(args)...) {}

  // Connects to 127.0.0.1:port and upgrades with `headers`; error on failure.
  error_code connect(std::uint16_t port, const std::vector<std::pair<std::string, std::string>>& headers,
                     const std::string& target = "/v1/realtime?model=gpt-realtime") {
    auto& tcp_layer = beast::get_lowest_layer(ws_);
    tcp_layer.expires_after(5s);
    error_code ec = run([&](auto done) {
      tcp_layer.async_connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port), done);
    });
    if (ec) return ec;
    if constexpr (!std::is_same_v<typename Ws::next_layer_type, beast::tcp_stream>) {
      ec = run([&](auto done) { ws_.next_layer().async_handshake(ssl::stream_base::client, done); });
      if (ec) return ec;
    }
    tcp_layer.expires_never();
    ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::client));
    ws_.set_option(websocket::stream_base::decorator([headers](websocket::request_type& req) {
      for (const auto& [k, v] : headers) req.set(k, v);
    }));
    ws_.read_message_max(64 * 1024 * 1024);
    return run([&](auto done) { ws_.async_handshake("127.0.0.1", target, done); });
  }

  // TLS only: the server certificate must name `host`.
  void next_layer_verify(const std::string& host) {
    ws_.next_layer().set_verify_callback(ssl::host_name_verification(host));
  }

  error_code write(const std::string& text) override {
    ws_.text(true);
    return run([&](auto done) { ws_.async_write(net::buffer(text), done); });
  }

  error_code read(std::string& text, std::chrono::milliseconds timeout) override {
    buffer_.consume(buffer_.size());
    error_code ec = run([&](auto done) { ws_.async_read(buffer_, done); }, timeout);
    if (ec == websocket::error::closed) close_code_ = ws_.reason().code;
    if (!ec) text = beast::buffers_to_string(buffer_.data());
    return ec;
  }

  int close_code() const override { return close_code_; }

 private:
  // Runs one asynchronous operation to completion or until `timeout`; a late operation is
  // cancelled by closing the socket.
  template <class Start>
  error_code run(Start start, std::chrono::milliseconds timeout = 5s) {
    bool finished = false;
    error_code result;
    start([&](error_code ec, auto&&...) {
      finished = true;
      result = ec;
    });
    ioc_.restart();
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!finished && ioc_.run_one_until(deadline) > 0) {
    }
    if (finished) return result;
    beast::get_lowest_layer(ws_).close();
    ioc_.restart();
    while (!finished && ioc_.run_one() > 0) {
    }
    return net::error::timed_out;
  }

  net::io_context ioc_;          ///< runs only inside run()
  Ws ws_;                        ///< the WebSocket
  beast::flat_buffer buffer_;    ///< last message read
  int close_code_ = 0;           ///< close code the server sent, 0 if none
};

using plain_client = ws_client<websocket::stream<beast::tcp_stream>>;
using tls_client = ws_client<websocket::stream<beast::ssl_stream<beast::tcp_stream>>>;

using header_list = std::vector<std::pair<std::string, std::string>>;
const header_list k_ga = {{"Authorization", "Bearer sk-test-key"}};
const header_list k_beta = {{"Authorization", "Bearer sk-test-key"}, {"OpenAI-Beta", "realtime=v1"}};

std::unique_ptr<plain_client> open(const fake_realtime_server& fake, const header_list& headers) {
  auto c = std::make_unique<plain_client>();
  const error_code ec = c->connect(fake.port(), headers);
  EXPECT_FALSE(ec) << ec.message();
  return c;
}

// A plain HTTP upgrade request; returns the status and body of the answer.
std::pair<unsigned, std::string> raw_upgrade(std::uint16_t port, const header_list& headers) {
  net::io_context ioc;
  tcp::socket sock(ioc);
  sock.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  bhttp::request<bhttp::empty_body> req{bhttp::verb::get, "/v1/realtime?model=gpt-realtime", 11};
  req.set(bhttp::field::host, "127.0.0.1");
  req.set(bhttp::field::connection, "Upgrade");
  req.set(bhttp::field::upgrade, "websocket");
  req.set(bhttp::field::sec_websocket_version, "13");
  req.set(bhttp::field::sec_websocket_key, "dGhlIHNhbXBsZSBub25jZQ==");
  for (const auto& [k, v] : headers) req.set(k, v);
  bhttp::write(sock, req);
  beast::flat_buffer buffer;
  bhttp::response<bhttp::string_body> res;
  bhttp::read(sock, buffer, res);
  return {res.result_int(), res.body()};
}

json ga_update(const std::string& format = "audio/pcmu", bool transcription = true) {
  json s = {{"type", "realtime"},
            {"instructions", "You are the NPCL helpline."},
            {"audio",
             {{"input",
               {{"format", {{"type", format}}},
                {"turn_detection",
                 {{"type", "server_vad"}, {"silence_duration_ms", 500}, {"prefix_padding_ms", 300}}}}},
              {"output", {{"format", {{"type", format}}}, {"voice", "marin"}}}}}};
  if (transcription) s["audio"]["input"]["transcription"] = {{"model", "gpt-4o-mini-transcribe"}};
  return {{"type", "session.update"}, {"session", s}};
}

TEST(FakeRealtime, GaSessionStartsWithCreatedAndEchoesTheEffectiveConfig) {
  fake_realtime_server fake;
  auto c = open(fake, k_ga);
  const json created = c->next();
  ASSERT_EQ(created["type"], "session.created");
  EXPECT_EQ(created["session"]["type"], "realtime");
  EXPECT_EQ(created["session"]["model"], "gpt-realtime");
  EXPECT_EQ(created["session"]["audio"]["input"]["format"]["type"], "audio/pcm");
  EXPECT_FALSE(created["session"].contains("temperature"));
  EXPECT_EQ(created["session"]["output_modalities"], json::array({"audio"}));

  const json update = ga_update();
  c->send(update);
  const json updated = c->until("session.updated");
  ASSERT_FALSE(updated.is_null());
  EXPECT_EQ(updated["session"]["audio"]["input"]["format"]["type"], "audio/pcmu");
  EXPECT_EQ(updated["session"]["audio"]["output"]["voice"], "marin");
  EXPECT_EQ(updated["session"]["instructions"], "You are the NPCL helpline.");
  // Fields the update left out keep their values; turn detection gets its defaults filled.
  EXPECT_EQ(updated["session"]["audio"]["input"]["turn_detection"]["create_response"], true);
  EXPECT_EQ(updated["session"]["tool_choice"], "auto");
  ASSERT_TRUE(fake.wait_for_session_update(2s));
  EXPECT_EQ(json::parse(*fake.last_session_update()), update);
  EXPECT_EQ(json::parse(fake.effective_session()), updated["session"]);
  ASSERT_EQ(fake.handshakes().size(), 1u);
  EXPECT_FALSE(fake.handshakes()[0].beta);
}

TEST(FakeRealtime, BetaSessionUsesTheFlatShapeAndRejectsTheGaOne) {
  fake_realtime_server fake;
  auto c = open(fake, k_beta);
  const json created = c->next();
  ASSERT_EQ(created["type"], "session.created");
  EXPECT_FALSE(created["session"].contains("type"));
  EXPECT_EQ(created["session"]["input_audio_format"], "pcm16");
  EXPECT_EQ(created["session"]["temperature"], 0.8);
  EXPECT_EQ(created["session"]["modalities"], json::array({"text", "audio"}));

  c->send(ga_update());
  const json err = c->until("error");
  ASSERT_FALSE(err.is_null());
  EXPECT_EQ(err["error"]["type"], "invalid_request_error");
  EXPECT_EQ(err["error"]["code"], "unknown_parameter");
  // Either GA-only field may be named first.
  EXPECT_TRUE(err["error"]["param"] == "session.type" || err["error"]["param"] == "session.audio") << err.dump();

  c->send({{"type", "session.update"},
           {"session", {{"input_audio_format", "g711_ulaw"}, {"voice", "alloy"}, {"temperature", 0.7}}}});
  const json updated = c->until("session.updated");
  ASSERT_FALSE(updated.is_null());
  EXPECT_EQ(updated["session"]["input_audio_format"], "g711_ulaw");
  EXPECT_EQ(updated["session"]["output_audio_format"], "pcm16");
  EXPECT_EQ(updated["session"]["temperature"], 0.7);
  EXPECT_TRUE(fake.handshakes().at(0).beta);
}

TEST(FakeRealtime, MalformedGaEventsGetTheReferenceErrorAndTheSocketStaysOpen) {
  fake_realtime_server fake;
  auto c = open(fake, k_ga);
  ASSERT_EQ(c->next()["type"], "session.created");
  struct bad_case {
    json event;
    json code;
    json param;
  };
  const std::vector<bad_case> cases = {
      {{{"type", "session.bogus"}}, "invalid_value", "type"},
      {{{"type", "session.update"}, {"session", {{"input_audio_format", "g711_ulaw"}, {"voice", "alloy"}}}},
       "unknown_parameter",
       "session.input_audio_format"},
      {{{"type", "session.update"}, {"session", {{"type", "realtime"}, {"temperature", 0.8}}}},
       "unknown_parameter",
       "session.temperature"},
      {{{"type", "session.update"}, {"session", {{"instructions", "hi"}}}}, "missing_required_parameter", "session.type"},
      {{{"type", "session.update"},
        {"session", {{"type", "realtime"}, {"audio", {{"input", {{"format", {{"type", "g711_ulaw"}}}}}}}}}},
       "invalid_value",
       "session.audio.input.format.type"},
      {{{"type", "input_audio_buffer.append"}, {"audio", "not base64!"}}, "invalid_value", "audio"},
      {{{"type", "input_audio_buffer.append"}}, "missing_required_parameter", "audio"},
      {{{"type", "conversation.item.truncate"}, {"item_id", "item_x"}, {"content_index", 0}},
       "missing_required_parameter",
       "audio_end_ms"},
      {{{"type", "response.create"}, {"response", {{"temperature", 0.8}}}}, "unknown_parameter", "response.temperature"},
      {{{"type", "response.cancel"}}, "response_cancel_not_active", nullptr},
      {{{"type", "input_audio_buffer.commit"}}, "input_audio_buffer_commit_empty", nullptr},
  };
  for (const auto& bc : cases) {
    c->send(bc.event);
    const json err = c->until("error");
    ASSERT_FALSE(err.is_null()) << bc.event.dump();
    EXPECT_EQ(err["error"]["type"], "invalid_request_error") << bc.event.dump();
    EXPECT_EQ(err["error"]["code"], bc.code) << bc.event.dump();
    EXPECT_EQ(err["error"]["param"], bc.param) << bc.event.dump();
    EXPECT_TRUE(err["error"]["message"].is_string() && !err["error"]["message"].get<std::string>().empty());
  }
  c->send({{"type", "response.cancel"}, {"event_id", "evt_mine"}});
  const json cancel_err = c->until("error");
  EXPECT_EQ(cancel_err["error"]["message"], "Cancellation failed: no active response found");
  EXPECT_EQ(cancel_err["error"]["event_id"], "evt_mine");
  c->send_raw("{not json");
  EXPECT_FALSE(c->until("error").is_null());
  // Still open and serving.
  c->send(ga_update());
  EXPECT_FALSE(c->until("session.updated").is_null());
  EXPECT_EQ(fake.open_connections(), 1);
  EXPECT_TRUE(fake.wait_for_event("session.bogus", 1s));
}

TEST(FakeRealtime, GaTurnDetectsSpeechCommitsTranscribesAndAnswersWithAudioFasterThanRealTime) {
  fake_realtime_server fake;
  fake.script_user_transcript("mera bijli ka bill kitna hai");
  fake.script_audio(fake_realtime_server::tone(2000, 500.0, 9000.0), "Your bill is 1234 rupees.");
  auto c = open(fake, k_ga);
  ASSERT_EQ(c->next()["type"], "session.created");
  c->send(ga_update("audio/pcmu", true));
  ASSERT_FALSE(c->until("session.updated").is_null());

  // 1 s silence, 800 ms speech, 900 ms silence, in 20 ms appends as a phone call sends them.
  c->append(ulaw_audio(1000, false) + ulaw_audio(800, true) + ulaw_audio(900, false), 160);
  const json started = c->until("input_audio_buffer.speech_started");
  ASSERT_FALSE(started.is_null());
  EXPECT_EQ(started["audio_start_ms"], 1000 - 300);  // onset minus prefix padding
  const json stopped = c->until("input_audio_buffer.speech_stopped");
  ASSERT_FALSE(stopped.is_null());
  EXPECT_EQ(stopped["audio_end_ms"], 1800);
  EXPECT_EQ(stopped["item_id"], started["item_id"]);
  const std::size_t after_stop = c->events.size();
  const json created = c->until("response.created");
  ASSERT_FALSE(created.is_null());
  const auto t0 = std::chrono::steady_clock::now();
  const json done = c->until("response.done");
  const auto elapsed = std::chrono::steady_clock::now() - t0;
  ASSERT_FALSE(done.is_null());

  const auto types = c->types(after_stop);
  auto pos = [&](const std::string& t) {
    return std::find(types.begin(), types.end(), t) - types.begin();
  };
  EXPECT_LT(pos("input_audio_buffer.committed"), pos("conversation.item.added"));
  EXPECT_LT(pos("conversation.item.added"), pos("conversation.item.done"));
  EXPECT_LT(pos("conversation.item.done"), pos("response.created"));
  EXPECT_LT(pos("response.created"), pos("response.output_item.added"));
  EXPECT_LT(pos("response.output_item.added"), pos("response.output_audio.delta"));
  EXPECT_LT(pos("response.output_audio.delta"), pos("response.output_audio.done"));
  EXPECT_LT(pos("response.output_audio_transcript.done"), pos("response.done"));
  EXPECT_EQ(std::count(types.begin(), types.end(), "response.audio.delta"), 0);

  std::string transcript, audio;
  std::string user_transcript;
  int deltas = 0;
  for (const auto& ev : c->events) {
    if (ev["type"] == "conversation.item.input_audio_transcription.completed") user_transcript = ev["transcript"];
    if (ev["type"] == "response.output_audio_transcript.delta") transcript += ev["delta"].get<std::string>();
    if (ev["type"] == "response.output_audio.delta") {
      audio += unbase64(ev["delta"].get<std::string>());
      ++deltas;
    }
  }
  EXPECT_EQ(user_transcript, "mera bijli ka bill kitna hai");
  EXPECT_EQ(transcript, "Your bill is 1234 rupees.");
  EXPECT_GT(deltas, 3);
  // 2 s of μ-law is 16 000 bytes (the resampler keeps a few samples of filter delay).
  EXPECT_NEAR(static_cast<double>(audio.size()), 16000.0, 40.0);
  EXPECT_GT(ulaw_rms(audio), 3000.0) << "the scripted tone survives the conversion to μ-law";
  EXPECT_LT(elapsed, 2000ms) << "2 s of audio must stream faster than real time";
  EXPECT_EQ(done["response"]["status"], "completed");
  EXPECT_GT(done["response"]["usage"]["output_tokens"].get<int>(), 0);
  EXPECT_EQ(done["response"]["output"][0]["content"][0]["type"], "output_audio");
  EXPECT_EQ(fake.audio_appended_ms(), 2700);
}

TEST(FakeRealtime, BetaTurnUsesBetaEventNames) {
  fake_realtime_server fake;
  fake.script_audio(fake_realtime_server::tone(300), "Namaste.");
  auto c = open(fake, k_beta);
  ASSERT_EQ(c->next()["type"], "session.created");
  c->append(pcm16_audio(200, false) + pcm16_audio(500, true) + pcm16_audio(700, false), 960);
  ASSERT_FALSE(c->until("input_audio_buffer.speech_stopped").is_null());
  const std::size_t from = c->events.size();
  ASSERT_FALSE(c->until("response.done").is_null());
  const auto types = c->types(from);
  auto has = [&](const std::string& t) { return std::find(types.begin(), types.end(), t) != types.end(); };
  EXPECT_TRUE(has("conversation.item.created"));
  EXPECT_TRUE(has("response.audio.delta"));
  EXPECT_TRUE(has("response.audio_transcript.done"));
  EXPECT_FALSE(has("conversation.item.added"));
  EXPECT_FALSE(has("response.output_audio.delta"));
}

TEST(FakeRealtime, CancelEndsTheResponseAndTruncateIsBoundedByTheAudioSent) {
  fake_realtime_options o;
  o.delta_interval = 30ms;  // slow enough to cancel mid-stream
  fake_realtime_server fake(o);
  fake.script_audio(fake_realtime_server::tone(10000), "A long answer that the caller interrupts.");
  auto c = open(fake, k_ga);
  ASSERT_EQ(c->next()["type"], "session.created");
  c->send(ga_update("audio/pcmu", false));
  ASSERT_FALSE(c->until("session.updated").is_null());
  c->send({{"type", "response.create"}});
  const json first = c->until("response.output_audio.delta");
  ASSERT_FALSE(first.is_null());
  const std::string item_id = first["item_id"];
  c->send({{"type", "response.create"}});
  const json busy = c->until("error");
  EXPECT_EQ(busy["error"]["code"], "conversation_already_has_active_response");
  c->send({{"type", "response.cancel"}});
  const json done = c->until("response.done");
  ASSERT_FALSE(done.is_null());
  EXPECT_EQ(done["response"]["status"], "cancelled");
  EXPECT_EQ(done["response"]["status_details"]["reason"], "client_cancelled");
  EXPECT_TRUE(fake.wait_for_cancel(1s));

  std::size_t bytes = 0;
  for (const auto& ev : c->events)
    if (ev["type"] == "response.output_audio.delta") bytes += unbase64(ev["delta"].get<std::string>()).size();
  const int sent_ms = static_cast<int>(bytes / 8);
  ASSERT_LT(sent_ms, 10000) << "the cancel stopped the stream";

  c->send({{"type", "conversation.item.truncate"}, {"item_id", item_id}, {"content_index", 0},
           {"audio_end_ms", sent_ms + 500}});
  const json past = c->until("error");
  EXPECT_EQ(past["error"]["message"], "Audio content of " + std::to_string(sent_ms) + "ms is already shorter than " +
                                          std::to_string(sent_ms + 500) + "ms");
  EXPECT_TRUE(past["error"]["code"].is_null());

  c->send({{"type", "conversation.item.truncate"}, {"item_id", item_id}, {"content_index", 0},
           {"audio_end_ms", sent_ms / 2}});
  const json truncated = c->until("conversation.item.truncated");
  ASSERT_FALSE(truncated.is_null());
  EXPECT_EQ(truncated["audio_end_ms"], sent_ms / 2);
  ASSERT_TRUE(fake.wait_for_truncation(1s));
  EXPECT_EQ(fake.truncations().at(0).item_id, item_id);
  EXPECT_EQ(fake.truncations().at(0).audio_end_ms, sent_ms / 2);
}

TEST(FakeRealtime, CallerSpeechCancelsTheResponseAsTurnDetected) {
  fake_realtime_options o;
  o.delta_interval = 30ms;
  fake_realtime_server fake(o);
  fake.script_audio(fake_realtime_server::tone(10000), "Long greeting.");
  auto c = open(fake, k_ga);
  ASSERT_EQ(c->next()["type"], "session.created");
  c->send(ga_update("audio/pcmu", false));
  ASSERT_FALSE(c->until("session.updated").is_null());
  c->send({{"type", "response.create"}});
  ASSERT_FALSE(c->until("response.output_audio.delta").is_null());
  c->append(ulaw_audio(300, true), 160);
  ASSERT_FALSE(c->until("input_audio_buffer.speech_started").is_null());
  const json done = c->until("response.done");
  ASSERT_FALSE(done.is_null());
  EXPECT_EQ(done["response"]["status"], "cancelled");
  EXPECT_EQ(done["response"]["status_details"]["reason"], "turn_detected");
}

TEST(FakeRealtime, FunctionCallRoundTrip) {
  fake_realtime_server fake;
  fake.script_function_call("get_bill", R"({"account":"123"})");
  fake.script_audio(fake_realtime_server::tone(200), "Your bill is 1234 rupees.");
  auto c = open(fake, k_ga);
  ASSERT_EQ(c->next()["type"], "session.created");
  c->send({{"type", "response.create"}});
  const json args = c->until("response.function_call_arguments.done");
  ASSERT_FALSE(args.is_null());
  EXPECT_EQ(args["name"], "get_bill");
  EXPECT_EQ(args["arguments"], R"({"account":"123"})");
  const json done = c->until("response.done");
  ASSERT_FALSE(done.is_null());
  EXPECT_EQ(done["response"]["output"][0]["type"], "function_call");
  const std::string call_id = args["call_id"];

  c->send({{"type", "conversation.item.create"},
           {"item", {{"type", "function_call_output"}, {"call_id", "call_unknown"}, {"output", "{}"}}}});
  EXPECT_EQ(c->until("error")["error"]["param"], "item.call_id");

  c->send({{"type", "conversation.item.create"},
           {"item", {{"type", "function_call_output"}, {"call_id", call_id}, {"output", R"({"amount":1234})"}}}});
  const json added = c->until("conversation.item.done");
  ASSERT_FALSE(added.is_null());
  EXPECT_EQ(added["item"]["call_id"], call_id);
  c->send({{"type", "response.create"}});
  ASSERT_FALSE(c->until("response.output_audio.delta").is_null());
  const json answer = c->until("response.done");
  ASSERT_FALSE(answer.is_null());
  EXPECT_EQ(answer["response"]["status"], "completed");
  EXPECT_EQ(answer["response"]["output"][0]["content"][0]["transcript"], "Your bill is 1234 rupees.");
  ASSERT_TRUE(fake.wait_for_function_output(1s));
  EXPECT_EQ(fake.function_outputs().at(0).call_id, call_id);
  EXPECT_EQ(fake.function_outputs().at(0).output, R"({"amount":1234})");
  EXPECT_EQ(fake.history_items().size(), 1u);
}

TEST(FakeRealtime, TlsWithTheGeneratedCaSucceedsAndWithAnotherCaFails) {
  fake_realtime_options o;
  o.tls = true;
  fake_realtime_server fake(o);
  EXPECT_EQ(fake.url().rfind("wss://127.0.0.1:", 0), 0u);
  {
    ssl::context ctx(ssl::context::tls_client);
    ctx.load_verify_file(fake.ca_file());
    ctx.set_verify_mode(ssl::verify_peer);
    tls_client c(ctx);
    c.next_layer_verify("127.0.0.1");
    const error_code ec = c.connect(fake.port(), k_ga);
    ASSERT_FALSE(ec) << ec.message();
    EXPECT_EQ(c.next()["type"], "session.created");
  }
  {
    test_tls other("some other CA");
    ssl::context ctx(ssl::context::tls_client);
    ctx.load_verify_file(other.ca_file());
    ctx.set_verify_mode(ssl::verify_peer);
    tls_client c(ctx);
    c.next_layer_verify("127.0.0.1");
    EXPECT_TRUE(c.connect(fake.port(), k_ga));
    EXPECT_TRUE(fake.wait_for_tls_failures(1, 2s));
  }
  EXPECT_TRUE(fake.wait_for_connections(1, 1s));
  EXPECT_EQ(fake.handshakes().size(), 1u);
}

TEST(FakeRealtime, WrongKeyIsRefusedWith401AndTheJsonError) {
  fake_realtime_server fake;
  const auto [status, body] = raw_upgrade(fake.port(), {{"Authorization", "Bearer sk-wrong"}});
  EXPECT_EQ(status, 401u);
  const json err = json::parse(body, nullptr, false);
  EXPECT_EQ(err["error"]["type"], "invalid_request_error");
  EXPECT_EQ(err["error"]["code"], "invalid_api_key");
  const auto [no_key_status, no_key_body] = raw_upgrade(fake.port(), {});
  EXPECT_EQ(no_key_status, 401u);
  EXPECT_EQ(fake.open_connections(), 0);
  // Azure's header form is accepted.
  auto c = open(fake, {{"api-key", "sk-test-key"}});
  EXPECT_EQ(c->next()["type"], "session.created");
}

TEST(FakeRealtime, BetaCanBeSwitchedOffAsOpenAiDid) {
  fake_realtime_options o;
  o.allow_beta = false;
  fake_realtime_server fake(o);
  auto c = open(fake, k_beta);
  const json err = c->next();
  ASSERT_EQ(err["type"], "error");
  EXPECT_EQ(err["error"]["code"], "beta_api_shape_disabled");
  EXPECT_TRUE(c->next().is_null());
  EXPECT_EQ(c->close_code(), 4000);
}

TEST(FakeRealtime, FaultsDropRefuseAndInjectErrors) {
  fake_realtime_server fake;
  auto c = open(fake, k_ga);
  ASSERT_EQ(c->next()["type"], "session.created");
  fake.send_error("server_error", "server_error", "The server had an error.");
  const json err = c->until("error");
  EXPECT_EQ(err["error"]["type"], "server_error");
  fake.drop_connections();
  EXPECT_TRUE(c->next().is_null());
  EXPECT_EQ(c->close_code(), 0) << "dropped, not closed";
  EXPECT_TRUE(fake.wait_for_no_connections(2s));

  fake.drop_after_events(1);  // session.created goes out, the next event does not
  auto d = open(fake, k_ga);
  ASSERT_EQ(d->next()["type"], "session.created");
  d->send(ga_update());
  EXPECT_TRUE(d->next().is_null());

  fake.refuse_handshakes(503, R"({"error":{"message":"overloaded","type":"server_error"}})");
  EXPECT_EQ(raw_upgrade(fake.port(), k_ga).first, 503u);
}

TEST(FakeRealtime, DelayedResponsesStartLateAndConnectionsCloseWithTheChosenCode) {
  fake_realtime_server fake;
  fake.delay_responses(300ms);
  auto c = open(fake, k_ga);
  ASSERT_EQ(c->next()["type"], "session.created");
  const auto t0 = std::chrono::steady_clock::now();
  c->send({{"type", "response.create"}});
  ASSERT_FALSE(c->until("response.created").is_null());
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 300ms);
  ASSERT_FALSE(c->until("response.done").is_null());

  // The session's end as OpenAI reports it: an error, then a close.
  fake.send_error("invalid_request_error", "session_expired", "Your session hit the maximum duration of 60 minutes.");
  fake.close_connections(1000, "session expired");
  EXPECT_EQ(c->until("error")["error"]["code"], "session_expired");
  EXPECT_TRUE(c->next().is_null());
  EXPECT_EQ(c->close_code(), 1000);
  EXPECT_TRUE(fake.wait_for_no_connections(2s));
}

}  // namespace
}  // namespace npcl::fakes
