// The AudioSocket listener and per-call endpoint against the fake Asterisk
// side (audiosocket_peer) on loopback: audio both ways, DTMF, hangups,
// deadlines, and connections that must be refused.
#include "npcl/media/audiosocket_endpoint.hpp"

#include <gtest/gtest.h>

#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <future>
#include <mutex>
#include <numbers>
#include <thread>

#include "fakes/audiosocket_peer.hpp"
#include "npcl/media/audiosocket_server.hpp"
#include "npcl/util/ids.hpp"

namespace npcl::media {
namespace {

using namespace std::chrono_literals;
using fakes::audiosocket_peer;

// Speech-like test signal: a tone plus pseudo-random noise over the whole
// int16 range, so byte order and sign errors cannot hide.
std::vector<std::int16_t> test_signal(std::size_t n, int rate_hz, std::uint32_t seed = 1) {
  std::vector<std::int16_t> s(n);
  std::uint32_t x = seed;
  for (std::size_t i = 0; i < n; ++i) {
    x = x * 1664525u + 1013904223u;
    const double tone = 12000.0 * std::sin(2 * std::numbers::pi * 440.0 * static_cast<double>(i) / rate_hz);
    const double noise = static_cast<double>(static_cast<std::int32_t>(x >> 16) - 32768) * 0.6;
    s[i] = static_cast<std::int16_t>(std::clamp(tone + noise, -32768.0, 32767.0));
  }
  return s;
}

double rms(const std::vector<std::int16_t>& s, std::size_t from = 0) {
  double sum = 0;
  for (std::size_t i = from; i < s.size(); ++i) sum += double(s[i]) * s[i];
  return s.size() > from ? std::sqrt(sum / double(s.size() - from)) : 0;
}

// What the endpoint's handlers saw, filled on the call's strand.
struct recorder {
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<audio::frame> frames;
  std::string digits;
  std::vector<error_code> closes;

  template <class Pred>
  testing::AssertionResult wait(Pred pred, std::chrono::milliseconds timeout, const char* what) {
    std::unique_lock lock(mutex);
    if (changed.wait_for(lock, timeout, pred)) return testing::AssertionSuccess();
    return testing::AssertionFailure() << what << " not seen within " << timeout.count() << " ms ("
                                       << frames.size() << " frames, digits \"" << digits << "\", "
                                       << closes.size() << " closes)";
  }
  testing::AssertionResult wait_frames(std::size_t n, std::chrono::milliseconds timeout) {
    return wait([&] { return frames.size() >= n; }, timeout, "caller frames");
  }
  testing::AssertionResult wait_closed(std::chrono::milliseconds timeout) {
    return wait([&] { return !closes.empty(); }, timeout, "on_closed");
  }
  std::vector<std::int16_t> samples() {
    std::lock_guard lock(mutex);
    std::vector<std::int16_t> out;
    for (const auto& f : frames) out.insert(out.end(), f.samples.begin(), f.samples.end());
    return out;
  }
};

class audiosocket_endpoint_test : public testing::Test {
 protected:
  // Runs `f` on the call's strand and returns its result.
  template <class F>
  auto on_strand(F f) {
    std::packaged_task<decltype(f())()> task(std::move(f));
    auto result = task.get_future();
    net::post(strand_, [&task] { task(); });
    return result.get();
  }

  void SetUp() override {
    options_.bind_host = "127.0.0.1";
    options_.listen_port = 0;
    thread_ = std::thread([this] { ioc_.run(); });
  }
  void TearDown() override {
    on_strand([this] {
      endpoint_.reset();
      return 0;
    });
    server_.reset();
    work_.reset();
    thread_.join();
  }

  void start_server(std::chrono::milliseconds id_timeout = 2s) {
    server_ = std::make_shared<audiosocket_server>(ioc_.get_executor(), options_, id_timeout);
    ASSERT_FALSE(server_->start());
    ASSERT_NE(server_->port(), 0);
  }

