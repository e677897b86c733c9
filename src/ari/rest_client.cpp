// The ARI HTTP client: the only translation unit that instantiates Beast's
// HTTP machinery over a plain TCP stream for the client side.
#include "npcl/ari/rest_client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <deque>

#include "npcl/obs/log.hpp"
#include "npcl/obs/metrics.hpp"
#include "ari/request_text.hpp"
#include "npcl/util/basic_auth.hpp"
#include "util/beast.hpp"

namespace npcl::ari {
namespace {

using tcp = net::ip::tcp;
constexpr auto use_tuple = net::as_tuple(net::use_awaitable);
constexpr std::size_t max_pool = 16;  // idle keep-alive connections kept for reuse



std::string error_text(const std::string& body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_object()) {
    for (const char* key : {"message", "error"}) {
      if (auto it = j.find(key); it != j.end() && it->is_string()) return it->get<std::string>();
    }
  }
  return body.substr(0, 200);
}

}  // namespace

struct rest_client::impl : std::enable_shared_from_this<impl> {
  impl(net::io_context& ioc, ari_options o, obs::metrics_registry& m)
      : strand_(net::make_strand(ioc)),
        options_(std::move(o)),
        auth_(util::basic_auth(options_.username, options_.password)),
        duration_(m.get_histogram("ari_request_duration_seconds",
                                  "ARI REST request duration, from send to complete reply",
                                  obs::latency_buckets())),
        failures_(m.get_counter("ari_request_failures_total",
                                "ARI REST requests that got no reply (connect error, timeout)")) {}

  net::strand<net::io_context::executor_type> strand_;  // all pool and stream work runs here
  ari_options options_;
  std::string auth_;                                   // Authorization header value (secret)
  std::deque<std::unique_ptr<beast::tcp_stream>> idle_;  // keep-alive connections ready for reuse
  obs::histogram& duration_;
  obs::counter& failures_;
  bool shut_down_ = false;                             // set by shutdown(): no more pooling

  net::awaitable<std::pair<error_code, std::unique_ptr<beast::tcp_stream>>> connect() {
    auto stream = std::make_unique<beast::tcp_stream>(strand_);
    tcp::resolver resolver(strand_);
    stream->expires_after(options_.connect_timeout);
    auto [rec, results] = co_await resolver.async_resolve(
        options_.host, std::to_string(options_.port), use_tuple);
    if (rec) co_return std::pair{rec, nullptr};
    auto [cec, ep] = co_await stream->async_connect(results, use_tuple);
    if (cec) co_return std::pair{cec, nullptr};
    stream->socket().set_option(tcp::no_delay(true));
    co_return std::pair{error_code{}, std::move(stream)};
  }

  // One attempt on one connection. `reused` tells whether a failure before any
  // response byte may be a stale keep-alive connection worth one retry.
  net::awaitable<rest_reply> exchange(beast::tcp_stream& stream,
                                      const bhttp::request<bhttp::string_body>& req,
                                      bool& keep, bool& stale) {
    rest_reply reply;
    stream.expires_after(options_.request_timeout);
    auto [wec, wn] = co_await bhttp::async_write(stream, req, use_tuple);
    if (wec) {
      reply.ec = wec;
      stale = true;
      co_return reply;
    }
    beast::flat_buffer buffer;
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(4 * 1024 * 1024);
    auto [rec, rn] = co_await bhttp::async_read(stream, buffer, parser, use_tuple);
    if (rec) {
      reply.ec = rec;
      stale = (rec == bhttp::error::end_of_stream || rec == net::error::connection_reset ||
               rec == net::error::eof) && rn == 0;
      co_return reply;
    }
    auto& res = parser.get();
    reply.status = res.result_int();
    reply.body = std::move(res.body());
    keep = res.keep_alive();
    if (!reply.ok()) reply.message = error_text(reply.body);
    co_return reply;
  }

  net::awaitable<rest_reply> run(std::string method, std::string path, params query, std::string body) {
    std::string target = options_.path_prefix + path;
    char sep = '?';
    for (const auto& [k, v] : query) {
      target += sep;
      target += detail::percent_encode(k) + "=" + detail::percent_encode(v);
      sep = '&';
    }
    bhttp::request<bhttp::string_body> req{bhttp::string_to_verb(method), target, 11};
    req.set(bhttp::field::host, options_.host + ":" + std::to_string(options_.port));
    req.set(bhttp::field::authorization, auth_);
    req.set(bhttp::field::user_agent, "npcl-assistant");
    req.keep_alive(true);
    if (!body.empty()) {
      req.set(bhttp::field::content_type, "application/json");
      req.body() = std::move(body);
    }
    req.prepare_payload();

    auto started = std::chrono::steady_clock::now();
    rest_reply reply;
    for (int attempt = 0; attempt < 2; ++attempt) {
      std::unique_ptr<beast::tcp_stream> stream;
      bool reused = false;
      if (!idle_.empty()) {
        stream = std::move(idle_.front());
        idle_.pop_front();
        reused = true;
      } else {
        auto [ec, fresh] = co_await connect();
        if (ec) {
          reply = {};
          reply.ec = ec;
          break;
        }
        stream = std::move(fresh);
      }
      bool keep = false, stale = false;
      reply = co_await exchange(*stream, req, keep, stale);
      if (!reply.ec) {
        if (keep && !shut_down_ && idle_.size() < max_pool) {
          stream->expires_never();
          idle_.push_back(std::move(stream));
        }
        break;
      }
      if (!(reused && stale)) break;  // only a stale pooled connection earns a retry
    }
    if (reply.ec) {
      if (reply.ec == beast::error::timeout) reply.ec = net::error::timed_out;
      reply.message = reply.ec.message();
      failures_.inc();
    }
    duration_.observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    co_return reply;
  }
};

rest_client::rest_client(net::io_context& ioc, ari_options options, obs::metrics_registry& metrics)
    : impl_(std::make_shared<impl>(ioc, std::move(options), metrics)) {}

rest_client::~rest_client() { shutdown(); }

net::awaitable<rest_reply> rest_client::request(std::string method, std::string path, params query,
                                                std::string json_body) {
  auto self = impl_;  // keeps the pool alive while the request runs
  co_return co_await net::co_spawn(
      self->strand_, self->run(std::move(method), std::move(path), std::move(query), std::move(json_body)),
      net::use_awaitable);
}

void rest_client::shutdown() {
  net::post(impl_->strand_, [self = impl_] {
    self->shut_down_ = true;
    for (auto& s : self->idle_) {
      error_code ignored;
      s->socket().shutdown(tcp::socket::shutdown_both, ignored);
      s->close();
    }
    self->idle_.clear();
  });
}

}  // namespace npcl::ari
