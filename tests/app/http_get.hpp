#pragma once
// A blocking HTTP/1.1 GET over plain Asio, enough to read the daemon's
// /health, /ready and /metrics from a test thread.
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <chrono>
#include <string>
#include <thread>

#include <gtest/gtest.h>

namespace npcl::test {

struct http_result {
  int status = 0;    ///< 0 when the connection failed
  std::string body;  ///< response body
};

inline http_result http_get(std::uint16_t port, const std::string& path) {
  namespace net = boost::asio;
  net::io_context ioc;
  net::ip::tcp::socket socket(ioc);
  boost::system::error_code ec;
  socket.connect({net::ip::make_address("127.0.0.1"), port}, ec);
  if (ec) return {};
  std::string req = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  net::write(socket, net::buffer(req), ec);
  std::string raw;
  net::read(socket, net::dynamic_buffer(raw), ec);  // until the server closes
  http_result r;
  if (raw.size() < 12) return r;
  r.status = std::stoi(raw.substr(9, 3));
  auto split = raw.find("\r\n\r\n");
  if (split != std::string::npos) r.body = raw.substr(split + 4);
  return r;
}

/// The value of one sample line `name{labels} value` in Prometheus text, or -1.
inline double metric_value(const std::string& text, const std::string& series) {
  auto pos = text.find("\n" + series + " ");
  if (pos == std::string::npos) return -1;
  pos += series.size() + 2;
  return std::stod(text.substr(pos, text.find('\n', pos) - pos));
}

/// Waits until `series` on the daemon's /metrics equals `expected`; the
/// failure message shows the last value seen.
inline testing::AssertionResult metric_becomes(std::uint16_t port, const std::string& series, double expected,
                                               std::chrono::milliseconds timeout = std::chrono::seconds(3)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  double last = -1;
  for (;;) {
    last = metric_value(http_get(port, "/metrics").body, series);
    if (last == expected) return testing::AssertionSuccess();
    if (std::chrono::steady_clock::now() > deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // polling interval
  }
  return testing::AssertionFailure() << series << " is " << last << ", expected " << expected;
}

}  // namespace npcl::test