  // Opens the call's endpoint for `format` on the strand.
  void open(const std::string& format, std::chrono::milliseconds connect_timeout = 5s) {
    options_.format = format;
    options_.sample_rate = format == "slin16" ? 16000 : format == "slin24" ? 24000 : 8000;
    error_code ec;
    endpoint_ = on_strand([&] { return audiosocket_endpoint::open(strand_, options_, server_, ec, connect_timeout); });
    ASSERT_TRUE(endpoint_) << ec.message();
    params_ = on_strand([&] { return endpoint_->external_media(); });
  }

  // Starts the endpoint; with `echo` every caller frame is sent straight back.
  void start(bool echo) {
    media_handlers h;
    h.on_audio = [this, echo](audio::frame f) {
      if (echo) endpoint_->send(f, false);
      std::lock_guard lock(rec_.mutex);
      rec_.frames.push_back(std::move(f));
      rec_.changed.notify_all();
    };
    h.on_dtmf = [this](char d) {
      std::lock_guard lock(rec_.mutex);
      rec_.digits.push_back(d);
      rec_.changed.notify_all();
    };
    h.on_closed = [this](error_code ec) {
      std::lock_guard lock(rec_.mutex);
      rec_.closes.push_back(ec);
      rec_.changed.notify_all();
    };
    on_strand([&] {
      endpoint_->set_peer({{"AUDIOSOCKET_UUID", params_.data}, {"AUDIOSOCKET_SERVICE", params_.external_host}});
      endpoint_->start(std::move(h));
      return 0;
    });
  }

  testing::AssertionResult connect_peer() {
    auto r = peer_.connect("127.0.0.1", server_->port());
    if (r) peer_.send_id(params_.data);
    return r;
  }

  testing::AssertionResult wait_connected(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (on_strand([this] { return endpoint_->connected(); })) return testing::AssertionSuccess();
      std::this_thread::sleep_for(2ms);
    }
    return testing::AssertionFailure() << "the endpoint never got its connection";
  }

  // The usual call: listener, endpoint started (optionally echoing), and the
  // peer connected with the call's UUID and taken over by the endpoint.
  void answer_call(const std::string& format, bool echo = false) {
    start_server();
    open(format);
    start(echo);
    ASSERT_TRUE(connect_peer());
    ASSERT_TRUE(wait_connected(2s));
  }

