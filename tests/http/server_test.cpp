#include "npcl/http/server.hpp"

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "npcl/http/health_routes.hpp"
#include "npcl/obs/metrics.hpp"
#include "util/beast.hpp"

namespace {

using namespace std::chrono_literals;
using npcl::error_code;
using npcl::http::http_options;
using npcl::http::request;
using npcl::http::response;
namespace net = npcl::net;
namespace beast = npcl::beast;
namespace bhttp = npcl::bhttp;
using tcp = net::ip::tcp;
using client_response = bhttp::response<bhttp::string_body>;
using reply_fn = std::function<void(response)>;

constexpr auto deadline = 5s;

/// A blocking HTTP/1.1 client for tests: every operation has a deadline, so a
/// server that fails to answer fails the test instead of hanging it.
class test_client {
 public:
  explicit test_client(std::uint16_t port) : socket_(ioc_) {
    error_code ec;
    socket_.connect({net::ip::make_address("127.0.0.1"), port}, ec);
    EXPECT_FALSE(ec) << ec.message();
  }

  /// Sends raw bytes; false if they could not be written in time.
  bool send(const std::string& raw) {
    bool done = false;
    error_code result;
    net::async_write(socket_, net::buffer(raw), [&](error_code ec, std::size_t) {
      done = true;
      result = ec;
    });
    return run_until(done) && !result;
  }

  /// Reads one response; nullopt on error or when none arrived in time.
  std::optional<client_response> read_response(bool head = false) {
    bhttp::response_parser<bhttp::string_body> parser;
    parser.skip(head);
    bool done = false;
    error_code result;
    bhttp::async_read(socket_, buffer_, parser, [&](error_code ec, std::size_t) {
      done = true;
      result = ec;
    });
    if (!run_until(done) || result) return std::nullopt;
    return parser.release();
  }

  std::optional<client_response> get(const std::string& target, const std::string& method = "GET") {
    if (!send(method + " " + target + " HTTP/1.1\r\nHost: test\r\n\r\n")) return std::nullopt;
    return read_response(method == "HEAD");
  }

  /// True when the server closes the connection (EOF or reset) within the
  /// deadline; bytes that arrive first are discarded.
  bool wait_closed() {
    const auto until = std::chrono::steady_clock::now() + deadline;
    while (std::chrono::steady_clock::now() < until) {
      bool done = false;
      error_code result;
      char sink[512];
      socket_.async_read_some(net::buffer(sink), [&](error_code ec, std::size_t) {
        done = true;
        result = ec;
      });
      if (!run_until(done)) return false;
      if (result) return result == net::error::eof || result == net::error::connection_reset;
    }
    return false;
  }

 private:
  bool run_until(bool& done) {
    ioc_.restart();
    ioc_.run_for(deadline);
    if (done) return true;
    error_code ignored;
    socket_.cancel(ignored);  // completes the operation so its handler does not outlive `done`
    ioc_.restart();
    ioc_.run();
    return false;
  }

  net::io_context ioc_;
  tcp::socket socket_;
  beast::flat_buffer buffer_;
};

std::string header(const client_response& res, bhttp::field f) { return std::string(res[f]); }

/// A server on 127.0.0.1:0 run by one background thread, with the health routes.
class http_server : public testing::Test {
 protected:
  void SetUp() override { start({}); }

  void start(std::function<void(npcl::http::server&)> add_routes) {
    http_options options;
    options.port = 0;
    options.read_timeout = read_timeout;
    options.max_body_bytes = 1024;
    server_.emplace(ioc_, options);
    npcl::http::add_health_routes(
        *server_, [this] { return ready_.load(); }, [this] { return metrics_.render(); });
    if (add_routes) add_routes(*server_);
    ASSERT_FALSE(server_->start());
    ASSERT_NE(server_->port(), 0);
    runner_ = std::thread([this] { ioc_.run(); });
  }

  void TearDown() override {
    if (server_) server_->stop();
    work_.reset();
    if (runner_.joinable()) runner_.join();
  }

  /// Restarts the fixture with extra routes (routes must precede start()).
  void restart_with(std::function<void(npcl::http::server&)> add_routes) {
    server_->stop();
    work_.reset();
    runner_.join();
    server_.reset();
    ioc_.restart();
    work_.emplace(ioc_.get_executor());
    start(std::move(add_routes));
  }

  static constexpr std::chrono::milliseconds read_timeout{300};
  net::io_context ioc_;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work_{ioc_.get_executor()};
  std::optional<npcl::http::server> server_;
  std::thread runner_;
  std::atomic<bool> ready_{false};
  npcl::obs::metrics_registry metrics_;
};

TEST_F(http_server, health_is_ok_with_standard_headers) {
  test_client client(server_->port());
  auto res = client.get("/health");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 200u);
  EXPECT_EQ(res->body(), R"({"status":"ok"})");
  EXPECT_EQ(header(*res, bhttp::field::content_type), "application/json");
  EXPECT_EQ(header(*res, bhttp::field::server), "npcl-assistant");
  EXPECT_EQ(header(*res, bhttp::field::cache_control), "no-store");
  EXPECT_EQ(header(*res, bhttp::field::content_length), std::to_string(res->body().size()));
}

