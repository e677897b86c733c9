#include "npcl/http/server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <atomic>
#include <exception>
#include <map>
#include <optional>

#include "npcl/obs/log.hpp"
#include "util/beast.hpp"

namespace npcl::http {
namespace {

using tcp = net::ip::tcp;
constexpr auto use_tuple = net::as_tuple(net::use_awaitable);
using route_table = std::map<std::string, std::map<std::string, handler>, std::less<>>;
using beast_request = bhttp::request<bhttp::string_body>;
using beast_response = bhttp::response<bhttp::string_body>;

/// How long a connection that is being closed waits for the peer to read our
/// last response before the socket is closed under it.
constexpr std::chrono::seconds max_linger{2};
/// Bytes a closing connection reads and discards while it lingers.
constexpr std::size_t max_linger_bytes = 1 << 20;
/// Pause after an accept error such as EMFILE, so the loop does not spin.
constexpr std::chrono::milliseconds accept_backoff{100};

/// Endings of a connection that are part of normal life: the peer went away,
/// the deadline passed, or we closed it ourselves.
bool is_expected_ending(const error_code& ec) {
  return ec == net::error::operation_aborted || ec == net::error::eof || ec == net::error::connection_reset ||
         ec == net::error::broken_pipe || ec == net::error::not_connected || ec == net::error::bad_descriptor ||
         ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message || ec == beast::error::timeout;
}

void fail(const error_code& ec, std::string_view what, std::string_view peer) {
  if (is_expected_ending(ec)) {
    spdlog::debug("http: {} {}: {}", peer, what, ec.message());
  } else {
    spdlog::warn("http: {} {}: {}", peer, what, ec.message());
  }
}

void log_exception(std::exception_ptr e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    spdlog::warn("http: connection ended by exception: {}", x.what());
  }
}

bool is_http_parse_error(const error_code& ec) {
  return ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category() &&
         ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/// Percent-decodes a path; nullopt for a broken escape or an encoded NUL,
/// which no route can mean and which would truncate C strings downstream.
std::optional<std::string> percent_decode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) return std::nullopt;
    const int hi = hex_value(in[i + 1]), lo = hex_value(in[i + 2]);
    if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) return std::nullopt;
    out.push_back(static_cast<char>(hi << 4 | lo));
    i += 2;
  }
  return out;
}

/// The route-facing view of a parsed message; nullopt when the target is not
/// an origin-form path ("/a/b?q") we can route.
std::optional<request> to_request(beast_request&& m) {
  const std::string_view target(m.target().data(), m.target().size());
  if (target.empty() || target.front() != '/') return std::nullopt;
  const auto question = target.find('?');
  auto path = percent_decode(target.substr(0, question));
  if (!path) return std::nullopt;
  request r;
  r.method = std::string(m.method_string());
  r.path = std::move(*path);
  if (question != std::string_view::npos) r.query = std::string(target.substr(question + 1));
  for (const auto& field : m) r.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  r.body = std::move(m.body());
  return r;
}

bool is_token(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
  });
}

bool is_safe_value(std::string_view s) {
  return std::none_of(s.begin(), s.end(), [](char c) { return c == '\r' || c == '\n' || c == '\0'; });
}

response plain(unsigned status, std::string body) {
  return response{status, "text/plain; charset=utf-8", std::move(body), {}};
}

/// Builds the wire response. A handler's response is not trusted to be
/// well-formed: a bad status becomes 500, unsafe or framing headers are dropped.
beast_response to_beast(response r, unsigned version, bool keep_alive, bool head) {
  if (r.status < 200 || r.status > 599) {
    spdlog::warn("http: handler answered with invalid status {}; sending 500", r.status);
    r = plain(500, "internal error\n");
  }
  beast_response res{static_cast<bhttp::status>(r.status), version};
  res.set(bhttp::field::server, "npcl-assistant");
  res.set(bhttp::field::cache_control, "no-store");
  if (is_safe_value(r.content_type)) res.set(bhttp::field::content_type, r.content_type);
  for (const auto& [name, value] : r.headers) {
    const auto field = bhttp::string_to_field(name);
    const bool framing = field == bhttp::field::content_length || field == bhttp::field::transfer_encoding ||
                         field == bhttp::field::connection;
    if (framing || !is_token(name) || !is_safe_value(value)) {
      spdlog::warn("http: dropped response header '{}' set by a handler", name);
      continue;
    }
    res.insert(name, value);
  }
  res.keep_alive(keep_alive);
  if (r.status == 204 || r.status == 304) return res;  // these carry neither body nor length
  const std::size_t length = r.body.size();
  if (!head) res.body() = std::move(r.body);
  res.content_length(length);
  return res;
}

