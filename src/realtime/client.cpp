// The Realtime WebSocket client: the only translation unit that instantiates
// Beast's WebSocket client over TLS (wss) and, for tests, over plain TCP (ws).
// Everything that does not depend on the stream lives in client::impl; the
// transport<Tls> template adds the socket and is instantiated here only.
#include "npcl/realtime/client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>
#include <nlohmann/json.hpp>

#include <deque>
#include <optional>
#include <type_traits>

#include "npcl/obs/log.hpp"
#include "npcl/obs/metrics.hpp"
#include "npcl/realtime/connection_request.hpp"
#include "npcl/realtime/errc.hpp"
#include "npcl/realtime/protocol.hpp"
#include "realtime/base64.hpp"
#include "util/beast.hpp"

namespace npcl::realtime {
namespace {

using tcp = net::ip::tcp;
constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

// Errors the service sends when a race made a request pointless; the
// conversation is unaffected.
bool is_benign(const std::string& code) {
  return code == "response_cancel_not_active" || code == "conversation_already_has_active_response";
}

// Errors after which this conversation cannot go on: a bad key or no money
// will not fix themselves; a beta socket is closed by the service; an
// expired session accepts nothing more.
bool is_fatal(const std::string& code) {
  return code == "invalid_api_key" || code == "insufficient_quota" || code == "beta_api_shape_disabled" ||
         code == "session_expired";
}

// The service explains a refused upgrade as {"error":{type,code,message}}.
link_error refusal_error(unsigned status, const std::string& body) {
  link_error e;
  e.fatal = true;
  e.type = "handshake_refused";
  e.code = "http_" + std::to_string(status);
  e.message = body.substr(0, 300);
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_object() && j.contains("error") && j["error"].is_object()) {
    const auto& err = j["error"];
    if (err.contains("type") && err["type"].is_string()) e.type = err["type"].get<std::string>();
    if (err.contains("code") && err["code"].is_string()) e.code = err["code"].get<std::string>();
    if (err.contains("message") && err["message"].is_string()) e.message = err["message"].get<std::string>();
  }
  return e;
}

// Where the CONNECT tunnel goes, from an HTTPS_PROXY value.
struct proxy_target {
  std::string host;           // proxy host name or address
  std::string port;           // proxy port, decimal
  std::string authorization;  // "Basic ..." when the URL carries user info, else ""
};

std::optional<proxy_target> parse_proxy(const std::string& value, std::string& why) {
  const std::string text = value.find("://") == std::string::npos ? "http://" + value : value;
  auto parsed = boost::urls::parse_uri(text);
  if (!parsed || parsed->scheme() != "http" || parsed->host_address().empty()) {
    why = "HTTPS_PROXY must be http://[user:password@]host:port";
    return std::nullopt;
  }
  proxy_target p;
  p.host = parsed->host_address();
  p.port = parsed->has_port() ? std::string(parsed->port()) : "80";
  if (parsed->has_userinfo()) {
    std::string credentials = parsed->user() + ":" + parsed->password();
    p.authorization = "Basic " + detail::base64_encode(std::span(
                                     reinterpret_cast<const std::uint8_t*>(credentials.data()), credentials.size()));
  }
  return p;
}

}  // namespace

// Stream-independent state and logic of one link; runs on strand_ only.
struct client::impl : std::enable_shared_from_this<client::impl> {
  // Outcome of the connect phase.
  struct connect_result {
    error_code ec;         // first error, or success
    unsigned status = 0;   // HTTP status of a refused upgrade (0 when none was received)
    std::string body;      // body of a refused upgrade
    const char* step = "";  // what was being done when it failed, for the log and the error code
  };
  // One event waiting to be written.
  struct outgoing {
    std::string text;  // JSON text frame
    bool audio;        // an append: may be dropped when the queue is full
  };

  impl(executor strand, client_options o, obs::metrics_registry& m)
      : strand_(std::move(strand)),
        options_(std::move(o)),
        metrics_(m),
        watchdog_(strand_),
        ignored_(m.get_counter("realtime_events_ignored_total", "Realtime server events of unknown types")),
        dropped_(m.get_counter("realtime_audio_dropped_total",
                               "Caller audio appends dropped because the send queue was full")),
        malformed_(m.get_counter("realtime_events_malformed_total", "Realtime server messages rejected as malformed")) {
    request_ = make_connection_request(options_, &request_problem_);
  }
  virtual ~impl() = default;

