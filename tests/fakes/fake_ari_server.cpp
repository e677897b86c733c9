#include "fakes/local_listener.hpp"
#include "fakes/fake_ari_server.hpp"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/url/parse.hpp>

#include "fakes/ari_model.hpp"
#include "util/beast.hpp"

namespace npcl::fakes {
namespace {

using tcp = net::ip::tcp;
constexpr auto use_tuple = net::as_tuple(net::use_awaitable);
constexpr const char* k_server = "Asterisk/23.4.1";

// Decodes standard base64; returns false on anything else (Authorization is untrusted).
bool decode_base64(std::string_view in, std::string& out) {
  static constexpr std::string_view alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  out.clear();
  unsigned buffer = 0;
  int bits = 0;
  std::size_t i = 0;
  for (; i < in.size() && in[i] != '='; ++i) {
    const auto pos = alphabet.find(in[i]);
    if (pos == std::string_view::npos) return false;
    buffer = (buffer << 6) | static_cast<unsigned>(pos);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xff));
    }
  }
  for (; i < in.size(); ++i)
    if (in[i] != '=') return false;
  return true;
}

bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

// One accepted events WebSocket. Its outbox and flags are guarded by impl::mu_; the stream
// itself is only touched on the server thread.
struct events_socket {
  explicit events_socket(beast::tcp_stream stream) : ws(std::move(stream)) {}
  websocket::stream<beast::tcp_stream> ws;  ///< the socket
  std::vector<std::string> apps;            ///< applications it subscribed to
  std::deque<std::string> outbox;           ///< events not yet handed to the stream
  std::string in_flight;                    ///< the event being written (server thread only)
  bool writing = false;                     ///< a write chain is running or posted
  bool closed = false;                      ///< gone or dropped: accepts nothing more
};

// What dispatch() decided for one request.
struct answer {
  unsigned status = 204;                    ///< HTTP status
  std::string body;                         ///< JSON body, empty for none
  std::chrono::milliseconds delay{0};       ///< how late the reply goes out
  std::string dial_channel_id;              ///< externalMedia dial to run after the reply
  bool ask_credentials = false;             ///< add WWW-Authenticate (401)
  std::vector<std::string> events_apps;     ///< upgrade accepted for these applications
};

}  // namespace

struct fake_ari_server::impl {
  // Declared first so it is destroyed last: sockets held elsewhere close against a live context.
  net::io_context ioc;
  fake_ari_options opts;
  tcp::acceptor acceptor{ioc};
  std::uint16_t port = 0;

  mutable std::mutex mu;
  std::condition_variable cv;  // signalled after every change the wait_for_x calls look at
  ari_model model;
  std::vector<std::shared_ptr<events_socket>> open_sockets;
  std::map<std::string, std::shared_ptr<events_socket>> active;  // app → socket receiving its events
  std::vector<recorded_request> log;
  struct armed_fault {
    fault f;
    int seen = 0;  // matching requests since it was added
  };
  std::vector<armed_fault> faults;
  struct delay_rule {
    std::string method, prefix;
    std::chrono::milliseconds delay;
  };
  std::vector<delay_rule> delays;
  bool refusing = false;
  std::thread thread;

  explicit impl(fake_ari_options o)
      : opts(std::move(o)),
        model(opts.app, [this](const std::string& app, std::string text) { deliver(app, std::move(text)); }) {
    port = listen_on_loopback(acceptor, opts.port);
    net::co_spawn(ioc, accept_loop(), net::detached);
    thread = std::thread([this] { ioc.run(); });
  }

  ~impl() {
    ioc.stop();
    thread.join();
    std::lock_guard lk(mu);
    active.clear();
    open_sockets.clear();
  }

  void trace(const std::string& line) {
    if (opts.trace) opts.trace(line);
  }

  // ----- events delivery (called with mu held) -----
  void deliver(const std::string& app, std::string text) {
    const auto it = active.find(app);
    if (it == active.end()) return;
    trace("event -> " + text);
    push(it->second, std::move(text));
  }

