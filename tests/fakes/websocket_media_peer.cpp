#include "fakes/local_listener.hpp"
#include "fakes/websocket_media_peer.hpp"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <thread>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

#include "npcl/audio/g711.hpp"
#include "util/beast.hpp"

namespace npcl::fakes {
namespace {

using tcp = net::ip::tcp;
using steady = std::chrono::steady_clock;
using ojson = nlohmann::ordered_json;  // Asterisk writes "event" first
constexpr auto use_tuple = net::as_tuple(net::use_awaitable);
constexpr auto ptime = std::chrono::milliseconds(20);
// chan_websocket's playout queue and flow-control marks (frames), and the
// largest message res_http_websocket takes (bytes).
constexpr std::size_t queue_max = 1000;
constexpr std::size_t xoff_level = 900;
constexpr std::size_t xon_level = 800;
constexpr std::size_t max_message = 65535;

struct wire_format {
  int rate_hz = 8000;          // samples per second
  bool slin = false;           // PCM16 LE (else G.711)
  bool alaw = false;           // A-law (with !slin)
};

std::optional<wire_format> wire_format_of(const std::string& name) {
  if (name == "ulaw") return wire_format{8000, false, false};
  if (name == "alaw") return wire_format{8000, false, true};
  if (name == "slin") return wire_format{8000, true, false};
  if (name == "slin16") return wire_format{16000, true, false};
  if (name == "slin24") return wire_format{24000, true, false};
  return std::nullopt;
}

// One slot of a playout queue: a frame, or a MARK_MEDIA waiting to be reached.
struct queue_entry {
  std::vector<std::uint8_t> frame;  // audio (empty for a mark)
  std::string mark;                 // correlation id of a mark
  bool is_mark = false;
};

enum class link_state { registered, connected, ended };

struct ws_session;

// Everything the test can observe about one connection id; guarded by impl::mu.
struct connection {
  std::string id;
  std::string format;
  std::string channel_id;
  bool json = false;
  wire_format wire;
  std::size_t frame_bytes = 0;            // optimal_frame_size
  link_state state = link_state::registered;
  std::shared_ptr<ws_session> session;    // the socket, while connected
  std::deque<queue_entry> queue;          // playout queue
  std::size_t audio_queued = 0;           // frames in queue (marks excluded)
  bool xoff = false;                      // MEDIA_XOFF sent, MEDIA_XON not yet
  bool drain_report = false;              // REPORT_QUEUE_DRAINED pending
  bool paused = false;                    // PAUSE_MEDIA: playout takes nothing from the queue
  websocket_media_counts counts;
  std::vector<played_frame> played;
  std::vector<std::string> commands;
  std::vector<std::string> events;
};

// One accepted socket; touched only on the peer's thread.
struct ws_session {
  explicit ws_session(beast::tcp_stream s)
      : ws(std::move(s)), play_timer(ws.get_executor()), stream_timer(ws.get_executor()) {}
  websocket::stream<beast::tcp_stream> ws;
  std::string id;                                     // connection id
  std::deque<std::pair<bool, std::string>> outbox;    // (text?, payload) not yet written
  std::pair<bool, std::string> in_flight;             // the message being written
  bool writing = false;                               // a write is in flight
  bool closing = false;                               // our close frame is on its way
  bool ended = false;                                 // the socket is gone
  net::steady_timer play_timer;                       // playout clock, 20 ms
  net::steady_timer stream_timer;                     // caller-audio clock, 20 ms
  std::deque<std::string> stream_frames;              // caller audio not yet sent
  bool streaming = false;                             // the stream clock is running
};

std::string event_text(const connection& c, const std::string& name) {
  if (!c.json) return name;
  return ojson{{"event", name}, {"channel_id", c.channel_id}}.dump();
}

std::string mark_event(const connection& c, const std::string& name, const std::string& id) {
  if (!c.json) return name + " " + id;
  return ojson{{"event", name}, {"channel_id", c.channel_id}, {"correlation_id", id}}.dump();
}

std::string status_event(const connection& c) {
  const bool full = c.audio_queued >= queue_max;
  if (!c.json)
    return "STATUS channel_id:" + c.channel_id + " queue_length:" + std::to_string(c.audio_queued) +
           " xon_level:800 xoff_level:900 queue_full:" + (full ? "true" : "false") +
           " bulk_media:false media_paused:" + (c.paused ? "true" : "false");
  return ojson{{"event", "STATUS"}, {"channel_id", c.channel_id}, {"queue_length", c.audio_queued},
               {"xon_level", xon_level}, {"xoff_level", xoff_level}, {"queue_full", full},
               {"bulk_media", false}, {"media_paused", c.paused}}
      .dump();
}

std::string media_start_event(const connection& c) {
  const std::string channel = "WebSocket/INCOMING/0x7f1d48006a20";
  if (!c.json)
    return "MEDIA_START connection_id:" + c.id + " channel:" + channel + " channel_id:" + c.channel_id +
           " format:" + c.format + " optimal_frame_size:" + std::to_string(c.frame_bytes) + " ptime:20";
  return ojson{{"event", "MEDIA_START"},
               {"connection_id", c.id},
               {"channel", channel},
               {"channel_id", c.channel_id},
               {"format", c.format},
               {"optimal_frame_size", c.frame_bytes},
               {"ptime", 20},
               {"channel_variables",
                {{"MEDIA_WEBSOCKET_CONNECTION_ID", c.id},
                 {"MEDIA_WEBSOCKET_OPTIMAL_FRAME_SIZE", std::to_string(c.frame_bytes)}}}}
      .dump();
}

std::vector<std::uint8_t> encode(const wire_format& w, std::span<const std::int16_t> pcm) {
  std::vector<std::uint8_t> out(pcm.size() * (w.slin ? 2 : 1));
  if (!w.slin) {
    if (w.alaw) audio::alaw_encode(pcm, out);
    else audio::ulaw_encode(pcm, out);
    return out;
  }
  for (std::size_t i = 0; i < pcm.size(); ++i) {
    auto v = static_cast<std::uint16_t>(pcm[i]);
    out[2 * i] = static_cast<std::uint8_t>(v & 0xff);
    out[2 * i + 1] = static_cast<std::uint8_t>(v >> 8);
  }
  return out;
}

void decode_append(const wire_format& w, std::span<const std::uint8_t> bytes, std::vector<std::int16_t>& out) {
  const std::size_t start = out.size();
  if (!w.slin) {
    out.resize(start + bytes.size());
    std::span<std::int16_t> dst(out.data() + start, bytes.size());
    if (w.alaw) audio::alaw_decode(bytes, dst);
    else audio::ulaw_decode(bytes, dst);
    return;
  }
  for (std::size_t i = 0; i + 1 < bytes.size(); i += 2)
    out.push_back(static_cast<std::int16_t>(bytes[i] | (bytes[i + 1] << 8)));
}

}  // namespace

struct websocket_media_peer::impl {
  // Declared first so it is destroyed last: sockets and timers close against a live context.
  net::io_context ioc;
  tcp::acceptor acceptor{ioc};
  std::uint16_t port = 0;
  mutable std::mutex mu;
  std::condition_variable cv;
  std::map<std::string, connection> conns;  // by connection id (mu)
  std::vector<int> refusals;                // HTTP statuses of refused upgrades (mu)
  std::string last_authorization;           // of the last accepted upgrade (mu)
  std::thread thread;