  // --- transport, provided by transport<Tls> ---
  virtual net::awaitable<connect_result> connect(const connection_request& req) = 0;
  virtual net::awaitable<error_code> read_message(std::string& text, bool& is_text) = 0;
  virtual void write_message(std::shared_ptr<const std::string> text) = 0;
  // Cuts the connection at once, aborting every pending operation.
  virtual void cut() = 0;

  executor strand_;                   // the call's strand; every member is used only there
  client_options options_;            // immutable after construction
  obs::metrics_registry& metrics_;    // for labelled series created on first use
  std::optional<connection_request> request_;  // what to connect to; empty when the options are unusable
  std::string request_problem_;       // why request_ is empty
  net::steady_timer watchdog_;        // deadline of the whole connect phase
  obs::counter& ignored_;             // server events of unknown types
  obs::counter& dropped_;             // caller audio appends dropped
  obs::counter& malformed_;           // server messages rejected

  link_handlers handlers_;            // the call's callbacks; cleared after close
  std::optional<protocol> protocol_;  // wire encoding of this conversation (set by start)
  bool started_ = false;              // start() was called
  bool closed_ = false;               // close() was called or the link ended: no more handlers
  bool timed_out_ = false;            // the watchdog fired during the connect phase
  bool open_ = false;                 // WebSocket established: writes may go out
  bool writing_ = false;              // a write is in flight
  bool ready_ = false;                // session.updated seen
  bool response_active_ = false;      // a response is being generated (requested or created, not done)
  bool create_pending_ = false;       // a response.create waits for the active response to finish
  std::string pending_instructions_;  // instructions of that pending response.create
  std::string current_response_;      // id of the response being generated ("" when none)
  std::string cancelled_response_;    // id of the last response cancelled: its late audio is dropped
  std::deque<outgoing> queue_;        // events waiting for the write in flight, oldest first
  std::size_t audio_queued_ = 0;      // appends in queue_
  std::vector<std::int16_t> pending_pcm_;  // caller audio not yet a full append (call rate)
  std::size_t batch_samples_ = 0;     // samples per append at the call rate

  // Calls a handler unless the link is closed. Handlers may call close().
  template <class F, class... Args>
  void notify(F link_handlers::*member, Args&&... args) {
    if (closed_) return;
    auto& f = handlers_.*member;
    if (f) f(std::forward<Args>(args)...);
  }

  void count_error(const std::string& code) {
    metrics_.get_counter("realtime_errors_total", "Realtime errors by code", {{"code", code.empty() ? "unknown" : code}})
        .inc();
  }

  void start(link_config config, link_handlers handlers) {
    if (started_ || closed_) return;
    started_ = true;
    handlers_ = std::move(handlers);
    if (protocol::supports(config.call_format)) {
      protocol_.emplace(options_.dialect, config.call_format);
      batch_samples_ = std::max<std::size_t>(
          1, static_cast<std::size_t>(config.call_format.sample_rate_hz) *
                 static_cast<std::size_t>(std::max<long long>(1, options_.append_interval.count())) / 1000);
      std::string dropped_tools;
      enqueue(protocol_->session_update(config, &dropped_tools), false);
      if (!dropped_tools.empty()) spdlog::warn("realtime: {}", dropped_tools);
    }
    net::co_spawn(strand_, run(shared_from_this()), net::detached);
  }

