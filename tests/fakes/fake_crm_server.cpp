#include "fakes/fake_crm_server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cctype>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "fakes/local_listener.hpp"
#include "fakes/test_tls.hpp"

namespace npcl::fakes {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;
constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

namespace {

// How far a request's timestamp may be from the fake's clock, as docs/DATA.md advises.
constexpr std::chrono::seconds max_clock_skew{300};

bool fresh(const std::string& timestamp) {
  if (timestamp.empty() || timestamp.size() > 12 ||
      !std::all_of(timestamp.begin(), timestamp.end(), [](unsigned char c) { return std::isdigit(c); }))
    return false;
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch());
  return std::chrono::abs(now - std::chrono::seconds(std::stoll(timestamp))) <= max_clock_skew;
}

}  // namespace

std::string crm_signature(const std::string& secret, const std::string& timestamp, const std::string& body) {
  const std::string message = timestamp + "." + body;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), digest, &length);
  std::string out = "sha256=";
  char byte[3];
  for (unsigned int i = 0; i < length; ++i) {
    std::snprintf(byte, sizeof byte, "%02x", digest[i]);
    out += byte;
  }
  return out;
}

struct fake_crm_server::impl {
  fake_crm_options opts;
  net::io_context ioc;
  tcp::acceptor acceptor{ioc};
  std::unique_ptr<test_tls> tls;
  std::optional<ssl::context> ssl_ctx;
  std::uint16_t port = 0;
  std::thread thread;

  mutable std::mutex mu;
  mutable std::condition_variable cv;
  std::deque<crm_reply> script;
  crm_reply default_reply;
  std::vector<crm_request_seen> seen;
  int tls_failed = 0;
  std::set<tcp::socket*> open_sockets;  ///< touched on the server thread only

  explicit impl(fake_crm_options o) : opts(std::move(o)) {
    if (opts.tls) {
      tls = std::make_unique<test_tls>("npcl fake CRM CA");
      ssl_ctx.emplace(ssl::context::tls_server);
      ssl_ctx->use_certificate_chain(net::buffer(tls->server_cert_pem()));
      ssl_ctx->use_private_key(net::buffer(tls->server_key_pem()), ssl::context::pem);
    }
    port = listen_on_loopback(acceptor, 0);
    net::co_spawn(ioc, accept_loop(), net::detached);
    thread = std::thread([this] { ioc.run(); });
  }

  ~impl() {
    // Closed on the server thread, where they live; every coroutine then ends and run() returns.
    net::post(ioc, [this] {
      error_code ignored;
      acceptor.close(ignored);
      for (auto* s : open_sockets) s->close(ignored);
    });
    thread.join();
  }