  void push(const std::shared_ptr<events_socket>& s, std::string text) {
    if (s->closed) return;
    s->outbox.push_back(std::move(text));
    if (!s->writing) {
      s->writing = true;
      net::post(ioc, [this, s] { write_next(s); });
    }
  }

  // One write at a time per socket; the outbox keeps the order events were produced in
  // under the lock, whichever thread produced them.
  void write_next(const std::shared_ptr<events_socket>& s) {
    {
      std::lock_guard lk(mu);
      if (s->closed || s->outbox.empty()) {
        s->writing = false;
        return;
      }
      s->in_flight = std::move(s->outbox.front());
      s->outbox.pop_front();
    }
    s->ws.text(true);
    s->ws.async_write(net::buffer(s->in_flight), [this, s](error_code ec, std::size_t) {
      if (ec) {
        std::lock_guard lk(mu);
        s->writing = false;
        s->closed = true;
        return;
      }
      write_next(s);
    });
  }

  // Called with mu held. Idempotent: a dropped socket is forgotten at once and again when
  // its read loop ends.
  void forget(const std::shared_ptr<events_socket>& s) {
    s->closed = true;
    open_sockets.erase(std::remove(open_sockets.begin(), open_sockets.end(), s), open_sockets.end());
    for (const auto& app : s->apps) {
      const auto it = active.find(app);
      if (it != active.end() && it->second == s) {
        active.erase(it);
        model.set_app_active(app, false);
      }
    }
    cv.notify_all();
  }