  impl() {
    port = listen_on_loopback(acceptor, 0);
    net::co_spawn(ioc, accept_loop(), net::detached);
    thread = std::thread([this] { ioc.run(); });
  }

  ~impl() {
    ioc.stop();
    thread.join();
  }

  template <class Pred>
  testing::AssertionResult wait(std::chrono::milliseconds timeout, Pred pred, const std::string& what) {
    std::unique_lock lk(mu);
    if (cv.wait_until(lk, steady::now() + timeout, pred)) return testing::AssertionSuccess();
    return testing::AssertionFailure() << "timed out after " << timeout.count() << " ms waiting for " << what;
  }

  connection* find(const std::string& id) {
    auto it = conns.find(id);
    return it == conns.end() ? nullptr : &it->second;
  }

  // --- writing (peer thread) ---

  void write(const std::shared_ptr<ws_session>& s, bool text, std::string payload) {
    if (s->ended || s->closing) return;
    if (text) {
      std::lock_guard lk(mu);
      if (auto* c = find(s->id)) c->events.push_back(payload);
      cv.notify_all();
    }
    s->outbox.emplace_back(text, std::move(payload));
    if (!s->writing) write_next(s);
  }

  void write_next(const std::shared_ptr<ws_session>& s) {
    if (s->outbox.empty() || s->ended) {
      s->writing = false;
      return;
    }
    s->writing = true;
    s->in_flight = std::move(s->outbox.front());
    s->outbox.pop_front();
    s->ws.text(s->in_flight.first);
    s->ws.async_write(net::buffer(s->in_flight.second), [this, s](error_code ec, std::size_t) {
      if (ec) {
        s->writing = false;
        return;
      }
      write_next(s);
    });
  }