  net::awaitable<void> run(std::shared_ptr<impl> self) {
    if (!protocol_) {
      fail_start(errc::bad_configuration, {"configuration", "unsupported_audio_format",
                                           "call audio must be mono at 8, 16, 24 or 48 kHz", true});
      co_return;
    }
    if (!request_) {
      fail_start(errc::bad_configuration, {"configuration", "bad_configuration", request_problem_, true});
      co_return;
    }
    watchdog_.expires_after(options_.handshake_timeout);
    watchdog_.async_wait([weak = std::weak_ptr<impl>(self)](error_code ec) {
      auto me = weak.lock();
      if (ec || !me || me->open_ || me->closed_) return;
      me->timed_out_ = true;
      me->cut();
    });
    connect_result r = co_await connect(*request_);
    watchdog_.cancel();
    if (closed_) co_return;
    if (r.ec) {
      if (timed_out_) {
        fail_start(errc::handshake_timeout, {"connection_error", "handshake_timeout",
                                             std::string("no connection within the handshake timeout (") + r.step + ")",
                                             false});
      } else if (r.status != 0) {
        link_error e = refusal_error(r.status, obs::redact(r.body, {options_.service.api_key}));
        fail_start(errc::handshake_refused, std::move(e));
      } else if (r.ec == errc::proxy_refused) {
        fail_start(r.ec, {"connection_error", "proxy_refused", r.body, false});
      } else if (r.ec == errc::bad_configuration) {
        fail_start(r.ec, {"configuration", "bad_configuration", r.body, true});
      } else {
        // A certificate that does not verify will not verify on a retry either.
        const bool tls = std::string_view(r.step) == "tls_handshake";
        fail_start(r.ec, {"connection_error", std::string(r.step) + "_failed", r.ec.message(), tls});
      }
      co_return;
    }
    open_ = true;
    spdlog::debug("realtime: connected to {}:{} ({})", request_->host, request_->port, to_string(options_.dialect));
    pump();
    std::string text;
    for (;;) {
      bool is_text = true;
      error_code ec = co_await read_message(text, is_text);
      if (closed_) co_return;
      if (ec) {
        if (ec != websocket::error::closed) spdlog::warn("realtime: connection lost: {}", ec.message());
        finish(ec);
        co_return;
      }
      if (!is_text) {
        ignored_.inc();  // the service never sends binary frames
        continue;
      }
      on_message(text);
      if (closed_) co_return;
    }
  }

  // The link never opened: report why, then end it.
  void fail_start(error_code ec, link_error e) {
    count_error(e.code);
    spdlog::error("realtime: cannot connect to {}: {} {}: {}", request_ ? request_->host : std::string("(no URL)"),
                  e.type, e.code, e.message);
    notify(&link_handlers::on_error, e);
    finish(ec);
  }

  // Ends the link once: cuts the socket and reports on_closed.
  void finish(error_code ec) {
    if (closed_) return;
    auto on_closed = std::move(handlers_.on_closed);
    shut();
    if (on_closed) on_closed(ec);
  }

  // Marks the link closed and drops the handlers after the current one returns
  // (they may be the caller of close(), and they often own this link's owner).
  void shut() {
    closed_ = true;
    open_ = false;
    watchdog_.cancel();
    queue_.clear();
    cut();
    net::post(strand_, [self = shared_from_this()] { self->handlers_ = {}; });
  }

  void close() {
    if (closed_) return;
    shut();
  }

  void on_message(const std::string& text) {
    std::string why;
    auto ev = protocol_->decode(text, &why);
    if (!ev) {
      malformed_.inc();
      spdlog::warn("realtime: server message rejected: {} ({} bytes)", why, text.size());
      return;
    }
    using kind = server_event::kind;
    switch (ev->type) {
      case kind::session_updated:
        if (!ready_) {
          ready_ = true;
          notify(&link_handlers::on_ready);
        }
        break;
      case kind::speech_started:
        notify(&link_handlers::on_speech_started);
        break;
      case kind::speech_stopped:
        notify(&link_handlers::on_speech_stopped);
        break;
      case kind::response_created:
        response_active_ = true;
        current_response_ = ev->response_id;
        break;
      case kind::response_done:
        on_response_done(*ev);
        break;
      case kind::audio_delta:
        if (!cancelled_response_.empty() && ev->response_id == cancelled_response_) break;
        notify(&link_handlers::on_audio, ev->item_id, std::move(ev->pcm));
        break;
      case kind::audio_done:
        notify(&link_handlers::on_audio_done, ev->item_id);
        break;
      case kind::assistant_transcript:
        notify(&link_handlers::on_transcript,
               transcript_line{transcript_line::speaker::assistant, ev->item_id, std::move(ev->text)});
        break;
      case kind::caller_transcript:
        notify(&link_handlers::on_transcript,
               transcript_line{transcript_line::speaker::caller, ev->item_id, std::move(ev->text)});
        break;
      case kind::tool_call:
        notify(&link_handlers::on_tool_call, ev->call_id, ev->name, ev->arguments);
        break;
      case kind::rate_limits:
        for (const auto& l : ev->limits) {
          spdlog::debug("realtime: rate limit {}: {} of {} left, reset in {} s", l.name, l.remaining, l.limit,
                        l.reset_seconds);
          // Operators alert on a shrinking remainder before calls start failing.
          metrics_.get_gauge("realtime_rate_limit_remaining", "Requests or tokens left in the current window",
                             {{"limit", l.name == "requests" || l.name == "tokens" ? l.name : std::string("other")}})
              .set(static_cast<double>(l.remaining));
        }
        break;
      case kind::error:
        on_service_error(std::move(ev->error));
        break;
      case kind::unknown:
        ignored_.inc();
        spdlog::debug("realtime: ignored server event {}", ev->wire_type);
        break;
      case kind::session_created:
      case kind::committed:
      case kind::item_added:
      case kind::item_done:
      case kind::known_unused:
        break;
    }
  }