  // ----- HTTP -----
  net::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, sock] = co_await acceptor.async_accept(use_tuple);
      if (ec == net::error::operation_aborted) co_return;
      if (ec) continue;
      net::co_spawn(ioc, serve(std::move(sock)), net::detached);
    }
  }

  net::awaitable<void> serve(tcp::socket sock) {
    beast::tcp_stream stream(std::move(sock));
    beast::flat_buffer buffer;
    for (;;) {
      bhttp::request_parser<bhttp::string_body> parser;
      parser.body_limit(1024 * 1024);
      if (opts.keep_alive_idle.count() > 0)
        stream.expires_after(opts.keep_alive_idle);
      else
        stream.expires_never();
      auto [ec, n] = co_await bhttp::async_read(stream, buffer, parser, use_tuple);
      if (ec) co_return;  // closed, idle timeout or unparsable request: drop the connection
      stream.expires_never();
      bhttp::request<bhttp::string_body> req = parser.release();
      const bool upgrade = websocket::is_upgrade(req);
      answer a = dispatch(req, upgrade);

      if (upgrade && !a.events_apps.empty()) {
        co_await serve_events(std::move(stream), std::move(req), std::move(a.events_apps));
        co_return;
      }
      if (a.delay.count() > 0) {
        // The effect already happened; only the reply is late, so the dial runs now too.
        if (!a.dial_channel_id.empty()) {
          net::post(ioc, [this, id = a.dial_channel_id] { complete_dial(id); });
          a.dial_channel_id.clear();
        }
        net::steady_timer timer(ioc, a.delay);
        co_await timer.async_wait(use_tuple);
      }
      const bool keep = req.keep_alive() && !upgrade;
      bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(a.status), req.version()};
      res.set(bhttp::field::server, k_server);
      if (a.ask_credentials) res.set("WWW-Authenticate", "Basic realm=\"Asterisk REST Interface\"");
      res.set("Cache-Control", "no-cache, no-store");
      if (!a.body.empty()) {
        res.set("Content-type", "application/json");
        res.body() = std::move(a.body);
      }
      res.keep_alive(keep);
      res.prepare_payload();
      auto [wec, wn] = co_await bhttp::async_write(stream, res, use_tuple);
      if (!a.dial_channel_id.empty()) complete_dial(a.dial_channel_id);
      if (wec) co_return;
      if (!keep) {
        error_code ignored;
        stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
        co_return;
      }
    }
  }

  void complete_dial(const std::string& id) {
    std::lock_guard lk(mu);
    model.complete_dial(id);
    cv.notify_all();
  }

  answer reject(recorded_request& rec, unsigned status, const std::string& message) {
    rec.status = status;
    answer a;
    a.status = status;
    // A fault answered 204 is a request Asterisk accepted and then did nothing about
    // (a redirect whose REFER the far end refuses): 204 has no body.
    if (status != 204) a.body = ari_model::error_body(message);
    return a;
  }

  // Everything about one request that needs the state, under one lock.
  answer dispatch(const bhttp::request<bhttp::string_body>& req, bool upgrade) {
    std::lock_guard lk(mu);
    recorded_request rec;
    rec.method = std::string(req.method_string());
    rec.body = req.body();
    answer a = route(req, upgrade, rec);
    rec.status = a.status;
    trace("request <- " + rec.method + " " + std::string(req.target()) + (rec.body.empty() ? "" : " " + rec.body) +
          " => " + std::to_string(a.status) + (a.body.empty() ? "" : " " + a.body));
    log.push_back(std::move(rec));
    cv.notify_all();
    return a;
  }

  answer route(const bhttp::request<bhttp::string_body>& req, bool upgrade, recorded_request& rec) {
    const auto target = req.target();
    auto url = boost::urls::parse_origin_form(std::string_view(target.data(), target.size()));
    if (!url) return reject(rec, 400, "Invalid request target");
    std::vector<std::string> segments;
    for (auto seg : url->segments()) segments.push_back(std::string(seg));
    std::string api_key;
    for (auto p : url->params()) {
      if (p.key == "api_key")
        api_key = p.value;
      else
        rec.query[p.key] = p.value;
    }
    if (segments.empty() || segments.front() != "ari") return reject(rec, 404, "Resource not found");
    segments.erase(segments.begin());
    for (const auto& seg : segments) rec.path += "/" + seg;

    // Authentication comes before routing, on REST and on the upgrade alike.
    const std::string expected = opts.username + ":" + opts.password;
    bool authorized = !api_key.empty() && api_key == expected;
    const auto auth = req.find(bhttp::field::authorization);
    if (!authorized && auth != req.end()) {
      const std::string value(auth->value());
      std::string decoded;
      authorized = starts_with(value, "Basic ") && decode_base64(value.substr(6), decoded) && decoded == expected;
    }
    if (!authorized) {
      answer a = reject(rec, 401, "Authentication required");
      a.ask_credentials = true;
      return a;
    }

    for (auto it = faults.begin(); it != faults.end(); ++it) {
      if (it->f.method != rec.method || !starts_with(rec.path, it->f.path_prefix)) continue;
      if (++it->seen < it->f.nth) continue;
      const fault f = it->f;
      faults.erase(it);
      return reject(rec, f.status, f.message);
    }
    std::chrono::milliseconds delay{0};
    for (const auto& d : delays)
      if (d.method == rec.method && starts_with(rec.path, d.prefix)) delay = std::max(delay, d.delay);

    if (upgrade) return accept_events(rec, segments);

    const std::string content_type(req[bhttp::field::content_type]);
    ari_reply r = model.handle(rec.method, segments, rec.query, req.body(), content_type);
    answer a;
    a.status = r.status;
    a.body = std::move(r.body);
    a.delay = delay;
    a.dial_channel_id = std::move(r.dial_channel_id);
    return a;
  }

  answer accept_events(recorded_request& rec, const std::vector<std::string>& segments) {
    if (segments.size() != 1 || segments[0] != "events") return reject(rec, 404, "Resource not found");
    if (rec.method != "GET") return reject(rec, 405, "Invalid method");
    for (const auto& [k, v] : rec.query)
      if (k != "app" && k != "subscribeAll") return reject(rec, 400, "unknown parameter " + k);
    const auto app = rec.query.find("app");
    if (app == rec.query.end() || app->second.empty()) return reject(rec, 400, "Missing param 'app'");
    if (refusing) return reject(rec, 503, "Service Unavailable");
    answer a;
    a.status = 101;
    std::string::size_type start = 0;
    for (;;) {
      const auto comma = app->second.find(',', start);
      const std::string name = app->second.substr(start, comma - start);
      if (!name.empty()) a.events_apps.push_back(name);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    if (a.events_apps.empty()) return reject(rec, 400, "Missing param 'app'");
    return a;
  }

  net::awaitable<void> serve_events(beast::tcp_stream stream, bhttp::request<bhttp::string_body> req,
                                    std::vector<std::string> apps) {
    auto s = std::make_shared<events_socket>(std::move(stream));
    s->apps = std::move(apps);
    // Asterisk sends no pings of its own; it only answers the client's.
    websocket::stream_base::timeout timeouts{};
    timeouts.handshake_timeout = std::chrono::seconds(30);
    timeouts.idle_timeout = websocket::stream_base::none();
    timeouts.keep_alive_pings = false;
    s->ws.set_option(timeouts);
    s->ws.set_option(websocket::stream_base::decorator(
        [](websocket::response_type& res) { res.set(bhttp::field::server, k_server); }));
    auto [ec] = co_await s->ws.async_accept(req, use_tuple);
    if (ec) co_return;
    {
      std::lock_guard lk(mu);
      for (const auto& app : s->apps) {
        // A second socket for an app takes it over; the first hears why, then nothing more.
        if (const auto it = active.find(app); it != active.end() && it->second != s) {
          const auto old = it->second;
          std::string text = model.application_replaced_event(app);
          trace("event -> " + text);
          push(old, std::move(text));
        }
        active[app] = s;
        model.set_app_active(app, true);
      }
      open_sockets.push_back(s);
      cv.notify_all();
    }
    // Reading keeps pings answered and notices the close; what the client sends is ignored.
    beast::flat_buffer buffer;
    for (;;) {
      auto [rec, n] = co_await s->ws.async_read(buffer, use_tuple);
      if (rec) break;
      buffer.consume(buffer.size());
    }
    std::lock_guard lk(mu);
    forget(s);
  }

  // ----- waiting -----
  template <typename Pred>
  testing::AssertionResult wait(std::chrono::milliseconds timeout, Pred pred, const std::string& what) {
    std::unique_lock lk(mu);
    if (cv.wait_for(lk, timeout, pred)) return testing::AssertionSuccess();
    return testing::AssertionFailure() << "fake Asterisk: timed out after " << timeout.count() << " ms waiting for "
                                       << what;
  }
};