  void close_socket(const std::shared_ptr<ws_session>& s, websocket::close_code code) {
    if (s->ended || s->closing) return;
    s->closing = true;
    {
      std::lock_guard lk(mu);
      if (auto* c = find(s->id)) c->counts.close_code = static_cast<int>(code);
    }
    s->ws.async_close(code, [s](error_code) { beast::get_lowest_layer(s->ws).close(); });
  }

  // --- accepting ---

  net::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(use_tuple);
      if (ec) co_return;
      net::co_spawn(ioc, serve(beast::tcp_stream(std::move(socket))), net::detached);
    }
  }

  net::awaitable<void> refuse(beast::tcp_stream& stream, unsigned version, bhttp::status status) {
    {
      std::lock_guard lk(mu);
      refusals.push_back(static_cast<int>(status));
      cv.notify_all();
    }
    bhttp::response<bhttp::string_body> res{status, version};
    res.set(bhttp::field::server, "Asterisk/23.4.1");
    res.set(bhttp::field::content_type, "text/plain");
    res.keep_alive(false);
    res.body() = std::string(bhttp::obsolete_reason(status)) + "\n";
    res.prepare_payload();
    co_await bhttp::async_write(stream, res, use_tuple);
    error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  net::awaitable<void> serve(beast::tcp_stream stream) {
    beast::flat_buffer buffer;
    bhttp::request<bhttp::string_body> req;
    stream.expires_after(std::chrono::seconds(5));
    auto [rec, n] = co_await bhttp::async_read(stream, buffer, req, use_tuple);
    if (rec) co_return;
    const std::string target(req.target());
    const std::string prefix = "/media/";
    std::string id = target.rfind(prefix, 0) == 0 ? target.substr(prefix.size()) : "";
    id = id.substr(0, id.find('?'));
    if (!websocket::is_upgrade(req)) co_return co_await refuse(stream, req.version(), bhttp::status::bad_request);
    bhttp::status refusal = bhttp::status::ok;
    {
      std::lock_guard lk(mu);
      auto* c = find(id);
      if (!c || c->state == link_state::ended) refusal = bhttp::status::not_found;
      else if (c->state == link_state::connected) refusal = bhttp::status::conflict;
      else {
        c->state = link_state::connected;  // claimed before the upgrade completes, as Asterisk does
        c->counts.connected = true;
        last_authorization = std::string(req[bhttp::field::authorization]);
      }
    }
    if (refusal != bhttp::status::ok) co_return co_await refuse(stream, req.version(), refusal);

    stream.expires_never();
    auto s = std::make_shared<ws_session>(std::move(stream));
    s->id = id;
    const bool wants_media = req[bhttp::field::sec_websocket_protocol].find("media") != beast::string_view::npos;
    s->ws.set_option(websocket::stream_base::decorator([wants_media](websocket::response_type& res) {
      res.set(bhttp::field::server, "Asterisk/23.4.1");
      if (wants_media) res.set(bhttp::field::sec_websocket_protocol, "media");
    }));
    s->ws.read_message_max(max_message);
    auto [aec] = co_await s->ws.async_accept(req, use_tuple);
    if (aec) {
      end(s, aec);
      co_return;
    }
    std::string start;
    {
      std::lock_guard lk(mu);
      auto& c = conns.at(id);
      c.session = s;
      start = media_start_event(c);
    }
    write(s, true, start);
    net::co_spawn(ioc, play_loop(s), net::detached);
    co_await read_loop(s);
  }

  void end(const std::shared_ptr<ws_session>& s, error_code ec) {
    s->ended = true;
    s->play_timer.cancel();
    s->stream_timer.cancel();
    std::lock_guard lk(mu);
    if (auto* c = find(s->id)) {
      c->state = link_state::ended;
      c->counts.closed = true;
      if (c->counts.close_code == 0) {
        if (ec == websocket::error::message_too_big) c->counts.close_code = 1009;
        else if (ec == websocket::error::closed) c->counts.close_code = s->ws.reason().code;
      }
      c->session.reset();
    }
    cv.notify_all();
  }

  // --- receiving ---

  net::awaitable<void> read_loop(std::shared_ptr<ws_session> s) {
    beast::flat_buffer buffer;
    for (;;) {
      buffer.consume(buffer.size());
      auto [ec, n] = co_await s->ws.async_read(buffer, use_tuple);
      if (ec) {
        end(s, ec);
        co_return;
      }
      auto data = buffer.cdata();
      const auto* p = static_cast<const std::uint8_t*>(data.data());
      std::vector<std::string> replies;
      bool hangup = false;
      if (s->ws.got_text()) {
        hangup = on_command(s->id, std::string(reinterpret_cast<const char*>(p), data.size()), replies);
      } else {
        on_audio(s->id, std::span<const std::uint8_t>(p, data.size()), replies);
      }
      for (auto& r : replies) write(s, true, std::move(r));
      if (hangup) close_socket(s, websocket::close_code::normal);
    }
  }

  void on_audio(const std::string& id, std::span<const std::uint8_t> bytes, std::vector<std::string>& replies) {
    std::lock_guard lk(mu);
    auto& c = conns.at(id);
    c.counts.largest_message = std::max<std::uint64_t>(c.counts.largest_message, bytes.size());
    // Outside buffering mode a trailing partial frame, or a message shorter than a
    // frame, is discarded.
    if (bytes.size() % c.frame_bytes != 0) ++c.counts.partial_dropped;
    const auto now = steady::now();
    for (std::size_t off = 0; off + c.frame_bytes <= bytes.size(); off += c.frame_bytes) {
      if (c.audio_queued >= queue_max) {
        ++c.counts.discarded_full;
        continue;
      }
      c.queue.push_back(queue_entry{{bytes.begin() + off, bytes.begin() + off + c.frame_bytes}, {}, false});
      ++c.audio_queued;
      ++c.counts.frames_received;
      c.counts.frame_arrivals.push_back(now);
      if (c.audio_queued >= xoff_level && !c.xoff) {
        c.xoff = true;
        ++c.counts.xoff_sent;
        replies.push_back(event_text(c, "MEDIA_XOFF"));
      }
    }
    c.counts.queue_length = c.audio_queued;
    cv.notify_all();
  }

  // Returns true for HANGUP.
  bool on_command(const std::string& id, const std::string& text, std::vector<std::string>& replies) {
    std::lock_guard lk(mu);
    auto& c = conns.at(id);
    c.commands.push_back(text);
    cv.notify_all();
    std::string name, argument;
    if (c.json) {
      auto j = ojson::parse(text, nullptr, false);
      if (j.is_discarded() || !j.is_object() || !j.contains("command") || !j["command"].is_string()) {
        replies.push_back(ojson{{"event", "ERROR"}, {"channel_id", c.channel_id},
                                {"error_text", "Unable to parse JSON command"}}
                              .dump());
        return false;
      }
      name = j["command"].get<std::string>();
      if (j.contains("correlation_id") && j["correlation_id"].is_string())
        argument = j["correlation_id"].get<std::string>();
    } else {
      auto space = text.find(' ');
      name = text.substr(0, space);
      if (space != std::string::npos) argument = text.substr(space + 1);
    }
    if (text.size() > 128) return false;  // Asterisk ignores long commands
    if (name == "HANGUP") return true;
    if (name == "FLUSH_MEDIA") {
      // Marks go with the audio they were waiting behind: that audio is never played.
      c.queue.clear();
      c.audio_queued = 0;
      c.counts.queue_length = 0;
    } else if (name == "MARK_MEDIA") {
      c.queue.push_back(queue_entry{{}, argument, true});
    } else if (name == "GET_STATUS") {
      replies.push_back(status_event(c));
    } else if (name == "REPORT_QUEUE_DRAINED") {
      c.drain_report = true;
    } else if (name == "PAUSE_MEDIA" || name == "CONTINUE_MEDIA") {
      c.paused = name == "PAUSE_MEDIA";
    }
    return false;
  }

  // --- clocks ---

  net::awaitable<void> play_loop(std::shared_ptr<ws_session> s) {
    auto next = steady::now() + ptime;
    for (;;) {
      s->play_timer.expires_at(next);
      auto [ec] = co_await s->play_timer.async_wait(use_tuple);
      if (ec || s->ended) co_return;
      const auto slot = next;
      next += ptime;
      std::vector<std::string> replies;
      {
        std::lock_guard lk(mu);
        tick(conns.at(s->id), slot, replies);
        cv.notify_all();
      }
      for (auto& r : replies) write(s, true, std::move(r));
    }
  }

  // One playout slot. `slot` is its place on the 20 ms clock: a late wake-up still
  // plays at its slot, as Asterisk's timer does.
  void tick(connection& c, steady::time_point slot, std::vector<std::string>& replies) {
    if (c.paused) return;
    auto reach_marks = [&] {
      while (!c.queue.empty() && c.queue.front().is_mark) {
        replies.push_back(mark_event(c, "MEDIA_MARK_PROCESSED", c.queue.front().mark));
        c.queue.pop_front();
      }
    };
    reach_marks();
    if (c.audio_queued > 0) {
      c.played.push_back(played_frame{slot, std::move(c.queue.front().frame)});
      c.queue.pop_front();
      --c.audio_queued;
      reach_marks();
    }
    if (c.xoff && c.audio_queued < xon_level) {
      c.xoff = false;
      ++c.counts.xon_sent;
      c.counts.last_xon_at = steady::now();
      replies.push_back(event_text(c, "MEDIA_XON"));
    }
    if (c.drain_report && c.audio_queued == 0) {
      c.drain_report = false;
      replies.push_back(event_text(c, "QUEUE_DRAINED"));
    }
    c.counts.queue_length = c.audio_queued;
  }

  net::awaitable<void> stream_loop(std::shared_ptr<ws_session> s) {
    auto next = steady::now();
    while (!s->stream_frames.empty() && !s->ended) {
      s->stream_timer.expires_at(next);
      auto [ec] = co_await s->stream_timer.async_wait(use_tuple);
      if (ec || s->ended) break;
      next += ptime;
      write(s, false, std::move(s->stream_frames.front()));
      s->stream_frames.pop_front();
    }
    s->streaming = false;
  }

  // Runs `f(session, connection)` on the peer thread if `id` is connected.
  template <class F>
  void with_session(const std::string& id, F f) {
    net::post(ioc, [this, id, f = std::move(f)]() mutable {
      std::shared_ptr<ws_session> s;
      connection snapshot;
      {
        std::lock_guard lk(mu);
        auto* c = find(id);
        if (!c || !c->session) return;
        s = c->session;
        snapshot.json = c->json;
        snapshot.channel_id = c->channel_id;
        snapshot.wire = c->wire;
        snapshot.frame_bytes = c->frame_bytes;
      }
      f(s, snapshot);
    });
  }
};