TEST_F(http_server, ready_follows_the_callback) {
  test_client client(server_->port());
  auto not_ready = client.get("/ready");
  ASSERT_TRUE(not_ready);
  EXPECT_EQ(not_ready->result_int(), 503u);
  EXPECT_EQ(not_ready->body(), R"({"ready":false})");

  ready_ = true;
  auto ready = client.get("/ready");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->result_int(), 200u);
  EXPECT_EQ(ready->body(), R"({"ready":true})");
}

TEST_F(http_server, metrics_serve_the_registry_as_prometheus_text) {
  metrics_.get_counter("npcl_calls_total", "Calls answered.").inc(7);
  metrics_.get_histogram("npcl_turn_seconds", "Turn latency.", npcl::obs::latency_buckets()).observe(0.2);
  test_client client(server_->port());
  auto res = client.get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 200u);
  EXPECT_EQ(header(*res, bhttp::field::content_type).rfind("text/plain; version=0.0.4", 0), 0u)
      << header(*res, bhttp::field::content_type);
  EXPECT_EQ(res->body(), metrics_.render());
  EXPECT_NE(res->body().find("npcl_calls_total 7\n"), std::string::npos) << res->body();
}

TEST_F(http_server, unknown_path_is_404) {
  test_client client(server_->port());
  auto res = client.get("/nope");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 404u);
  EXPECT_EQ(header(*res, bhttp::field::server), "npcl-assistant");
}

TEST_F(http_server, wrong_method_is_405_with_allow) {
  test_client client(server_->port());
  auto res = client.get("/health", "DELETE");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 405u);
  EXPECT_EQ(header(*res, bhttp::field::allow), "GET, HEAD");
}

TEST_F(http_server, head_sends_length_of_get_without_body) {
  test_client client(server_->port());
  auto res = client.get("/health", "HEAD");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 200u);
  EXPECT_EQ(header(*res, bhttp::field::content_length), std::to_string(std::string(R"({"status":"ok"})").size()));
  EXPECT_TRUE(res->body().empty());
  // Nothing may follow the head: the next response must parse cleanly.
  auto next = client.get("/health");
  ASSERT_TRUE(next);
  EXPECT_EQ(next->body(), R"({"status":"ok"})");
}

TEST_F(http_server, body_over_limit_is_413_and_closed) {
  restart_with([](npcl::http::server& s) {
    s.route("POST", "/upload", [](const request& r, reply_fn reply) { reply({200, "text/plain", r.body, {}}); });
  });
  test_client client(server_->port());
  ASSERT_TRUE(client.send("POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 5000\r\n\r\n" +
                          std::string(5000, 'x')));
  auto res = client.read_response();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 413u);
  EXPECT_TRUE(client.wait_closed());

  // A body within the limit still gets through.
  test_client small(server_->port());
  ASSERT_TRUE(small.send("POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello"));
  auto ok = small.read_response();
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->result_int(), 200u);
  EXPECT_EQ(ok->body(), "hello");
}

TEST_F(http_server, chunked_body_over_limit_is_413) {
  restart_with([](npcl::http::server& s) {
    s.route("POST", "/upload", [](const request& r, reply_fn reply) { reply({200, "text/plain", r.body, {}}); });
  });
  test_client client(server_->port());
  ASSERT_TRUE(client.send("POST /upload HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n800\r\n" +
                          std::string(0x800, 'x') + "\r\n0\r\n\r\n"));
  auto res = client.read_response();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 413u);
}

TEST_F(http_server, malformed_request_is_400_and_closed) {
  test_client client(server_->port());
  ASSERT_TRUE(client.send("GET /health HTTX/1.1\r\n\r\n"));
  auto res = client.read_response();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 400u);
  EXPECT_TRUE(client.wait_closed());
}

TEST_F(http_server, bad_percent_escape_is_400) {
  test_client client(server_->port());
  auto res = client.get("/heal%zzth");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 400u);
}

TEST_F(http_server, incomplete_request_is_closed_after_read_timeout) {
  test_client client(server_->port());
  const auto sent = std::chrono::steady_clock::now();
  ASSERT_TRUE(client.send("GET /health HTTP/1.1\r\nHost: t\r\n"));
  EXPECT_TRUE(client.wait_closed());
  // The server may not give up before the configured deadline.
  EXPECT_GE(std::chrono::steady_clock::now() - sent, read_timeout - 20ms);
}

TEST_F(http_server, keep_alive_serves_two_requests_on_one_connection) {
  test_client client(server_->port());
  auto first = client.get("/health");
  ASSERT_TRUE(first);
  EXPECT_TRUE(first->keep_alive());
  auto second = client.get("/ready");
  ASSERT_TRUE(second);
  EXPECT_EQ(second->result_int(), 503u);
}

