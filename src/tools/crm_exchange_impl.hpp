#pragma once
// The exchange itself, written once for both stream types and instantiated only in
// crm_exchange_tcp.cpp and crm_exchange_tls.cpp.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <memory>
#include <type_traits>

#include "tools/crm_exchange.hpp"
#include "util/beast.hpp"

namespace npcl::tools::detail {

constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

/// What `secure` reports: the step that failed, why, and whether another attempt may help.
struct secure_result {
  const char* step = "";
  error_code ec;
  bool retryable = false;
};

/// Opens a connection to p.to with `stream` (already bound to a TLS context when it is
/// one), runs `secure` on it (the TLS handshake, or nothing), sends the request and reads
/// the reply.
template <class Stream, class Secure>
net::awaitable<crm_attempt> exchange(Stream& stream, const crm_post& p, Secure secure) {
  crm_attempt a;
  auto failed = [&a](const char* step, error_code ec, bool retryable) {
    a.timed_out = ec == beast::error::timeout;
    a.step = step;
    a.failure = a.step + ": " + (a.timed_out ? std::string("no answer in time") : ec.message());
    a.retryable = retryable;
    return a;
  };
  auto ex = co_await net::this_coro::executor;
  auto& tcp_layer = beast::get_lowest_layer(stream);

  // The resolver has no deadline of its own: a timer cancels it.
  auto resolver = std::make_shared<net::ip::tcp::resolver>(ex);
  net::steady_timer resolve_limit(ex, p.deadline);
  resolve_limit.async_wait([resolver](error_code ec) {
    if (!ec) resolver->cancel();
  });
  auto [rec, endpoints] = co_await resolver->async_resolve(p.to.host, std::to_string(p.to.port), use_tuple);
  resolve_limit.cancel();
  if (rec == net::error::operation_aborted) co_return failed("resolve", beast::error::timeout, true);
  if (rec) co_return failed("resolve", rec, true);

  tcp_layer.expires_at(p.deadline);
  auto [cec, endpoint] = co_await tcp_layer.async_connect(endpoints, use_tuple);
  if (cec) co_return failed("connect", cec, true);
  tcp_layer.socket().set_option(net::ip::tcp::no_delay(true));

  if (auto [step, sec, retryable] = co_await secure(stream); sec) co_return failed(step, sec, retryable);

  bhttp::request<bhttp::string_body> req{bhttp::verb::post, p.to.target, 11};
  const bool default_port = p.to.port == (p.to.tls ? 443 : 80);
  const bool ipv6 = p.to.host.find(':') != std::string::npos;
  std::string host = ipv6 ? "[" + p.to.host + "]" : p.to.host;
  if (!default_port) host += ":" + std::to_string(p.to.port);
  req.set(bhttp::field::host, host);
  for (const auto& [name, value] : p.headers) req.set(name, value);
  req.keep_alive(false);
  req.body() = p.body;
  req.prepare_payload();
  auto [wec, written] = co_await bhttp::async_write(stream, req, use_tuple);
  if (wec) co_return failed("send", wec, true);

  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(p.reply_limit);
  auto [rdec, read] = co_await bhttp::async_read(stream, buffer, parser, use_tuple);
  if (rdec == bhttp::error::body_limit) {
    a.step = "reply";
    a.too_large = true;
    a.failure = "reply: larger than " + std::to_string(p.reply_limit) + " bytes";
    co_return a;
  }
  if (rdec) co_return failed("reply", rdec, true);
  auto& res = parser.get();
  a.status = res.result_int();
  a.content_type = std::string(res[bhttp::field::content_type]);
  a.body = std::move(res.body());
  // The request said Connection: close; nothing more is read or written.
  error_code ignored;
  tcp_layer.socket().shutdown(net::ip::tcp::socket::shutdown_both, ignored);
  tcp_layer.close();
  co_return a;
}

}  // namespace npcl::tools::detail