websocket_media_peer::websocket_media_peer() : impl_(std::make_unique<impl>()) {}

websocket_media_peer::~websocket_media_peer() = default;

std::uint16_t websocket_media_peer::port() const { return impl_->port; }

void websocket_media_peer::add_connection(const std::string& id, const std::string& format, bool json,
                                          std::string channel_id) {
  auto wire = wire_format_of(format);
  if (!wire) throw std::invalid_argument("websocket_media_peer: unsupported format " + format);
  std::lock_guard lk(impl_->mu);
  connection c;
  c.id = id;
  c.format = format;
  c.json = json;
  c.channel_id = channel_id.empty() ? "ws-" + id : std::move(channel_id);
  c.wire = *wire;
  c.frame_bytes = static_cast<std::size_t>(wire->rate_hz / 50) * (wire->slin ? 2 : 1);
  impl_->conns[id] = std::move(c);
}

void websocket_media_peer::stream(const std::string& id, std::vector<std::int16_t> pcm) {
  impl_->with_session(id, [this, pcm = std::move(pcm)](const std::shared_ptr<ws_session>& s, const connection& c) {
    const auto bytes = encode(c.wire, pcm);
    for (std::size_t off = 0; off < bytes.size(); off += c.frame_bytes) {
      const std::size_t len = std::min(c.frame_bytes, bytes.size() - off);
      s->stream_frames.emplace_back(reinterpret_cast<const char*>(bytes.data() + off), len);
    }
    if (!s->streaming && !s->stream_frames.empty()) {
      s->streaming = true;
      net::co_spawn(impl_->ioc, impl_->stream_loop(s), net::detached);
    }
  });
}