TEST_F(http_server, routes_see_decoded_path_query_and_headers) {
  std::promise<request> seen;
  restart_with([&seen](npcl::http::server& s) {
    s.route("GET", "/calls/a b", [&seen](const request& r, reply_fn reply) {
      seen.set_value(r);
      reply({200, "text/plain", "ok", {{"X-Call", "1"}}});
    });
  });
  test_client client(server_->port());
  ASSERT_TRUE(client.send("GET /calls/a%20b?limit=5&x=%41 HTTP/1.1\r\nHost: t\r\nX-Trace: abc\r\n\r\n"));
  auto res = client.read_response();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 200u);
  EXPECT_EQ(std::string((*res)["X-Call"]), "1");
  const request r = seen.get_future().get();
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.path, "/calls/a b");
  EXPECT_EQ(r.query, "limit=5&x=%41");
  EXPECT_NE(std::find(r.headers.begin(), r.headers.end(), std::pair<std::string, std::string>{"X-Trace", "abc"}),
            r.headers.end());
}

/// Holds the `reply` of a parked request until the test answers it.
struct parked_reply {
  std::mutex mutex;
  std::condition_variable cv;
  std::optional<reply_fn> reply;

  void park(reply_fn r) {
    std::lock_guard lock(mutex);
    reply = std::move(r);
    cv.notify_all();
  }
  testing::AssertionResult wait_for_request() {
    std::unique_lock lock(mutex);
    if (cv.wait_for(lock, deadline, [this] { return reply.has_value(); })) return testing::AssertionSuccess();
    return testing::AssertionFailure() << "the handler was not called within the deadline";
  }
};

TEST_F(http_server, handler_may_reply_later_from_another_thread) {
  parked_reply parked;
  restart_with([&parked](npcl::http::server& s) {
    s.route("POST", "/slow", [&parked](const request&, reply_fn reply) { parked.park(std::move(reply)); });
  });
  test_client client(server_->port());
  ASSERT_TRUE(client.send("POST /slow HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nhi"));
  ASSERT_TRUE(parked.wait_for_request());
  std::thread other([&parked] { (*parked.reply)({202, "application/json", R"({"queued":true})", {}}); });
  other.join();
  auto res = client.read_response();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 202u);
  EXPECT_EQ(res->body(), R"({"queued":true})");
  // A second reply to the same request is ignored, and the connection goes on.
  (*parked.reply)({500, "text/plain", "late", {}});
  auto next = client.get("/health");
  ASSERT_TRUE(next);
  EXPECT_EQ(next->result_int(), 200u);
}

TEST_F(http_server, handler_that_throws_or_never_replies_gets_500) {
  restart_with([](npcl::http::server& s) {
    s.route("GET", "/throws", [](const request&, reply_fn) { throw std::runtime_error("boom"); });
    s.route("GET", "/drops", [](const request&, reply_fn) {});
    s.route("GET", "/bad-status", [](const request&, reply_fn reply) { reply({42, "text/plain", "", {}}); });
  });
  test_client client(server_->port());
  for (const char* target : {"/throws", "/drops", "/bad-status"}) {
    auto res = client.get(target);
    ASSERT_TRUE(res) << target;
    EXPECT_EQ(res->result_int(), 500u) << target;
  }
}

TEST(http_server_stop, stop_with_open_connections_lets_run_return) {
  net::io_context ioc;
  http_options options;
  options.port = 0;
  options.read_timeout = 60s;  // far beyond the deadline below: only stop() can end these connections
  npcl::http::server server(ioc, options);
  parked_reply parked;
  server.route("GET", "/park", [&parked](const request&, reply_fn reply) { parked.park(std::move(reply)); });
  npcl::http::add_health_routes(server, [] { return true; }, [] { return std::string(); });
  ASSERT_FALSE(server.start());
  auto finished = std::async(std::launch::async, [&ioc] { ioc.run(); });

  test_client idle(server.port());
  ASSERT_TRUE(idle.get("/health"));  // now parked in a keep-alive read on the server
  test_client waiting(server.port());
  ASSERT_TRUE(waiting.send("GET /park HTTP/1.1\r\nHost: t\r\n\r\n"));
  ASSERT_TRUE(parked.wait_for_request());

  server.stop();
  ASSERT_EQ(finished.wait_for(deadline), std::future_status::ready) << "io_context::run() did not return";
  EXPECT_TRUE(idle.wait_closed());
  EXPECT_TRUE(waiting.wait_closed());
  // Answering after the connection is gone is harmless.
  (*parked.reply)({200, "text/plain", "too late", {}});
}

TEST(http_server_start, reports_bind_errors) {
  net::io_context ioc;
  http_options options;
  options.port = 0;
  npcl::http::server first(ioc, options);
  ASSERT_FALSE(first.start());
  options.port = first.port();
  npcl::http::server second(ioc, options);
  EXPECT_EQ(second.start(), net::error::address_in_use);
  options.host = "not an address";
  npcl::http::server third(ioc, options);
  EXPECT_TRUE(third.start());
}

}  // namespace