/// One accepted socket: reads requests one after another (keep-alive), runs
/// the route and writes the answer. Everything runs on the connection's strand.
class connection : public std::enable_shared_from_this<connection> {
 public:
  connection(tcp::socket socket, std::shared_ptr<const route_table> routes, const http_options& options)
      : stream_(std::move(socket)),
        reply_wait_(stream_.get_executor()),
        routes_(std::move(routes)),
        options_(options) {
    error_code ec;
    const auto remote = stream_.socket().remote_endpoint(ec);
    peer_ = ec ? std::string("?") : remote.address().to_string() + ":" + std::to_string(remote.port());
  }

  executor get_executor() { return stream_.get_executor(); }

  net::awaitable<void> run();

  /// Closes the socket and abandons any pending reply. Callable from any thread.
  void close() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] {
      self->closed_ = true;
      error_code ec;
      self->stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
      self->stream_.close();
      self->reply_wait_.cancel();
    });
  }

  /// Delivers a route's answer for request number `sequence`; on the strand.
  void on_reply(std::uint64_t sequence, response r) {
    if (closed_ || sequence != sequence_ || reply_) return;
    reply_ = std::move(r);
    reply_wait_.cancel();
  }

 private:
  net::awaitable<std::optional<response>> call_route(const request& req);
  net::awaitable<bool> write(response r, unsigned version, bool keep_alive, bool head);
  net::awaitable<void> reject(unsigned status, std::string_view reason);
  net::awaitable<void> linger();

  beast::tcp_stream stream_;        ///< the client socket; its timer enforces read_timeout
  beast::flat_buffer buffer_;       ///< bytes read past the current request (pipelining)
  net::steady_timer reply_wait_;    ///< parked on while a handler answers asynchronously
  std::shared_ptr<const route_table> routes_;  ///< frozen at server::start()
  http_options options_;            ///< limits and deadlines
  std::string peer_;                ///< "address:port" of the client, for log lines
  std::uint64_t sequence_ = 0;      ///< number of the request being answered
  std::optional<response> reply_;   ///< the answer to request sequence_, once given
  bool closed_ = false;             ///< set by close(); no further I/O
};

/// Shared by every copy of one request's `reply` callback: enforces "at most
/// once" and answers 500 if the last copy is dropped without a reply, so a
/// buggy handler cannot park a connection forever.
class reply_slot {
 public:
  reply_slot(std::weak_ptr<connection> conn, std::uint64_t sequence)
      : connection_(std::move(conn)), sequence_(sequence) {}
  reply_slot(const reply_slot&) = delete;
  reply_slot& operator=(const reply_slot&) = delete;
  ~reply_slot() {
    if (!used_.load()) deliver(plain(500, "handler did not reply\n"));
  }

  void deliver(response r) {
    if (used_.exchange(true)) {
      spdlog::debug("http: second reply to one request ignored");
      return;
    }
    if (auto conn = connection_.lock()) {
      net::dispatch(conn->get_executor(), [conn, seq = sequence_, r = std::move(r)]() mutable {
        conn->on_reply(seq, std::move(r));
      });
    }
  }

 private:
  std::weak_ptr<connection> connection_;  ///< the connection waiting; gone if it closed
  std::uint64_t sequence_;                ///< which of its requests this answers
  std::atomic<bool> used_{false};         ///< a reply was delivered
};