  void on_response_done(server_event& ev) {
    response_active_ = false;
    current_response_.clear();
    auto count_tokens = [this](const char* kind, std::uint64_t n) {
      if (n) metrics_.get_counter("realtime_tokens_total", "Realtime tokens used", {{"kind", kind}}).inc(n);
    };
    count_tokens("input", ev.tokens.input_tokens);
    count_tokens("output", ev.tokens.output_tokens);
    count_tokens("input_audio", ev.tokens.input_audio_tokens);
    count_tokens("output_audio", ev.tokens.output_audio_tokens);
    notify(&link_handlers::on_usage, ev.tokens);
    if (ev.status == "failed") {
      ev.error.fatal = false;
      if (ev.error.message.empty()) ev.error.message = "response failed";
      count_error(ev.error.code);
      spdlog::warn("realtime: response {} failed: {} {}", ev.response_id, ev.error.code, ev.error.message);
      notify(&link_handlers::on_error, ev.error);
    }
    notify(&link_handlers::on_response_done);
    if (create_pending_ && !closed_) {
      create_pending_ = false;
      send_response_create(std::exchange(pending_instructions_, {}));
    }
  }

  void on_service_error(link_error e) {
    count_error(e.code);
    if (is_benign(e.code)) {
      spdlog::debug("realtime: {} ({})", e.code, e.message);
      return;
    }
    e.fatal = is_fatal(e.code);
    if (e.fatal) {
      spdlog::error("realtime: fatal service error {} {}: {}", e.type, e.code,
                    obs::redact(e.message, {options_.service.api_key}));
    } else {
      spdlog::warn("realtime: service error {} {}: {}", e.type, e.code, e.message);
    }
    notify(&link_handlers::on_error, e);
    if (e.fatal) finish(errc::fatal_service_error);
  }

  // --- sending ---

  void enqueue(std::string text, bool audio) {
    if (closed_) return;
    if (audio) {
      if (audio_queued_ >= options_.audio_queue_max) {
        // Old caller audio is worth less than new: drop from the front.
        auto oldest = std::find_if(queue_.begin(), queue_.end(), [](const outgoing& o) { return o.audio; });
        if (oldest != queue_.end()) {
          queue_.erase(oldest);
          --audio_queued_;
          dropped_.inc();
        }
      }
      if (options_.audio_queue_max == 0) {
        dropped_.inc();
        return;
      }
      ++audio_queued_;
    }
    queue_.push_back({std::move(text), audio});
    pump();
  }

  void pump() {
    if (!open_ || writing_ || closed_ || queue_.empty()) return;
    outgoing next = std::move(queue_.front());
    queue_.pop_front();
    if (next.audio) --audio_queued_;
    writing_ = true;
    write_message(std::make_shared<const std::string>(std::move(next.text)));
  }

  // Completion of write_message, on the strand.
  void on_written(error_code ec) {
    writing_ = false;
    if (closed_) return;
    if (ec) {
      spdlog::warn("realtime: write failed: {}", ec.message());
      finish(ec);
      return;
    }
    pump();
  }

  void send_audio(std::span<const std::int16_t> pcm) {
    if (!protocol_ || closed_) return;
    pending_pcm_.insert(pending_pcm_.end(), pcm.begin(), pcm.end());
    std::size_t used = 0;
    while (pending_pcm_.size() - used >= batch_samples_) {
      enqueue(protocol_->audio_append(std::span(pending_pcm_).subspan(used, batch_samples_)), true);
      used += batch_samples_;
    }
    pending_pcm_.erase(pending_pcm_.begin(), pending_pcm_.begin() + static_cast<std::ptrdiff_t>(used));
  }

  void send_response_create(const std::string& instructions) {
    if (response_active_) {
      // One response at a time: a second response.create would be refused.
      create_pending_ = true;
      pending_instructions_ = instructions;
      return;
    }
    response_active_ = true;
    enqueue(protocol_->response_create(instructions), false);
  }