fake_ari_server::fake_ari_server(fake_ari_options o) : impl_(std::make_unique<impl>(std::move(o))) {}

fake_ari_server::~fake_ari_server() = default;

std::uint16_t fake_ari_server::port() const { return impl_->port; }

std::string fake_ari_server::base_url() const { return "http://127.0.0.1:" + std::to_string(impl_->port) + "/ari"; }

std::string fake_ari_server::place_call(std::string caller_number, std::string caller_name,
                                        std::vector<std::string> args, std::string exten) {
  std::lock_guard lk(impl_->mu);
  std::string id = impl_->model.place_call(caller_number, caller_name, args, exten);
  impl_->trace(id.empty() ? "call to 1000 failed: no events socket for " + impl_->opts.app
                          : "call to 1000 from " + caller_number + " is channel " + id);
  impl_->cv.notify_all();
  return id;
}

void fake_ari_server::caller_hangup(const std::string& channel_id) {
  std::lock_guard lk(impl_->mu);
  impl_->trace("caller hangs up " + channel_id);
  impl_->model.caller_hangup(channel_id);
  impl_->cv.notify_all();
}

void fake_ari_server::send_dtmf(const std::string& channel_id, char digit, int duration_ms) {
  std::lock_guard lk(impl_->mu);
  impl_->model.send_dtmf(channel_id, digit, duration_ms);
}