void websocket_media_peer::send_text(const std::string& id, std::string text) {
  impl_->with_session(id, [this, text = std::move(text)](const std::shared_ptr<ws_session>& s, const connection&) {
    impl_->write(s, true, text);
  });
}

void websocket_media_peer::send_dtmf(const std::string& id, char digit) {
  impl_->with_session(id, [this, digit](const std::shared_ptr<ws_session>& s, const connection& c) {
    std::string d(1, digit);
    impl_->write(s, true,
                 c.json ? ojson{{"event", "DTMF_END"}, {"channel_id", c.channel_id}, {"digit", d}}.dump()
                        : "DTMF_END digit:" + d + " channel_id:" + c.channel_id);
  });
}

void websocket_media_peer::hangup(const std::string& id) {
  impl_->with_session(id, [this](const std::shared_ptr<ws_session>& s, const connection&) {
    impl_->close_socket(s, websocket::close_code::normal);
  });
}

websocket_media_counts websocket_media_peer::counts(const std::string& id) const {
  std::lock_guard lk(impl_->mu);
  auto it = impl_->conns.find(id);
  return it == impl_->conns.end() ? websocket_media_counts{} : it->second.counts;
}

std::vector<played_frame> websocket_media_peer::played(const std::string& id) const {
  std::lock_guard lk(impl_->mu);
  auto it = impl_->conns.find(id);
  return it == impl_->conns.end() ? std::vector<played_frame>{} : it->second.played;
}