  void cancel_response() {
    if (!protocol_ || closed_) return;
    create_pending_ = false;
    if (!current_response_.empty()) cancelled_response_ = current_response_;
    enqueue(protocol_->response_cancel(), false);
  }

  void truncate(const std::string& item_id, std::chrono::milliseconds heard) {
    if (!protocol_ || closed_) return;
    // The service refuses a truncate past the audio it produced.
    auto received = protocol_->audio_received(item_id);
    if (received.count() > 0 && heard > received) heard = received;
    enqueue(protocol_->truncate(item_id, heard), false);
  }
};

namespace {

// The socket of one link: wss (Tls) or ws.
template <bool Tls>
struct transport final : client::impl {
  using next_layer = std::conditional_t<Tls, beast::ssl_stream<beast::tcp_stream>, beast::tcp_stream>;
  using ws_type = websocket::stream<next_layer>;

  transport(executor strand, client_options o, obs::metrics_registry& m)
      : impl(std::move(strand), std::move(o), m), resolver_(strand_) {
    if constexpr (Tls) {
      ssl_.set_default_verify_paths(ca_problem_);
      if (!options_.ca_file.empty()) ssl_.load_verify_file(options_.ca_file, ca_problem_);
      ssl_.set_verify_mode(net::ssl::verify_peer);
      ws_.emplace(strand_, ssl_);
    } else {
      ws_.emplace(strand_);
    }
  }

  net::awaitable<connect_result> connect(const connection_request& req) override {
    auto self = shared_from_this();
    connect_result r;
    auto fail = [&r](error_code ec, const char* step) {
      r.ec = ec;
      r.step = step;
      return r;
    };
    if (Tls && ca_problem_) {
      r.body = "cannot load CA file " + options_.ca_file + ": " + ca_problem_.message();
      co_return fail(errc::bad_configuration, "tls_setup");
    }
    std::optional<proxy_target> proxy;
    if (!options_.https_proxy.empty()) {
      proxy = parse_proxy(options_.https_proxy, r.body);
      if (!proxy) co_return fail(errc::bad_configuration, "proxy_setup");
    }

    auto [rec, endpoints] = co_await resolver_.async_resolve(proxy ? proxy->host : req.host,
                                                             proxy ? proxy->port : req.port, use_tuple);
    if (rec) co_return fail(rec, "resolve");
    auto& tcp_layer = beast::get_lowest_layer(*ws_);
    auto [cec, ep] = co_await tcp_layer.async_connect(endpoints, use_tuple);
    if (cec) co_return fail(cec, "connect");
    tcp_layer.socket().set_option(tcp::no_delay(true));

    if (proxy) {
      error_code pec = co_await open_tunnel(*proxy, req, r.body);
      if (pec) co_return fail(pec, "proxy");
    }

    if constexpr (Tls) {
      auto& tls = ws_->next_layer();
      boost::system::error_code ip_ec;
      net::ip::make_address(req.host, ip_ec);
      // SNI carries names only; an address literal is checked against the
      // certificate's IP entries by the verification callback below.
      if (ip_ec && !SSL_set_tlsext_host_name(tls.native_handle(), req.host.c_str()))
        co_return fail(error_code(static_cast<int>(::ERR_get_error()), net::error::get_ssl_category()), "tls_setup");
      tls.set_verify_callback(net::ssl::host_name_verification(req.host));
      auto [tec] = co_await tls.async_handshake(net::ssl::stream_base::client, use_tuple);
      if (tec) co_return fail(tec, "tls_handshake");
    }

    websocket::stream_base::timeout t{};
    t.handshake_timeout = options_.handshake_timeout;
    t.idle_timeout = options_.idle_timeout;
    t.keep_alive_pings = true;  // a ping at half the idle time; no traffic by its end → closed
    ws_->set_option(t);
    ws_->read_message_max(options_.max_message_bytes);
    auto headers = req.headers;
    ws_->set_option(websocket::stream_base::decorator([headers](websocket::request_type& upgrade) {
      for (const auto& [name, value] : headers) upgrade.set(name, value);
      upgrade.set(bhttp::field::user_agent, "npcl-assistant");
    }));
    const bool default_port = req.port == (Tls ? "443" : "80");
    websocket::response_type res;
    auto [hec] = co_await ws_->async_handshake(res, default_port ? req.host : req.host + ":" + req.port, req.target,
                                               use_tuple);
    if (hec) {
      if (res.result_int() != 0 && res.result_int() != 101) {
        r.status = res.result_int();
        r.body = res.body();
      }
      co_return fail(hec, "upgrade");
    }
    co_return r;
  }

