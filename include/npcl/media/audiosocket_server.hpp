#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/ip/tcp.hpp>

#include "npcl/media/media_options.hpp"
#include "npcl/util/net.hpp"

namespace npcl::media {

/// The daemon's one AudioSocket listener (EXTERNAL_MEDIA_HOST:EXTERNAL_MEDIA_PORT).
/// Asterisk is the TCP client: for each externalMedia channel it connects and
/// sends an id message carrying the call's UUID (the externalMedia `data`).
/// The server reads that first message within a deadline and hands the socket
/// to whoever registered the UUID; a connection without an id in time, with a
/// malformed first message, or with an unregistered UUID is closed, logged and
/// counted.
///
/// Ordering: Asterisk connects as soon as it creates the channel, before the
/// daemon has read the reply to POST /channels/externalMedia. A call must
/// therefore register its UUID BEFORE that POST; audiosocket_endpoint does so
/// when it is opened, and the session opens its endpoint before the POST.
///
/// Thread-safety: register_call, unregister_call and stats may be called from
/// any thread (endpoints live on different strands). Create it with
/// std::make_shared: endpoints share ownership.
class audiosocket_server {
 public:
  /// Receives a connection whose id matched: the socket (still on the
  /// server's executor: re-home it onto the call's strand) and the bytes
  /// already read after the id message, which the new owner must parse first.
  /// Called once, on the server's executor, with the registry locked: it
  /// must not block or call back into the server (post to the call instead).
  using connection_handler = std::function<void(net::ip::tcp::socket socket, std::vector<std::uint8_t> unparsed)>;

  /// What happened to accepted connections so far.
  struct counters {
    std::uint64_t accepted = 0;     ///< TCP connections accepted
    std::uint64_t handed_over = 0;  ///< given to the call that registered their UUID
    std::uint64_t unknown_id = 0;   ///< closed: UUID not registered (or already connected)
    std::uint64_t no_id = 0;        ///< closed: no id message before the deadline, or EOF first
    std::uint64_t malformed = 0;    ///< closed: first message invalid or not an id
    std::uint64_t over_limit = 0;   ///< closed at once: too many connections awaiting their id
  };

  /// A listener for `options.bind_host:options.listen_port` (port 0: any free
  /// port, see port()). `id_timeout` bounds the wait for the id message;
  /// at most `max_pending` connections may wait for it at a time.
  audiosocket_server(executor ex, const media_options& options,
                     std::chrono::milliseconds id_timeout = std::chrono::seconds(5),
                     std::size_t max_pending = 64);
  /// Stops listening and closes connections still waiting for their id.
  ~audiosocket_server();
  audiosocket_server(const audiosocket_server&) = delete;
  audiosocket_server& operator=(const audiosocket_server&) = delete;

  /// Binds, listens and starts accepting. Returns the resolve/bind/listen
  /// error, if any (the daemon reports it and exits).
  error_code start();
  /// The bound TCP port (the real one when listen_port was 0); 0 before start().
  std::uint16_t port() const;
  /// Stops accepting and closes connections still waiting for their id.
  /// Connections already handed over are not affected. Idempotent.
  void stop();

  /// Routes the connection that will identify itself with `uuid` (canonical
  /// text form) to `on_connect`. The registration is used once: it is removed
  /// when the connection is handed over, so a second connection with the
  /// same UUID counts as unknown. Returns false, registering nothing, if
  /// `uuid` is not a UUID or is already registered.
  bool register_call(const std::string& uuid, connection_handler on_connect);
  /// Removes a registration; no effect if there is none. After it returns,
  /// the handler is not called any more.
  void unregister_call(const std::string& uuid);

  /// Counters so far.
  counters stats() const;

 private:
  struct impl;
  std::shared_ptr<impl> impl_;  ///< shared with pending accept/read operations
};

}  // namespace npcl::media
