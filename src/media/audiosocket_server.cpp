#include "npcl/media/audiosocket_server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <array>
#include <atomic>
#include <map>
#include <mutex>
#include <set>

#include "npcl/media/audiosocket_framing.hpp"
#include "npcl/obs/log.hpp"
#include "npcl/util/ids.hpp"

namespace npcl::media {
namespace {

using tcp = net::ip::tcp;
using uuid_key = std::array<std::uint8_t, 16>;

bool to_key(const std::string& uuid, uuid_key& key) {
  unsigned char raw[16];
  if (!util::parse_uuid(uuid, raw)) return false;
  std::copy(std::begin(raw), std::end(raw), key.begin());
  return true;
}

std::string peer_text(const tcp::socket& s) {
  error_code ec;
  auto ep = s.remote_endpoint(ec);
  if (ec) return "?";
  return ep.address().to_string() + ":" + std::to_string(ep.port());
}

// A connection waiting for its id; shared with its deadline timer.
struct pending_connection {
  explicit pending_connection(tcp::socket s) : socket(std::move(s)) {}
  tcp::socket socket;      // from Asterisk
  bool done = false;       // reading ended (id, error or timeout)
  bool timed_out = false;  // the deadline closed the socket
};

}  // namespace

struct audiosocket_server::impl : std::enable_shared_from_this<impl> {
  impl(executor ex, const media_options& options, std::chrono::milliseconds id_timeout, std::size_t max_pending)
      : strand_(net::make_strand(ex)),
        acceptor_(strand_),
        options_(options),
        id_timeout_(id_timeout),
        max_pending_(max_pending) {}

  executor strand_;                     // accept loop and connections awaiting their id
  tcp::acceptor acceptor_;              // the listening socket
  media_options options_;               // bind_host and listen_port
  std::chrono::milliseconds id_timeout_;  // wait for the id message
  std::size_t max_pending_;             // connections allowed to await their id at once
  std::atomic<std::uint16_t> port_{0};  // bound port, 0 before start()
  bool stopped_ = false;                // stop() ran (strand only)
  std::set<std::shared_ptr<pending_connection>> pending_;  // awaiting their id (strand only)

  mutable std::mutex registry_mutex_;   // guards registry_; held while a handler runs
  std::map<uuid_key, connection_handler> registry_;  // calls waiting for their connection

  // Counters, readable from any thread.
  std::atomic<std::uint64_t> accepted_{0}, handed_over_{0}, unknown_id_{0}, no_id_{0}, malformed_{0},
      over_limit_{0};

  net::awaitable<void> accept_loop() {
    auto self = shared_from_this();
    while (!stopped_) {
      auto [ec, socket] = co_await acceptor_.async_accept(net::as_tuple(net::use_awaitable));
      if (stopped_) co_return;
      if (ec) {
        // Running out of descriptors must not end the listener for good.
        spdlog::warn("AudioSocket accept failed: {}", ec.message());
        net::steady_timer pause(strand_, std::chrono::milliseconds(100));
        co_await pause.async_wait(net::as_tuple(net::use_awaitable));
        continue;
      }
      ++accepted_;
      if (pending_.size() >= max_pending_) {
        ++over_limit_;
        spdlog::warn("AudioSocket connection from {} refused: {} connections already await their id",
                     peer_text(socket), pending_.size());
        continue;  // the socket closes as it goes out of scope
      }
      // Counted as pending at once, so the limit holds for the next accept.
      auto c = std::make_shared<pending_connection>(std::move(socket));
      pending_.insert(c);
      net::co_spawn(strand_, identify(std::move(c)), net::detached);
    }
  }