  net::io_context ioc_;
  net::executor_work_guard<net::io_context::executor_type> work_ = net::make_work_guard(ioc_);
  executor strand_ = net::make_strand(ioc_);
  std::thread thread_;
  media_options options_;
  std::shared_ptr<audiosocket_server> server_;
  std::unique_ptr<audiosocket_endpoint> endpoint_;
  external_media_params params_;
  recorder rec_;
  audiosocket_peer peer_;
};

TEST_F(audiosocket_endpoint_test, externalmedia_parameters_name_the_listener_and_a_fresh_uuid) {
  start_server();
  open("slin16");
  EXPECT_EQ(params_.external_host, "127.0.0.1:" + std::to_string(server_->port()));
  EXPECT_EQ(params_.format, "slin16");
  EXPECT_EQ(params_.encapsulation, "audiosocket");
  EXPECT_EQ(params_.transport, "tcp");
  unsigned char raw[16];
  EXPECT_TRUE(util::parse_uuid(params_.data, raw)) << params_.data;
  EXPECT_EQ(on_strand([this] { return endpoint_->format(); }), (audio::audio_format{16000, 1, 20}));

  options_.advertise_host = "10.1.2.3";
  error_code ec;
  auto other = on_strand([&] { return audiosocket_endpoint::open(strand_, options_, server_, ec); });
  ASSERT_TRUE(other);
  EXPECT_EQ(other->external_media().external_host, "10.1.2.3:" + std::to_string(server_->port()));
  EXPECT_NE(other->external_media().data, params_.data);
  on_strand([&] {
    other.reset();
    return 0;
  });
}

TEST_F(audiosocket_endpoint_test, slin16_echo_is_bit_exact_through_split_and_coalesced_tcp) {
  start_server();
  open("slin16");
  start(/*echo=*/true);  // before Asterisk connects, as when the REST reply is read first
  const auto signal = test_signal(25 * 320, 16000);
  ASSERT_TRUE(connect_peer());
  peer_.send_audio(signal, {.kind = 0x12, .samples_per_frame = 320, .pace = 20ms, .fragment = true});
  ASSERT_TRUE(peer_.wait_for_audio(25, 5s));
  EXPECT_EQ(peer_.audio_samples(), signal);
  for (const auto& m : peer_.audio()) {
    EXPECT_EQ(m.kind, 0x12);
    EXPECT_EQ(m.payload.size(), 640u);
  }
  ASSERT_TRUE(rec_.wait_frames(25, 1s));
  for (const auto& f : rec_.frames) EXPECT_EQ(f.sample_rate_hz, 16000);
  const auto s = on_strand([this] { return endpoint_->stats(); });
  EXPECT_EQ(s.packets_in, 25u);
  EXPECT_EQ(s.bytes_in, 25u * 640u);
  EXPECT_EQ(s.malformed, 0u);
  EXPECT_EQ(server_->stats().handed_over, 1u);
}

TEST_F(audiosocket_endpoint_test, slin_echo_is_bit_exact_when_asterisk_connects_before_start) {
  start_server();
  open("slin");
  const auto signal = test_signal(20 * 160, 8000, 7);
  ASSERT_TRUE(connect_peer());
  peer_.send_audio(signal, {.kind = 0x10, .samples_per_frame = 160, .pace = 20ms, .fragment = true});
  // Asterisk connects while POST externalMedia is in flight: the audio must
  // wait for start(), not be lost.
  ASSERT_TRUE(wait_connected(2s));
  start(/*echo=*/true);
  ASSERT_TRUE(peer_.wait_for_audio(20, 5s));
  EXPECT_EQ(peer_.audio_samples(), signal);
  for (const auto& m : peer_.audio()) EXPECT_EQ(m.kind, 0x10);
  EXPECT_EQ(on_strand([this] { return endpoint_->stats().packets_out; }), 20u);
}

TEST_F(audiosocket_endpoint_test, short_last_frame_is_delivered_padded_to_one_ptime) {
  ASSERT_NO_FATAL_FAILURE(answer_call("slin"));
  const auto signal = test_signal(160 + 93, 8000);  // a full frame, then the 186-byte end of a prompt
  peer_.send_audio(signal, {.kind = 0x10, .samples_per_frame = 160});
  ASSERT_TRUE(rec_.wait_frames(2, 3s));
  auto got = rec_.samples();
  ASSERT_EQ(got.size(), 320u);
  EXPECT_TRUE(std::equal(signal.begin(), signal.end(), got.begin()));
  EXPECT_TRUE(std::all_of(got.begin() + 253, got.end(), [](std::int16_t v) { return v == 0; }));
}

TEST_F(audiosocket_endpoint_test, slin_kind_on_a_slin16_call_is_resampled_to_the_call_rate) {
  ASSERT_NO_FATAL_FAILURE(answer_call("slin16"));
  std::vector<std::int16_t> tone(10 * 160);
  for (std::size_t i = 0; i < tone.size(); ++i) tone[i] = static_cast<std::int16_t>(10000 * std::sin(2 * std::numbers::pi * 440.0 * i / 8000));
  peer_.send_audio(tone, {.kind = 0x10, .samples_per_frame = 160, .pace = 5ms});
  ASSERT_TRUE(rec_.wait_frames(10, 3s));
  {
    std::lock_guard lock(rec_.mutex);
    for (const auto& f : rec_.frames) {
      EXPECT_EQ(f.sample_rate_hz, 16000);
      EXPECT_EQ(f.samples.size(), 320u);
    }
  }
  // Same tone, twice the samples: its level survives once the filter settled.
  EXPECT_NEAR(rms(rec_.samples(), 320), 10000 / std::sqrt(2.0), 700);
  const auto t = on_strand([this] { return endpoint_->transport_stats(); });
  EXPECT_EQ(t.resampled_in, 10u);
  EXPECT_FALSE(t.legacy_peer);
}

TEST_F(audiosocket_endpoint_test, older_asterisk_labelling_slin16_as_0x10_is_read_as_is_and_answered_in_0x10) {
  ASSERT_NO_FATAL_FAILURE(answer_call("slin16", /*echo=*/true));
  const auto signal = test_signal(8 * 320, 16000, 3);
  peer_.send_audio(signal, {.kind = 0x10, .samples_per_frame = 320, .pace = 10ms});
  ASSERT_TRUE(rec_.wait_frames(8, 3s));
  EXPECT_EQ(rec_.samples(), signal);  // 640-byte 0x10 frames are 16 kHz audio, not 40 ms of 8 kHz
  ASSERT_TRUE(peer_.wait_for_audio(8, 3s));
  for (const auto& m : peer_.audio()) {
    EXPECT_EQ(m.kind, 0x10);  // the only kind such an Asterisk reads
    EXPECT_EQ(m.payload.size(), 320u);
  }
  EXPECT_TRUE(on_strand([this] { return endpoint_->transport_stats().legacy_peer; }));
}

TEST_F(audiosocket_endpoint_test, dtmf_digits_arrive_in_order_and_invalid_ones_are_dropped) {
  ASSERT_NO_FATAL_FAILURE(answer_call("slin"));
  peer_.send_dtmf('7');
  peer_.send_dtmf('x');  // not a keypad digit
  peer_.send_dtmf('1');
  peer_.send_dtmf('#');
  ASSERT_TRUE(rec_.wait([&] { return rec_.digits.size() >= 3; }, 3s, "three digits"));
  EXPECT_EQ(rec_.digits, "71#");
  EXPECT_EQ(on_strand([this] { return endpoint_->stats().malformed; }), 1u);
  EXPECT_TRUE(rec_.closes.empty());
}

TEST_F(audiosocket_endpoint_test, asterisk_closing_tcp_reports_on_closed_once) {
  ASSERT_NO_FATAL_FAILURE(answer_call("slin"));
  peer_.send_audio(test_signal(3 * 160, 8000), {.kind = 0x10, .samples_per_frame = 160});
  peer_.close();
  ASSERT_TRUE(rec_.wait_closed(3s));
  ASSERT_TRUE(rec_.wait_frames(3, 1s));  // audio before the close is not lost
  on_strand([this] {
    endpoint_->close();  // the session closes afterwards: no second report
    return 0;
  });
  std::lock_guard lock(rec_.mutex);
  ASSERT_EQ(rec_.closes.size(), 1u);
  EXPECT_EQ(rec_.closes[0], net::error::eof);
}

TEST_F(audiosocket_endpoint_test, malformed_stream_from_asterisk_closes_the_call_media) {
  ASSERT_NO_FATAL_FAILURE(answer_call("slin"));
  peer_.send_raw({0x10, 0x00, 0x00});  // empty audio: Asterisk itself would fail the read
  ASSERT_TRUE(rec_.wait_closed(3s));
  EXPECT_TRUE(peer_.wait_for_closed(3s));
  EXPECT_EQ(on_strand([this] { return endpoint_->stats().malformed; }), 1u);
  std::lock_guard lock(rec_.mutex);
  EXPECT_NE(rec_.closes[0], net::error::eof);
}

TEST_F(audiosocket_endpoint_test, close_ends_the_connection_without_a_hangup_message_or_handler) {
  ASSERT_NO_FATAL_FAILURE(answer_call("slin"));
  on_strand([this] {
    endpoint_->close();
    endpoint_->close();  // idempotent
    endpoint_->send(audio::frame::silence({8000, 1, 20}), false);  // ignored after close
    return 0;
  });
  ASSERT_TRUE(peer_.wait_for_closed(3s));
  EXPECT_TRUE(peer_.received().empty());
  on_strand([] { return 0; });  // anything the close queued has run
  EXPECT_TRUE(rec_.closes.empty());
}

TEST_F(audiosocket_endpoint_test, hangup_sends_0x00_after_queued_audio_and_asterisk_closing_is_reported) {
  ASSERT_NO_FATAL_FAILURE(answer_call("slin"));
  on_strand([this] {
    endpoint_->send(audio::frame::silence({8000, 1, 20}), false);
    endpoint_->hangup();
    endpoint_->send(audio::frame::silence({8000, 1, 20}), false);  // after hangup: ignored
    return 0;
  });
  ASSERT_TRUE(peer_.wait_for_hangup(3s));
  auto got = peer_.received();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].kind, 0x10);
  EXPECT_EQ(got[1].kind, 0x00);
  EXPECT_TRUE(got[1].payload.empty());
  peer_.close();  // what Asterisk does next
  EXPECT_TRUE(rec_.wait_closed(3s));
}

