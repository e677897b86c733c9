// The ARI events WebSocket: the only translation unit that instantiates
// Beast's WebSocket client over a plain TCP stream.
#include "npcl/ari/events_client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <atomic>
#include <random>

#include "npcl/obs/log.hpp"
#include "npcl/obs/metrics.hpp"
#include "ari/request_text.hpp"
#include "npcl/util/basic_auth.hpp"
#include "util/beast.hpp"

namespace npcl::ari {
namespace {

using tcp = net::ip::tcp;
constexpr auto use_tuple = net::as_tuple(net::use_awaitable);



}  // namespace

struct events_client::impl : std::enable_shared_from_this<impl> {
  using ws_stream = websocket::stream<beast::tcp_stream>;

  impl(net::io_context& ioc, ari_options o, obs::metrics_registry& m, events_handlers h)
      : strand_(net::make_strand(ioc)),
        options_(std::move(o)),
        handlers_(std::move(h)),
        backoff_timer_(strand_),
        connected_gauge_(m.get_gauge("ari_connected", "1 while the ARI events socket is open")),
        reconnects_(m.get_counter("ari_reconnects_total", "ARI events socket reconnect attempts")),
        ignored_(m.get_counter("ari_events_ignored_total", "ARI events of types the daemon does not use")),
        malformed_(m.get_counter("ari_events_malformed_total", "ARI event messages rejected as malformed")),
        received_(m.get_counter("ari_events_total", "ARI event messages received")) {}

  net::strand<net::io_context::executor_type> strand_;  // every member below is used only here
  ari_options options_;
  events_handlers handlers_;
  net::steady_timer backoff_timer_;       // wait between reconnect attempts
  std::shared_ptr<ws_stream> ws_;         // the open (or opening) socket, if any
  bool stopped_ = false;                  // stop() was called
  std::atomic<bool> connected_{false};    // socket open, readable from any thread
  obs::gauge& connected_gauge_;
  obs::counter& reconnects_;
  obs::counter& ignored_;
  obs::counter& malformed_;
  obs::counter& received_;
  std::mt19937 rng_{std::random_device{}()};

  net::awaitable<error_code> connect_once() {
    tcp::resolver resolver(strand_);
    auto ws = std::make_shared<ws_stream>(strand_);
    ws_ = ws;
    auto& lowest = beast::get_lowest_layer(*ws);
    lowest.expires_after(options_.connect_timeout);
    auto [rec, results] = co_await resolver.async_resolve(options_.host, std::to_string(options_.port), use_tuple);
    if (rec) co_return rec;
    auto [cec, ep] = co_await lowest.async_connect(results, use_tuple);
    if (cec) co_return cec;
    lowest.socket().set_option(tcp::no_delay(true));
    lowest.expires_never();  // the websocket's own timeouts take over from here

    websocket::stream_base::timeout t{};
    t.handshake_timeout = options_.connect_timeout;
    t.idle_timeout = options_.ping_interval;
    t.keep_alive_pings = true;  // a ping at half the idle time; no pong by the end → closed
    ws->set_option(t);
    std::string auth = util::basic_auth(options_.username, options_.password);
    ws->set_option(websocket::stream_base::decorator([auth](websocket::request_type& req) {
      req.set(bhttp::field::authorization, auth);
      req.set(bhttp::field::user_agent, "npcl-assistant");
    }));
    ws->read_message_max(1 << 20);
    std::string target = options_.path_prefix + "/events?app=" + detail::percent_encode(options_.app) +
                         "&subscribeAll=false";
    websocket::response_type res;
    auto [hec] = co_await ws->async_handshake(
        res, options_.host + ":" + std::to_string(options_.port), target, use_tuple);
    if (hec) {
      if (res.result_int() != 0)
        spdlog::warn("ARI events socket refused: HTTP {} from {}", res.result_int(), options_.base_url);
      co_return hec;
    }
    co_return error_code{};
  }

  void dispatch(const std::string& text) {
    received_.inc();
    std::string error;
    auto ev = parse_event(text, error);
    if (!ev) {
      malformed_.inc();
      spdlog::warn("ARI event rejected: {} ({} bytes)", error, text.size());
      return;
    }
    if (ev->type == event_type::other) {
      ignored_.inc();
      return;
    }
    if (ev->type == event_type::application_replaced) {
      spdlog::error("ARI application {} was taken over by another events socket; "
                    "run one daemon per STASIS_APP", options_.app);
    }
    if (handlers_.on_event) handlers_.on_event(*ev);
  }

  net::awaitable<void> run() {
    auto self = shared_from_this();
    auto delay = options_.reconnect_min;
    bool first = true;
    while (!stopped_) {
      if (!first) reconnects_.inc();
      first = false;
      error_code ec = co_await connect_once();
      if (!ec && !stopped_) {
        delay = options_.reconnect_min;  // a successful connect resets the backoff
        connected_ = true;
        connected_gauge_.set(1);
        spdlog::info("ARI events socket connected to {} (app {})", options_.base_url, options_.app);
        if (handlers_.on_connected) handlers_.on_connected();
        beast::flat_buffer buffer;
        auto ws = ws_;
        for (;;) {
          auto [rec, n] = co_await ws->async_read(buffer, use_tuple);
          if (rec) {
            ec = rec;
            break;
          }
          if (ws->got_text()) dispatch(beast::buffers_to_string(buffer.data()));
          buffer.consume(buffer.size());
          if (stopped_) break;
        }
        connected_ = false;
        connected_gauge_.set(0);
        if (!stopped_) {
          spdlog::warn("ARI events socket lost: {}", ec.message());
          if (handlers_.on_disconnected) handlers_.on_disconnected(ec);
        }
      } else if (!stopped_) {
        spdlog::warn("ARI events socket connect to {} failed: {}; retrying in {} ms", options_.base_url,
                     ec.message(), delay.count());
      }
      ws_.reset();
      if (stopped_) break;
      // Full jitter keeps a fleet of daemons from reconnecting in lock-step
      // after an Asterisk restart.
      std::uniform_int_distribution<long long> pick(options_.reconnect_min.count(), std::max(delay.count(), options_.reconnect_min.count()));
      backoff_timer_.expires_after(std::chrono::milliseconds(pick(rng_)));
      co_await backoff_timer_.async_wait(use_tuple);
      delay = std::min(delay * 2, options_.reconnect_max);
    }
    connected_ = false;
    connected_gauge_.set(0);
  }
};

events_client::events_client(net::io_context& ioc, ari_options options, obs::metrics_registry& metrics,
                             events_handlers handlers)
    : impl_(std::make_shared<impl>(ioc, std::move(options), metrics, std::move(handlers))) {}

events_client::~events_client() { stop(); }

void events_client::start() {
  net::co_spawn(impl_->strand_, impl_->run(), net::detached);
}

void events_client::stop() {
  net::dispatch(impl_->strand_, [self = impl_] {
    if (self->stopped_) return;
    self->stopped_ = true;
    self->backoff_timer_.cancel();
    if (self->ws_) {
      // A close frame would wait for Asterisk's answer; on shutdown cutting the
      // TCP connection is enough and cannot hang.
      error_code ignored;
      beast::get_lowest_layer(*self->ws_).socket().close(ignored);
    }
  });
}

bool events_client::connected() const { return impl_->connected_.load(); }

}  // namespace npcl::ari