  // CONNECT host:port through an HTTP proxy; the tunnel then carries TLS.
  net::awaitable<error_code> open_tunnel(const proxy_target& proxy, const connection_request& req, std::string& why) {
    std::string request = "CONNECT " + req.host + ":" + req.port + " HTTP/1.1\r\nHost: " + req.host + ":" + req.port +
                          "\r\n";
    if (!proxy.authorization.empty()) request += "Proxy-Authorization: " + proxy.authorization + "\r\n";
    request += "\r\n";
    auto& tcp_layer = beast::get_lowest_layer(*ws_);
    auto [wec, wn] = co_await net::async_write(tcp_layer, net::buffer(request), use_tuple);
    if (wec) co_return wec;
    std::string answer;
    auto [rec, rn] = co_await net::async_read_until(tcp_layer, net::dynamic_buffer(answer, 16 * 1024), "\r\n\r\n",
                                                   use_tuple);
    if (rec) co_return rec;
    // "HTTP/1.1 200 Connection established"; nothing may follow the header
    // before the TLS handshake.
    auto first_line = answer.substr(0, answer.find("\r\n"));
    if (first_line.size() < 12 || first_line.compare(0, 5, "HTTP/") != 0 ||
        first_line.substr(first_line.find(' ') + 1, 3) != "200" || rn != answer.size()) {
      why = "proxy answered: " + first_line;
      co_return make_error_code(errc::proxy_refused);
    }
    co_return error_code{};
  }

  net::awaitable<error_code> read_message(std::string& text, bool& is_text) override {
    auto self = shared_from_this();
    buffer_.clear();
    auto [ec, n] = co_await ws_->async_read(buffer_, use_tuple);
    if (ec) co_return ec;
    is_text = ws_->got_text();
    text = beast::buffers_to_string(buffer_.data());
    co_return error_code{};
  }

  void write_message(std::shared_ptr<const std::string> text) override {
    ws_->text(true);
    ws_->async_write(net::buffer(*text), [self = shared_from_this(), text](error_code ec, std::size_t) {
      self->on_written(ec);
    });
  }

  void cut() override {
    resolver_.cancel();
    error_code ignored;
    beast::get_lowest_layer(*ws_).socket().close(ignored);
  }

  net::ssl::context ssl_{net::ssl::context::tls_client};  // trust store and verification (wss only)
  boost::system::error_code ca_problem_;                   // why the trust store could not be loaded
  std::optional<ws_type> ws_;                              // the socket; built after ssl_
  tcp::resolver resolver_;                                 // DNS of the service or the proxy
  beast::flat_buffer buffer_;                              // the message being read
};

}  // namespace

client::client(executor strand, client_options options, obs::metrics_registry& metrics) {
  std::string ignored;
  auto request = make_connection_request(options, &ignored);
  if (request && !request->tls) {
    impl_ = std::make_shared<transport<false>>(std::move(strand), std::move(options), metrics);
  } else {
    impl_ = std::make_shared<transport<true>>(std::move(strand), std::move(options), metrics);
  }
}

client::~client() { close(); }

void client::start(link_config config, link_handlers handlers) { impl_->start(std::move(config), std::move(handlers)); }

void client::send_audio(std::span<const std::int16_t> pcm) { impl_->send_audio(pcm); }

void client::request_response(const std::string& instructions) {
  if (!impl_->protocol_ || impl_->closed_) return;
  impl_->send_response_create(instructions);
}

void client::cancel_response() { impl_->cancel_response(); }

void client::truncate(const std::string& item_id, std::chrono::milliseconds heard) { impl_->truncate(item_id, heard); }

void client::send_tool_result(const std::string& call_id, const std::string& output_json) {
  if (!impl_->protocol_ || impl_->closed_) return;
  impl_->enqueue(impl_->protocol_->tool_output(call_id, output_json), false);
  impl_->send_response_create({});
}

void client::add_history(const transcript_line& line) {
  if (!impl_->protocol_ || impl_->closed_) return;
  impl_->enqueue(impl_->protocol_->history_item(line), false);
}

void client::close() {
  if (impl_) impl_->close();
}

}  // namespace npcl::realtime