TEST_F(audiosocket_endpoint_test, full_write_queue_drops_the_oldest_frames_and_counts_them) {
  ASSERT_NO_FATAL_FAILURE(answer_call("slin"));
  // 100 frames in one turn of the strand: one write in flight, the queue
  // keeps the newest max_queued_frames.
  on_strand([this] {
    for (int i = 0; i < 100; ++i) {
      audio::frame f = audio::frame::silence({8000, 1, 20});
      f.samples[0] = static_cast<std::int16_t>(i);
      endpoint_->send(f, false);
    }
    return 0;
  });
  const std::size_t kept = 1 + audiosocket_endpoint::max_queued_frames;
  ASSERT_TRUE(peer_.wait_for_audio(kept, 3s));
  auto got = peer_.audio();
  ASSERT_EQ(got.size(), kept);
  EXPECT_EQ(got[0].payload[0], 0);  // the one already being written
  for (std::size_t k = 1; k < kept; ++k) EXPECT_EQ(got[k].payload[0], 100 - kept + k) << k;
  EXPECT_EQ(on_strand([this] { return endpoint_->transport_stats().send_dropped; }), 100u - kept);
}

TEST_F(audiosocket_endpoint_test, frames_at_another_rate_are_not_sent) {
  ASSERT_NO_FATAL_FAILURE(answer_call("slin"));
  on_strand([this] {
    endpoint_->send(audio::frame::silence({16000, 1, 20}), false);
    endpoint_->send(audio::frame::silence({8000, 1, 20}), false);
    return 0;
  });
  ASSERT_TRUE(peer_.wait_for_audio(1, 3s));
  EXPECT_EQ(peer_.audio()[0].payload.size(), 320u);
  EXPECT_EQ(on_strand([this] { return endpoint_->transport_stats().send_rejected; }), 1u);
}