net::awaitable<void> connection::run() {
  auto self = shared_from_this();
  while (!closed_) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.body_limit(options_.max_body_bytes);
    // One deadline covers the whole request, headers and body: a client
    // trickling bytes cannot hold the connection past read_timeout.
    stream_.expires_after(options_.read_timeout);
    auto [ec, n] = co_await bhttp::async_read_header(stream_, buffer_, parser, use_tuple);
    if (!ec && !parser.is_done()) {
      const auto expect = parser.get()[bhttp::field::expect];
      if (beast::iequals(expect, "100-continue")) {
        static constexpr std::string_view go_on = "HTTP/1.1 100 Continue\r\n\r\n";
        auto [wec, wn] = co_await net::async_write(stream_, net::buffer(go_on), use_tuple);
        ec = wec;
      }
      if (!ec) std::tie(ec, n) = co_await bhttp::async_read(stream_, buffer_, parser, use_tuple);
    }
    if (ec == bhttp::error::body_limit) co_return co_await reject(413, "body over max_body_bytes");
    if (ec == bhttp::error::header_limit) co_return co_await reject(431, "header too large");
    if (is_http_parse_error(ec)) co_return co_await reject(400, ec.message());
    if (ec) co_return fail(ec, "read", peer_);

    const unsigned version = parser.get().version();
    const bool keep_alive = parser.get().keep_alive();
    auto req = to_request(parser.release());
    if (!req) co_return co_await reject(400, "target is not a routable path");

    auto answer = co_await call_route(*req);
    if (!answer) co_return;  // closed while the handler worked
    if (!co_await write(std::move(*answer), version, keep_alive, req->method == "HEAD")) co_return;
    if (!keep_alive) co_return co_await linger();
  }
}

net::awaitable<std::optional<response>> connection::call_route(const request& req) {
  const auto path = routes_->find(req.path);
  if (path == routes_->end()) co_return plain(404, "not found\n");
  const auto& methods = path->second;
  auto route = methods.find(req.method);
  if (route == methods.end() && req.method == "HEAD") route = methods.find("GET");
  if (route == methods.end()) {
    std::string allow;
    for (const auto& [method, h] : methods) {
      if (!allow.empty()) allow += ", ";
      allow += method;
      if (method == "GET" && !methods.contains("HEAD")) allow += ", HEAD";
    }
    response r = plain(405, "method not allowed\n");
    r.headers.emplace_back("Allow", std::move(allow));
    co_return r;
  }

  ++sequence_;
  reply_.reset();
  auto slot = std::make_shared<reply_slot>(weak_from_this(), sequence_);
  try {
    route->second(req, [slot](response r) { slot->deliver(std::move(r)); });
  } catch (const std::exception& e) {
    spdlog::warn("http: handler for {} {} threw: {}", req.method, req.path, e.what());
    slot->deliver(plain(500, "internal error\n"));
  }
  slot.reset();
  // `req` stays alive in the caller's frame until the answer arrives, so a
  // handler that answers later may still read it.
  while (!reply_ && !closed_) {
    reply_wait_.expires_at(net::steady_timer::time_point::max());
    co_await reply_wait_.async_wait(use_tuple);
  }
  co_return std::move(reply_);
}

net::awaitable<bool> connection::write(response r, unsigned version, bool keep_alive, bool head) {
  auto res = to_beast(std::move(r), version, keep_alive, head);
  // The same deadline protects against a client that stops reading.
  stream_.expires_after(options_.read_timeout);
  auto [ec, n] = co_await bhttp::async_write(stream_, res, use_tuple);
  if (ec) fail(ec, "write", peer_);
  co_return !ec;
}

net::awaitable<void> connection::reject(unsigned status, std::string_view reason) {
  spdlog::info("http: {} rejected with {}: {}", peer_, status, reason);
  if (co_await write(plain(status, std::string(reason) + "\n"), 11, false, false)) co_await linger();
}