void fake_ari_server::set_unicastrtp_port(std::uint16_t port) {
  std::lock_guard lk(impl_->mu);
  impl_->model.set_unicastrtp_port(port);
}

void fake_ari_server::set_media_connection_id(std::string id) {
  std::lock_guard lk(impl_->mu);
  impl_->model.set_media_connection_id(std::move(id));
}

void fake_ari_server::drop_events_socket() {
  std::vector<std::shared_ptr<events_socket>> dropped;
  {
    std::lock_guard lk(impl_->mu);
    dropped = impl_->open_sockets;
    for (const auto& s : dropped) impl_->forget(s);
    impl_->trace("events sockets dropped: " + std::to_string(dropped.size()));
  }
  for (const auto& s : dropped)
    net::post(impl_->ioc, [s] {
      error_code ignored;
      auto& sock = beast::get_lowest_layer(s->ws).socket();
      sock.shutdown(tcp::socket::shutdown_both, ignored);
      sock.close(ignored);
    });
}

void fake_ari_server::refuse_events(bool refuse) {
  std::lock_guard lk(impl_->mu);
  impl_->refusing = refuse;
}

void fake_ari_server::add_fault(fault f) {
  std::lock_guard lk(impl_->mu);
  impl_->faults.push_back({std::move(f), 0});
}

void fake_ari_server::delay_replies(std::string method, std::string path_prefix, std::chrono::milliseconds d) {
  std::lock_guard lk(impl_->mu);
  impl_->delays.push_back({std::move(method), std::move(path_prefix), d});
}

std::vector<channel_info> fake_ari_server::channels() const {
  std::lock_guard lk(impl_->mu);
  return impl_->model.channels();
}

std::vector<bridge_info> fake_ari_server::bridges() const {
  std::lock_guard lk(impl_->mu);
  return impl_->model.bridges();
}

std::vector<recorded_request> fake_ari_server::requests() const {
  std::lock_guard lk(impl_->mu);
  return impl_->log;
}

int fake_ari_server::events_connections() const {
  std::lock_guard lk(impl_->mu);
  return static_cast<int>(impl_->open_sockets.size());
}

testing::AssertionResult fake_ari_server::wait_for_events_connection(std::chrono::milliseconds timeout, int count) {
  return impl_->wait(
      timeout, [&] { return static_cast<int>(impl_->open_sockets.size()) >= count; },
      std::to_string(count) + " events socket(s)");
}

testing::AssertionResult fake_ari_server::wait_for_request(const std::string& method, const std::string& path_prefix,
                                                           std::chrono::milliseconds timeout, int count) {
  return impl_->wait(
      timeout,
      [&] {
        return std::count_if(impl_->log.begin(), impl_->log.end(), [&](const recorded_request& r) {
                 return r.method == method && starts_with(r.path, path_prefix);
               }) >= count;
      },
      std::to_string(count) + " request(s) " + method + " " + path_prefix);
}

testing::AssertionResult fake_ari_server::wait_for_bridged(const std::string& channel_id,
                                                           std::chrono::milliseconds timeout) {
  return impl_->wait(
      timeout,
      [&] {
        for (const auto& c : impl_->model.channels())
          if (c.id == channel_id) return !c.bridge_id.empty();
        return false;
      },
      "channel " + channel_id + " to be bridged");
}

testing::AssertionResult fake_ari_server::wait_for_idle(std::chrono::milliseconds timeout) {
  return impl_->wait(timeout, [&] { return impl_->model.idle(); }, "no bridges and no application channels");
}

testing::AssertionResult fake_ari_server::wait_for_channel_gone(const std::string& channel_id,
                                                                std::chrono::milliseconds timeout) {
  return impl_->wait(
      timeout,
      [&] {
        const auto all = impl_->model.channels();
        return std::none_of(all.begin(), all.end(), [&](const channel_info& c) { return c.id == channel_id; });
      },
      "channel " + channel_id + " to be gone");
}

}  // namespace npcl::fakes