  // Reads the first message within id_timeout_ and hands the socket over.
  net::awaitable<void> identify(std::shared_ptr<pending_connection> c) {
    auto self = shared_from_this();
    const std::string from = peer_text(c->socket);
    net::steady_timer deadline(strand_, id_timeout_);
    deadline.async_wait([self, c, from](error_code ec) {
      if (ec || c->done) return;
      // Counted before the close, so whoever sees the close sees the count.
      c->timed_out = true;
      ++self->no_id_;
      spdlog::warn("AudioSocket connection from {} closed: no id message within {} ms", from,
                   self->id_timeout_.count());
      error_code ignored;
      c->socket.close(ignored);
    });

    audiosocket_parser parser;
    audiosocket_message first;
    std::array<std::uint8_t, 1024> buffer{};
    auto r = audiosocket_parser::result::need_more;
    error_code read_error;
    while (r == audiosocket_parser::result::need_more) {
      auto [ec, n] = co_await c->socket.async_read_some(net::buffer(buffer), net::as_tuple(net::use_awaitable));
      if (ec) {
        read_error = ec;
        break;
      }
      parser.feed(std::span<const std::uint8_t>(buffer.data(), n));
      r = parser.next(first);
    }
    c->done = true;  // same strand as the timer: it can no longer close the socket
    pending_.erase(c);
    if (stopped_) co_return;

    if (c->timed_out) co_return;  // counted and logged by the deadline
    if (read_error) {
      ++no_id_;
      spdlog::warn("AudioSocket connection from {} ended before its id message: {}", from, read_error.message());
      co_return;
    }
    if (r == audiosocket_parser::result::malformed || first.kind != audiosocket_kind::id) {
      ++malformed_;
      spdlog::warn("AudioSocket connection from {} closed: first message {}", from,
                   r == audiosocket_parser::result::malformed
                       ? "invalid (" + parser.error() + ")"
                       : fmt::format("is kind 0x{:02x}, not an id", static_cast<unsigned>(first.kind)));
      co_return;
    }
    uuid_key key{};
    std::copy(first.payload.begin(), first.payload.end(), key.begin());
    const std::string id_text = audiosocket_uuid_text(first.payload);
    auto unparsed = parser.unparsed();
    std::vector<std::uint8_t> rest(unparsed.begin(), unparsed.end());

    std::lock_guard lock(registry_mutex_);
    auto it = registry_.find(key);
    if (it == registry_.end()) {
      ++unknown_id_;
      spdlog::warn("AudioSocket connection from {} closed: no call has id {}", from, id_text);
      co_return;
    }
    auto handler = std::move(it->second);
    registry_.erase(it);
    ++handed_over_;
    spdlog::debug("AudioSocket connection from {} belongs to call media {}", from, id_text);
    // Under the lock, so unregister_call() returning means "no call any more".
    handler(std::move(c->socket), std::move(rest));
  }

  void stop_on_strand() {
    if (stopped_) return;
    stopped_ = true;
    error_code ignored;
    acceptor_.close(ignored);
    for (auto& c : pending_) c->socket.close(ignored);
  }
};

audiosocket_server::audiosocket_server(executor ex, const media_options& options,
                                       std::chrono::milliseconds id_timeout, std::size_t max_pending)
    : impl_(std::make_shared<impl>(std::move(ex), options, id_timeout, max_pending)) {}

audiosocket_server::~audiosocket_server() { stop(); }

error_code audiosocket_server::start() {
  error_code ec;
  auto address = net::ip::make_address(impl_->options_.bind_host, ec);
  if (ec) return ec;
  tcp::endpoint ep(address, impl_->options_.listen_port);
  auto& a = impl_->acceptor_;
  a.open(ep.protocol(), ec);
  if (!ec) a.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) a.bind(ep, ec);
  if (!ec) a.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    error_code ignored;
    a.close(ignored);
    return ec;
  }
  impl_->port_ = a.local_endpoint(ec).port();
  net::co_spawn(impl_->strand_, impl_->accept_loop(), net::detached);
  return {};
}

std::uint16_t audiosocket_server::port() const { return impl_->port_; }

void audiosocket_server::stop() {
  net::dispatch(impl_->strand_, [i = impl_] { i->stop_on_strand(); });
}

bool audiosocket_server::register_call(const std::string& uuid, connection_handler on_connect) {
  uuid_key key{};
  if (!to_key(uuid, key)) return false;
  std::lock_guard lock(impl_->registry_mutex_);
  return impl_->registry_.emplace(key, std::move(on_connect)).second;
}

void audiosocket_server::unregister_call(const std::string& uuid) {
  uuid_key key{};
  if (!to_key(uuid, key)) return;
  std::lock_guard lock(impl_->registry_mutex_);
  impl_->registry_.erase(key);
}

audiosocket_server::counters audiosocket_server::stats() const {
  const auto& i = *impl_;
  return counters{i.accepted_, i.handed_over_, i.unknown_id_, i.no_id_, i.malformed_, i.over_limit_};
}

}  // namespace npcl::media