TEST_F(audiosocket_endpoint_test, asterisk_not_connecting_in_time_is_reported) {
  start_server();
  open("slin", 150ms);
  const auto started = std::chrono::steady_clock::now();
  start(false);
  ASSERT_TRUE(rec_.wait_closed(3s));
  EXPECT_GE(std::chrono::steady_clock::now() - started, 150ms);
  std::lock_guard lock(rec_.mutex);
  EXPECT_EQ(rec_.closes[0], net::error::timed_out);
}

TEST_F(audiosocket_endpoint_test, connection_with_an_unknown_uuid_is_closed_and_counted) {
  start_server();
  open("slin");
  start(false);
  ASSERT_TRUE(peer_.connect("127.0.0.1", server_->port()));
  peer_.send_id(util::make_uuid());
  ASSERT_TRUE(peer_.wait_for_closed(3s));
  EXPECT_EQ(server_->stats().unknown_id, 1u);
  EXPECT_FALSE(on_strand([this] { return endpoint_->connected(); }));
}

TEST_F(audiosocket_endpoint_test, second_connection_for_a_call_is_refused) {
  ASSERT_NO_FATAL_FAILURE(answer_call("slin"));
  audiosocket_peer intruder;
  ASSERT_TRUE(intruder.connect("127.0.0.1", server_->port()));
  intruder.send_id(params_.data);
  ASSERT_TRUE(intruder.wait_for_closed(3s));
  EXPECT_EQ(server_->stats().unknown_id, 1u);
  EXPECT_TRUE(rec_.closes.empty());
}