net::awaitable<void> connection::linger() {
  // Closing with unread input makes the kernel send RST, which can destroy the
  // response before the client reads it: half-close, then drain briefly.
  error_code ec;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  stream_.expires_after(std::min<std::chrono::steady_clock::duration>(options_.read_timeout, max_linger));
  std::size_t drained = 0;
  while (!ec && !closed_ && drained < max_linger_bytes) {
    char sink[4096];
    std::size_t n = 0;
    std::tie(ec, n) = co_await stream_.async_read_some(net::buffer(sink), use_tuple);
    drained += n;
  }
  stream_.close();
}

}  // namespace

struct server::impl : std::enable_shared_from_this<server::impl> {
  impl(net::io_context& ioc, http_options options)
      : ioc_(ioc), options_(std::move(options)), strand_(net::make_strand(ioc)), acceptor_(strand_) {}

  net::awaitable<void> accept_loop();
  void stop();

  net::io_context& ioc_;                        ///< runs every connection
  http_options options_;                        ///< bind address, limits, deadlines
  net::strand<net::io_context::executor_type> strand_;  ///< serialises the acceptor and connections_
  tcp::acceptor acceptor_;                      ///< the listening socket
  std::shared_ptr<route_table> routes_ = std::make_shared<route_table>();  ///< by path, then method
  std::vector<std::weak_ptr<connection>> connections_;  ///< live connections, for stop(); on strand_
  std::atomic<std::uint16_t> port_{0};          ///< bound port, 0 before start()
  bool stopped_ = false;                        ///< stop() was called; on strand_
};

net::awaitable<void> server::impl::accept_loop() {
  auto self = shared_from_this();
  const std::shared_ptr<const route_table> routes = routes_;
  while (!stopped_) {
    auto [ec, socket] = co_await acceptor_.async_accept(net::make_strand(ioc_), use_tuple);
    if (stopped_) break;
    if (ec) {
      fail(ec, "accept", "listener");
      net::steady_timer pause(strand_, accept_backoff);
      co_await pause.async_wait(use_tuple);
      continue;
    }
    auto conn = std::make_shared<connection>(std::move(socket), routes, options_);
    std::erase_if(connections_, [](const auto& weak) { return weak.expired(); });
    connections_.push_back(conn);
    net::co_spawn(conn->get_executor(), conn->run(), log_exception);
  }
}

void server::impl::stop() {
  net::dispatch(strand_, [self = shared_from_this()] {
    self->stopped_ = true;
    error_code ec;
    self->acceptor_.close(ec);
    for (const auto& weak : self->connections_) {
      if (auto conn = weak.lock()) conn->close();
    }
    self->connections_.clear();
  });
}

server::server(net::io_context& ioc, http_options options)
    : impl_(std::make_shared<impl>(ioc, std::move(options))) {}

server::~server() { impl_->stop(); }

void server::route(std::string method, std::string path, handler h) {
  (*impl_->routes_)[std::move(path)][std::move(method)] = std::move(h);
}

error_code server::start() {
  auto& acceptor = impl_->acceptor_;
  if (acceptor.is_open()) return net::error::already_open;
  error_code ec;
  const auto address = net::ip::make_address(impl_->options_.host, ec);
  if (ec) return ec;
  const tcp::endpoint endpoint(address, impl_->options_.port);
  auto listen = [&] {
    if (acceptor.open(endpoint.protocol(), ec); ec) return;
    if (acceptor.set_option(net::socket_base::reuse_address(true), ec); ec) return;
    if (acceptor.bind(endpoint, ec); ec) return;
    acceptor.listen(net::socket_base::max_listen_connections, ec);
  };
  listen();
  const auto local = ec ? tcp::endpoint{} : acceptor.local_endpoint(ec);
  if (ec) {
    error_code ignored;
    acceptor.close(ignored);  // so that start() may be retried
    return ec;
  }
  impl_->port_ = local.port();
  spdlog::info("http: listening on {}:{}", local.address().to_string(), local.port());
  net::co_spawn(impl_->strand_, impl_->accept_loop(), log_exception);
  return {};
}

std::uint16_t server::port() const { return impl_->port_; }

void server::stop() { impl_->stop(); }

}  // namespace npcl::http