  net::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, sock] = co_await acceptor.async_accept(use_tuple);
      if (!acceptor.is_open()) co_return;
      if (ec) continue;
      if (ssl_ctx) {
        net::co_spawn(ioc, serve_tls(std::move(sock)), net::detached);
      } else {
        net::co_spawn(ioc, serve(beast::tcp_stream(std::move(sock))), net::detached);
      }
    }
  }

  net::awaitable<void> serve_tls(tcp::socket sock) {
    beast::ssl_stream<beast::tcp_stream> stream(beast::tcp_stream(std::move(sock)), *ssl_ctx);
    auto* raw = &beast::get_lowest_layer(stream).socket();
    open_sockets.insert(raw);
    auto [ec] = co_await stream.async_handshake(ssl::stream_base::server, use_tuple);
    open_sockets.erase(raw);
    if (ec) {
      std::lock_guard lock(mu);
      ++tls_failed;
      cv.notify_all();
      co_return;
    }
    co_await serve(std::move(stream));
  }

  template <class Stream>
  net::awaitable<void> serve(Stream stream) {
    auto* raw = &beast::get_lowest_layer(stream).socket();
    open_sockets.insert(raw);
    co_await answer(stream);
    open_sockets.erase(raw);
  }

  template <class Stream>
  net::awaitable<void> answer(Stream& stream) {
    beast::flat_buffer buffer;
    http::request<http::string_body> req;
    auto [rec, n] = co_await http::async_read(stream, buffer, req, use_tuple);
    if (rec) co_return;

    crm_request_seen r;
    r.method = std::string(req.method_string());
    r.target = std::string(req.target());
    for (const auto& field : req) {
      std::string name(field.name_string());
      std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
      r.headers[name] = std::string(field.value());
    }
    r.body = req.body();
    const std::string timestamp = r.headers.count("x-npcl-timestamp") ? r.headers["x-npcl-timestamp"] : "";
    const std::string signature = r.headers.count("x-npcl-signature") ? r.headers["x-npcl-signature"] : "";
    r.signature_valid = fresh(timestamp) && signature == crm_signature(opts.secret, timestamp, r.body);

    crm_reply reply;
    {
      std::lock_guard lock(mu);
      if (!r.signature_valid) {
        reply = {401, "application/json", R"({"error":"bad_signature"})", false};
      } else if (!script.empty()) {
        reply = std::move(script.front());
        script.pop_front();
      } else {
        reply = default_reply;
      }
      seen.push_back(std::move(r));
      cv.notify_all();
    }
    if (reply.never_answer) {
      // Silent until the client gives up and closes, or the fake shuts down.
      co_await http::async_read(stream, buffer, req, use_tuple);
      co_return;
    }
    http::response<http::string_body> res{static_cast<http::status>(reply.status), 11};
    if (!reply.content_type.empty()) res.set(http::field::content_type, reply.content_type);
    res.keep_alive(false);
    res.body() = reply.body;
    res.prepare_payload();
    co_await http::async_write(stream, res, use_tuple);
    error_code ignored;
    beast::get_lowest_layer(stream).socket().shutdown(tcp::socket::shutdown_send, ignored);
  }
};

fake_crm_server::fake_crm_server(fake_crm_options o) : impl_(std::make_unique<impl>(std::move(o))) {}
fake_crm_server::~fake_crm_server() = default;

std::uint16_t fake_crm_server::port() const { return impl_->port; }

std::string fake_crm_server::url(const std::string& path) const {
  return std::string(impl_->opts.tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(impl_->port) + path;
}

std::string fake_crm_server::ca_file() const { return impl_->tls ? impl_->tls->ca_file() : std::string(); }

const std::string& fake_crm_server::secret() const { return impl_->opts.secret; }

void fake_crm_server::script(crm_reply r) {
  std::lock_guard lock(impl_->mu);
  impl_->script.push_back(std::move(r));
}

void fake_crm_server::set_default_reply(crm_reply r) {
  std::lock_guard lock(impl_->mu);
  impl_->default_reply = std::move(r);
}

std::vector<crm_request_seen> fake_crm_server::requests() const {
  std::lock_guard lock(impl_->mu);
  return impl_->seen;
}

testing::AssertionResult fake_crm_server::wait_for_requests(std::size_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mu);
  if (impl_->cv.wait_for(lock, timeout, [&] { return impl_->seen.size() >= n; })) return testing::AssertionSuccess();
  return testing::AssertionFailure() << impl_->seen.size() << " CRM requests after " << timeout.count()
                                     << " ms, wanted " << n;
}

int fake_crm_server::tls_failures() const {
  std::lock_guard lock(impl_->mu);
  return impl_->tls_failed;
}

testing::AssertionResult fake_crm_server::wait_for_tls_failures(int n, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mu);
  if (impl_->cv.wait_for(lock, timeout, [&] { return impl_->tls_failed >= n; })) return testing::AssertionSuccess();
  return testing::AssertionFailure() << impl_->tls_failed << " failed TLS handshakes after " << timeout.count()
                                     << " ms, wanted " << n;
}

}  // namespace npcl::fakes