TEST_F(audiosocket_endpoint_test, connection_without_an_id_is_closed_after_the_deadline) {
  start_server(200ms);
  const auto connected = std::chrono::steady_clock::now();
  ASSERT_TRUE(peer_.connect("127.0.0.1", server_->port()));
  ASSERT_TRUE(peer_.wait_for_closed(3s));
  EXPECT_GE(std::chrono::steady_clock::now() - connected, 190ms);
  EXPECT_EQ(server_->stats().no_id, 1u);
}

TEST_F(audiosocket_endpoint_test, connections_over_the_pending_limit_are_closed_at_once) {
  server_ = std::make_shared<audiosocket_server>(ioc_.get_executor(), options_, 5s, /*max_pending=*/1);
  ASSERT_FALSE(server_->start());
  ASSERT_TRUE(peer_.connect("127.0.0.1", server_->port()));  // silent: waits for its id
  audiosocket_peer second;
  ASSERT_TRUE(second.connect("127.0.0.1", server_->port()));
  ASSERT_TRUE(second.wait_for_closed(2s));  // long before the 5 s id deadline
  EXPECT_EQ(server_->stats().over_limit, 1u);
  EXPECT_FALSE(peer_.wait_for_closed(50ms));
}

TEST_F(audiosocket_endpoint_test, connection_starting_with_audio_instead_of_an_id_is_closed) {
  start_server();
  ASSERT_TRUE(peer_.connect("127.0.0.1", server_->port()));
  peer_.send_audio(test_signal(160, 8000), {.kind = 0x10, .samples_per_frame = 160});
  ASSERT_TRUE(peer_.wait_for_closed(3s));
  EXPECT_EQ(server_->stats().malformed, 1u);
}

TEST_F(audiosocket_endpoint_test, closed_endpoint_no_longer_claims_its_uuid) {
  start_server();
  open("slin");
  on_strand([this] {
    endpoint_->close();
    return 0;
  });
  ASSERT_TRUE(connect_peer());
  ASSERT_TRUE(peer_.wait_for_closed(3s));
  EXPECT_EQ(server_->stats().unknown_id, 1u);
}

TEST(audiosocket_endpoint, g711_formats_are_refused_with_a_start_up_message) {
  media_options o;
  o.transport = transport_kind::audiosocket;
  for (const char* f : {"ulaw", "alaw"}) {
    o.format = f;
    o.sample_rate = 8000;
    const auto problem = audiosocket_endpoint::format_problem(o);
    EXPECT_NE(problem.find(std::string("AUDIO_FORMAT=") + f), std::string::npos) << problem;
    EXPECT_NE(problem.find("slin16"), std::string::npos) << problem;  // says what to use instead
  }
  for (auto [f, rate] : {std::pair{"slin", 8000}, {"slin16", 16000}, {"slin24", 24000}}) {
    o.format = f;
    o.sample_rate = rate;
    EXPECT_EQ(audiosocket_endpoint::format_problem(o), "") << f;
  }
  o.format = "slin16";
  o.sample_rate = 8000;
  EXPECT_NE(audiosocket_endpoint::format_problem(o), "");

  net::io_context ioc;
  auto server = std::make_shared<audiosocket_server>(ioc.get_executor(), o);
  o.format = "ulaw";
  error_code ec;
  EXPECT_FALSE(audiosocket_endpoint::open(ioc.get_executor(), o, server, ec));
  EXPECT_EQ(ec, net::error::invalid_argument);
}

}  // namespace
}  // namespace npcl::media