std::vector<std::int16_t> websocket_media_peer::played_pcm(const std::string& id) const {
  std::lock_guard lk(impl_->mu);
  std::vector<std::int16_t> out;
  auto it = impl_->conns.find(id);
  if (it == impl_->conns.end()) return out;
  for (const auto& f : it->second.played) decode_append(it->second.wire, f.bytes, out);
  return out;
}

std::vector<std::string> websocket_media_peer::commands(const std::string& id) const {
  std::lock_guard lk(impl_->mu);
  auto it = impl_->conns.find(id);
  return it == impl_->conns.end() ? std::vector<std::string>{} : it->second.commands;
}

std::vector<std::string> websocket_media_peer::events(const std::string& id) const {
  std::lock_guard lk(impl_->mu);
  auto it = impl_->conns.find(id);
  return it == impl_->conns.end() ? std::vector<std::string>{} : it->second.events;
}

std::vector<int> websocket_media_peer::refusals() const {
  std::lock_guard lk(impl_->mu);
  return impl_->refusals;
}

std::string websocket_media_peer::last_authorization() const {
  std::lock_guard lk(impl_->mu);
  return impl_->last_authorization;
}

testing::AssertionResult websocket_media_peer::wait_for_connected(const std::string& id,
                                                                  std::chrono::milliseconds timeout) {
  return impl_->wait(
      timeout,
      [&] {
        auto* c = impl_->find(id);
        return c && !c->events.empty();
      },
      "a media connection for " + id);
}

testing::AssertionResult websocket_media_peer::wait_for_played(const std::string& id, std::size_t n,
                                                               std::chrono::milliseconds timeout) {
  return impl_->wait(
      timeout,
      [&] {
        auto* c = impl_->find(id);
        return c && c->played.size() >= n;
      },
      std::to_string(n) + " frames played on " + id);
}

testing::AssertionResult websocket_media_peer::wait_for_received(const std::string& id, std::size_t n,
                                                                 std::chrono::milliseconds timeout) {
  return impl_->wait(
      timeout,
      [&] {
        auto* c = impl_->find(id);
        return c && c->counts.frames_received >= n;
      },
      std::to_string(n) + " frames received on " + id);
}

testing::AssertionResult websocket_media_peer::wait_for_command(const std::string& id, const std::string& text,
                                                                std::chrono::milliseconds timeout) {
  return impl_->wait(
      timeout,
      [&] {
        auto* c = impl_->find(id);
        return c && std::find(c->commands.begin(), c->commands.end(), text) != c->commands.end();
      },
      "command '" + text + "' on " + id);
}

testing::AssertionResult websocket_media_peer::wait_for_event(const std::string& id, const std::string& prefix,
                                                              std::chrono::milliseconds timeout) {
  return impl_->wait(
      timeout,
      [&] {
        auto* c = impl_->find(id);
        if (!c) return false;
        return std::any_of(c->events.begin(), c->events.end(),
                           [&](const std::string& e) { return e.rfind(prefix, 0) == 0; });
      },
      "an event starting '" + prefix + "' on " + id);
}

testing::AssertionResult websocket_media_peer::wait_for_closed(const std::string& id,
                                                               std::chrono::milliseconds timeout) {
  return impl_->wait(
      timeout,
      [&] {
        auto* c = impl_->find(id);
        return c && c->counts.closed;
      },
      "the socket of " + id + " to end");
}

testing::AssertionResult websocket_media_peer::wait_for_refusals(std::size_t n, std::chrono::milliseconds timeout) {
  return impl_->wait(timeout, [&] { return impl_->refusals.size() >= n; },
                     std::to_string(n) + " refused upgrades");
}

}  // namespace npcl::fakes
