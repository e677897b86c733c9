// The one translation unit that instantiates the media WebSocket client stream.
#include "npcl/media/websocket_endpoint.hpp"
#include "npcl/util/basic_auth.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <deque>
#include <optional>
#include <span>
#include <stdexcept>

#include "npcl/audio/g711.hpp"
#include "npcl/media/websocket_control.hpp"
#include "npcl/obs/log.hpp"
#include "util/beast.hpp"

namespace npcl::media {
namespace {

using tcp = net::ip::tcp;
constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

// Asterisk closes the socket with 1009 above this (res_http_websocket's limit).
constexpr std::size_t max_message_bytes = 65535;
// Commands are rare (marks, flushes); a flood of them is a bug, not traffic to keep.
constexpr std::size_t max_queued_commands = 64;
constexpr int ptime_ms = 20;

enum class codec { ulaw, alaw, slin };

struct wire_format {
  codec kind = codec::slin;  // how samples are written in binary messages
  int rate_hz = 8000;        // sample rate of the named format (Hz)
};

// Asterisk format names this transport carries without transcoding.
std::optional<wire_format> wire_format_of(std::string_view name) {
  if (name == "ulaw") return wire_format{codec::ulaw, 8000};
  if (name == "alaw") return wire_format{codec::alaw, 8000};
  if (name == "slin") return wire_format{codec::slin, 8000};
  for (int khz : {12, 16, 24, 32, 44, 48, 96, 192}) {
    if (name == "slin" + std::to_string(khz)) return wire_format{codec::slin, khz == 44 ? 44100 : khz * 1000};
  }
  return std::nullopt;
}

// The connection id goes into the URL path: only what a UUID or config name needs.
bool valid_connection_id(const std::string& id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
              c == '_' || c == '.' || c == '~';
    if (!ok) return false;
  }
  return true;
}

// Endings that are part of a normal call and deserve no warning.
bool expected_ending(const error_code& ec) {
  return ec == net::error::operation_aborted || ec == websocket::error::closed ||
         ec == beast::error::timeout || ec == net::error::eof;
}

}  // namespace

struct websocket_endpoint::impl : std::enable_shared_from_this<impl> {
  enum class state { idle, connecting, connected, done };

  // One message waiting for the socket: a command, or one frame of audio.
  struct outgoing {
    bool text = false;                      // a control command (else audio)
    control_command_kind command{};         // the command
    std::string argument;                   // its correlation id, if any
    std::vector<std::uint8_t> audio;        // one frame in the wire format
  };

  impl(executor ex, const media_options& options, server s)
      : ex_(ex), server_(std::move(s)), resolver_(ex), ws_(ex), deadline_(ex) {
    auto wf = wire_format_of(options.format);
    if (!wf) throw std::invalid_argument("AUDIO_FORMAT '" + options.format + "' is not carried by chan_websocket");
    format_name_ = options.format;
    wire_ = *wf;
    format_ = audio::audio_format{wire_.rate_hz, 1, ptime_ms};
    frame_bytes_ = format_.samples_per_frame() * bytes_per_sample();
    wire_frame_bytes_ = frame_bytes_;
  }

  executor ex_;                        // the call's strand
  server server_;                      // where Asterisk listens
  std::string format_name_;            // AUDIO_FORMAT as asked of Asterisk
  wire_format wire_;                   // codec and rate of binary messages
  audio::audio_format format_;         // the call audio handed to the session
  std::size_t frame_bytes_ = 0;        // bytes of one ptime in the wire format
  std::size_t wire_frame_bytes_ = 0;   // Asterisk's optimal_frame_size (bytes); whole multiples only
  tcp::resolver resolver_;             // Asterisk's host name → addresses
  websocket::stream<beast::tcp_stream> ws_;  // the media connection
  net::steady_timer deadline_;         // connect + upgrade deadline
  beast::flat_buffer read_buffer_;     // one message at a time
  std::string connection_id_;          // MEDIA_WEBSOCKET_CONNECTION_ID
  std::string channel_id_;             // ARI channel id from MEDIA_START (for logs)
  media_handlers handlers_;            // the session's callbacks; cleared by close()
  std::function<void(const std::string&)> mark_handler_;  // MEDIA_MARK_PROCESSED callback
  control_format control_format_ = control_format::plain;  // what Asterisk used, used back
  state state_ = state::idle;
  bool started_ = false;               // start() has been called
  bool reading_ = false;               // the read loop is running
  bool writing_ = false;               // the write loop is running (one write in flight)
  bool media_started_ = false;         // MEDIA_START received
  bool xoff_ = false;                  // Asterisk's queue is full: hold audio
  bool timed_out_ = false;             // the connect deadline fired
  bool closed_ = false;                // close() or a failure: nothing more happens
  bool warned_rate_ = false;           // a frame at the wrong rate was reported once
  error_code pending_failure_;         // a failure before start(), delivered by start()
  std::deque<outgoing> queue_;         // in order: audio frames and commands
  std::size_t queued_audio_ = 0;       // audio items in queue_ (frames)
  std::size_t queued_commands_ = 0;    // command items in queue_
  std::vector<std::uint8_t> out_partial_;  // encoded audio short of one wire frame
  std::vector<std::uint8_t> in_partial_;   // received audio short of one ptime
  std::string write_text_;             // command being written
  std::vector<std::uint8_t> write_audio_;  // frames being written
  media_stats stats_;                  // counters for the call summary
  std::uint64_t send_dropped_ = 0;     // frames dropped because queue_ was full

  std::size_t bytes_per_sample() const { return wire_.kind == codec::slin ? 2 : 1; }

  std::string tag() const { return channel_id_.empty() ? connection_id_ : channel_id_; }

  // --- connection ---

  net::awaitable<void> connect() {
    auto self = shared_from_this();
    state_ = state::connecting;
    deadline_.expires_after(server_.connect_timeout);
    deadline_.async_wait([weak = weak_from_this()](error_code ec) {
      auto s = weak.lock();
      if (ec || !s || s->state_ != state::connecting) return;
      s->timed_out_ = true;
      s->resolver_.cancel();
      beast::get_lowest_layer(s->ws_).close();
    });
    auto [rec, results] = co_await resolver_.async_resolve(server_.host, std::to_string(server_.port), use_tuple);
    if (rec || !still_connecting()) co_return connect_failed(rec, "resolve " + server_.host);
    auto& lowest = beast::get_lowest_layer(ws_);
    auto [cec, ep] = co_await lowest.async_connect(results, use_tuple);
    if (cec || !still_connecting())
      co_return connect_failed(cec, "connect to " + server_.host + ":" + std::to_string(server_.port));
    lowest.socket().set_option(tcp::no_delay(true));

    const std::string auth = server_.username.empty() ? "" : util::basic_auth(server_.username, server_.password);
    ws_.set_option(websocket::stream_base::decorator([auth](websocket::request_type& req) {
      req.set(bhttp::field::sec_websocket_protocol, "media");
      req.set(bhttp::field::user_agent, "npcl-assistant");
      if (!auth.empty()) req.set(bhttp::field::authorization, auth);
    }));
    ws_.read_message_max(max_message_bytes);
    ws_.auto_fragment(false);  // Asterisk before 20.20 cannot reassemble fragments
    websocket::response_type res;
    auto [hec] = co_await ws_.async_handshake(res, server_.host + ":" + std::to_string(server_.port),
                                              "/media/" + connection_id_, use_tuple);
    if (hec) {
      if (res.result_int() != 0 && !timed_out_ && !closed_)
        spdlog::warn("media websocket {}: Asterisk refused the upgrade: HTTP {}", connection_id_,
                     res.result_int());
      co_return connect_failed(hec, "upgrade");
    }
    if (!still_connecting()) co_return connect_failed(hec, "upgrade");
    deadline_.cancel();
    state_ = state::connected;
    websocket::stream_base::timeout t{};
    t.handshake_timeout = server_.connect_timeout;  // also bounds our close handshake
    t.idle_timeout = server_.idle_timeout;
    t.keep_alive_pings = true;  // Asterisk answers pings, so a live link never idles out
    ws_.set_option(t);
    spdlog::debug("media websocket {}: connected to {}:{}", connection_id_, server_.host, server_.port);
    start_reading();
    kick_writer();
  }

  // False once close() or the deadline has intervened: a step that completed
  // anyway must not go on (async_connect would open a fresh socket).
  bool still_connecting() const { return !closed_ && !timed_out_; }

  void connect_failed(error_code ec, const std::string& what) {
    if (closed_) return;
    if (timed_out_) {
      spdlog::warn("media websocket {}: no connection within {} ms", connection_id_,
                   server_.connect_timeout.count());
      ec = net::error::timed_out;
    } else if (ec != websocket::error::upgrade_declined) {
      spdlog::warn("media websocket {}: {} failed: {}", connection_id_, what, ec.message());
    }
    fail(ec);
  }

  // Ends the endpoint from Asterisk's side (or ours on a protocol error) and
  // tells the session once.
  void fail(error_code ec) {
    if (closed_) return;
    closed_ = true;
    state_ = state::done;
    deadline_.cancel();
    resolver_.cancel();
    beast::get_lowest_layer(ws_).close();
    clear_queue();
    if (!started_) {
      pending_failure_ = ec;
      return;
    }
    auto on_closed = std::move(handlers_.on_closed);
    handlers_ = {};
    mark_handler_ = nullptr;
    if (on_closed) on_closed(ec);
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    handlers_ = {};
    mark_handler_ = nullptr;
    deadline_.cancel();
    clear_queue();
    if (state_ == state::connected && ws_.is_open()) {
      // A close frame, not a TCP reset: Asterisk hangs the channel up either way,
      // but this is what it expects. The handshake timeout bounds the wait.
      ws_.async_close(websocket::close_code::normal, [self = shared_from_this()](error_code) {
        beast::get_lowest_layer(self->ws_).close();
      });
    } else {
      resolver_.cancel();
      beast::get_lowest_layer(ws_).close();
    }
    state_ = state::done;
  }

  // --- receiving ---

  void start_reading() {
    if (!started_ || state_ != state::connected || reading_ || closed_) return;
    reading_ = true;
    net::co_spawn(ex_, read_loop(), net::detached);
  }

  net::awaitable<void> read_loop() {
    auto self = shared_from_this();
    while (!closed_) {
      read_buffer_.consume(read_buffer_.size());
      auto [ec, n] = co_await ws_.async_read(read_buffer_, use_tuple);
      if (closed_) co_return;
      if (ec) {
        if (ec == websocket::error::closed) {
          spdlog::info("media websocket {}: closed by Asterisk ({} {})", tag(), static_cast<unsigned>(ws_.reason().code),
                       std::string(ws_.reason().reason.data(), ws_.reason().reason.size()));
        } else if (!expected_ending(ec)) {
          spdlog::warn("media websocket {}: read failed: {}", tag(), ec.message());
        }
        fail(ec);
        co_return;
      }
      auto data = read_buffer_.cdata();
      std::span<const std::uint8_t> bytes(static_cast<const std::uint8_t*>(data.data()), data.size());
      if (ws_.got_text()) {
        on_text(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
      } else {
        on_binary(bytes);
      }
    }
  }

  void on_binary(std::span<const std::uint8_t> bytes) {
    if (bytes.empty()) {
      ++stats_.malformed;
      return;
    }
    ++stats_.packets_in;
    stats_.bytes_in += bytes.size();
    // Asterisk sends in the source's framing (a short last frame ends a prompt);
    // the session wants exact ptimes, so frames are re-cut here.
    in_partial_.insert(in_partial_.end(), bytes.begin(), bytes.end());
    std::size_t used = 0;
    while (in_partial_.size() - used >= frame_bytes_ && !closed_) {
      deliver(std::span<const std::uint8_t>(in_partial_.data() + used, frame_bytes_));
      used += frame_bytes_;
    }
    in_partial_.erase(in_partial_.begin(), in_partial_.begin() + static_cast<std::ptrdiff_t>(used));
  }

  void deliver(std::span<const std::uint8_t> wire) {
    audio::frame f;
    f.sample_rate_hz = format_.sample_rate_hz;
    f.samples.resize(format_.samples_per_frame());
    switch (wire_.kind) {
      case codec::ulaw: audio::ulaw_decode(wire, f.samples); break;
      case codec::alaw: audio::alaw_decode(wire, f.samples); break;
      case codec::slin:
        for (std::size_t i = 0; i < f.samples.size(); ++i)
          f.samples[i] = static_cast<std::int16_t>(wire[2 * i] | (wire[2 * i + 1] << 8));
        break;
    }
    if (handlers_.on_audio) handlers_.on_audio(std::move(f));
  }

  void on_text(std::string_view text) {
    std::string why;
    auto ev = parse_control_event(text, &why);
    if (!ev) {
      ++stats_.malformed;
      spdlog::warn("media websocket {}: control message rejected: {} ({} bytes)", tag(), why, text.size());
      return;
    }
    switch (ev->kind) {
      case control_event_kind::media_start: on_media_start(*ev); break;
      case control_event_kind::media_xoff:
        xoff_ = true;
        spdlog::debug("media websocket {}: MEDIA_XOFF", tag());
        break;
      case control_event_kind::media_xon:
        xoff_ = false;
        spdlog::debug("media websocket {}: MEDIA_XON", tag());
        kick_writer();
        break;
      case control_event_kind::dtmf_end:
        if (ev->digit && handlers_.on_dtmf) handlers_.on_dtmf(ev->digit);
        break;
      case control_event_kind::media_mark_processed:
        if (mark_handler_) mark_handler_(ev->correlation_id);
        break;
      case control_event_kind::error:
        spdlog::warn("media websocket {}: Asterisk reports an error: {}", tag(), ev->error_text);
        break;
      case control_event_kind::unknown:
        spdlog::debug("media websocket {}: ignoring event {}", tag(), ev->name);
        break;
      default: break;  // replies to commands this endpoint does not send
    }
  }

  void on_media_start(const control_event& ev) {
    if (media_started_) return;
    control_format_ = ev.format;
    channel_id_ = ev.channel_id;
    if (!ev.media_format.empty() && ev.media_format != format_name_) {
      spdlog::error("media websocket {}: Asterisk sends {} but {} was asked for", tag(), ev.media_format,
                    format_name_);
      fail(boost::system::errc::make_error_code(boost::system::errc::protocol_error));
      return;
    }
    if (ev.optimal_frame_size > 0) {
      auto size = static_cast<std::size_t>(ev.optimal_frame_size);
      if (size > max_message_bytes || size % bytes_per_sample() != 0) {
        spdlog::error("media websocket {}: unusable optimal_frame_size {}", tag(), size);
        fail(boost::system::errc::make_error_code(boost::system::errc::protocol_error));
        return;
      }
      if (size != wire_frame_bytes_) {
        // Frames queued so far were cut for 20 ms; re-cutting them is not worth it.
        spdlog::warn("media websocket {}: optimal_frame_size {} (expected {})", tag(), size, wire_frame_bytes_);
        drop_queued_audio(true);
        wire_frame_bytes_ = size;
      }
    }
    media_started_ = true;
    spdlog::debug("media websocket {}: MEDIA_START {} frame {} bytes ({})", tag(), format_name_,
                  wire_frame_bytes_, ev.format == control_format::json ? "json" : "plain");
    kick_writer();
  }

  // --- sending ---

  void enqueue_audio(std::vector<std::uint8_t> bytes) {
    if (server_.max_queued_frames == 0) {
      ++send_dropped_;
      return;
    }
    if (queued_audio_ >= server_.max_queued_frames) {
      for (auto it = queue_.begin(); it != queue_.end(); ++it) {
        if (!it->text) {
          queue_.erase(it);
          --queued_audio_;
          ++send_dropped_;
          break;
        }
      }
    }
    queue_.push_back(outgoing{false, {}, {}, std::move(bytes)});
    ++queued_audio_;
  }

  void send(const audio::frame& f) {
    if (closed_ || f.samples.empty()) return;
    if (f.sample_rate_hz != format_.sample_rate_hz) {
      if (!warned_rate_)
        spdlog::warn("media websocket {}: dropping audio at {} Hz on a {} Hz call", tag(), f.sample_rate_hz,
                     format_.sample_rate_hz);
      warned_rate_ = true;
      return;
    }
    const std::size_t start = out_partial_.size();
    out_partial_.resize(start + f.samples.size() * bytes_per_sample());
    std::span<std::uint8_t> out(out_partial_.data() + start, out_partial_.size() - start);
    switch (wire_.kind) {
      case codec::ulaw: audio::ulaw_encode(f.samples, out); break;
      case codec::alaw: audio::alaw_encode(f.samples, out); break;
      case codec::slin:
        for (std::size_t i = 0; i < f.samples.size(); ++i) {
          auto v = static_cast<std::uint16_t>(f.samples[i]);
          out[2 * i] = static_cast<std::uint8_t>(v & 0xff);
          out[2 * i + 1] = static_cast<std::uint8_t>(v >> 8);
        }
        break;
    }
    std::size_t used = 0;
    while (out_partial_.size() - used >= wire_frame_bytes_) {
      auto first = out_partial_.begin() + static_cast<std::ptrdiff_t>(used);
      enqueue_audio(std::vector<std::uint8_t>(first, first + static_cast<std::ptrdiff_t>(wire_frame_bytes_)));
      used += wire_frame_bytes_;
    }
    out_partial_.erase(out_partial_.begin(), out_partial_.begin() + static_cast<std::ptrdiff_t>(used));
    kick_writer();
  }

  bool command(control_command_kind kind, std::string_view argument = {}) {
    if (closed_) return false;
    // Validated now; rendered at write time, when MEDIA_START has told the format.
    if (!format_control_command(kind, control_format::plain, argument)) return false;
    if (queued_commands_ >= max_queued_commands) {
      spdlog::warn("media websocket {}: command queue full, {} dropped", tag(), control_command_name(kind));
      return false;
    }
    queue_.push_back(outgoing{true, kind, std::string(argument), {}});
    ++queued_commands_;
    kick_writer();
    return true;
  }

  void drop_queued_audio(bool count) {
    for (auto it = queue_.begin(); it != queue_.end();) {
      if (it->text) {
        ++it;
        continue;
      }
      if (count) ++send_dropped_;
      it = queue_.erase(it);
    }
    queued_audio_ = 0;
    out_partial_.clear();
  }

  void clear_queue() {
    queue_.clear();
    queued_audio_ = 0;
    queued_commands_ = 0;
    out_partial_.clear();
  }

  bool head_writable() const {
    return state_ == state::connected && media_started_ && !closed_ && !queue_.empty() &&
           (queue_.front().text || !xoff_);
  }

  void kick_writer() {
    if (writing_ || !head_writable()) return;
    writing_ = true;
    net::co_spawn(ex_, write_loop(), net::detached);
  }

  net::awaitable<void> write_loop() {
    auto self = shared_from_this();
    while (head_writable()) {
      error_code ec;
      if (queue_.front().text) {
        const auto& c = queue_.front();
        write_text_ = format_control_command(c.command, control_format_, c.argument).value_or("");
        queue_.pop_front();
        --queued_commands_;
        ws_.text(true);
        auto [wec, n] = co_await ws_.async_write(net::buffer(write_text_), use_tuple);
        ec = wec;
      } else {
        // Whole frames only, as many as fit one message: a backlog after XON
        // goes out quickly without crossing Asterisk's message limit.
        const std::size_t max_frames = std::max<std::size_t>(1, max_message_bytes / wire_frame_bytes_);
        write_audio_.clear();
        std::size_t frames = 0;
        while (frames < max_frames && !queue_.empty() && !queue_.front().text) {
          auto& a = queue_.front().audio;
          write_audio_.insert(write_audio_.end(), a.begin(), a.end());
          queue_.pop_front();
          --queued_audio_;
          ++frames;
        }
        ws_.binary(true);
        auto [wec, n] = co_await ws_.async_write(net::buffer(write_audio_), use_tuple);
        ec = wec;
        if (!wec) {
          stats_.packets_out += frames;
          stats_.bytes_out += n;
        }
      }
      if (closed_) break;
      if (ec) {
        if (!expected_ending(ec)) spdlog::warn("media websocket {}: write failed: {}", tag(), ec.message());
        fail(ec);
        break;
      }
    }
    writing_ = false;
  }
};

websocket_endpoint::websocket_endpoint(executor strand, const media_options& options, server asterisk)
    : impl_(std::make_shared<impl>(std::move(strand), options, std::move(asterisk))) {}

websocket_endpoint::~websocket_endpoint() { impl_->close(); }

external_media_params websocket_endpoint::external_media() const {
  external_media_params p;
  p.format = impl_->format_name_;
  p.encapsulation = "none";
  p.transport = "websocket";
  p.connection_type = "server";
  return p;
}

void websocket_endpoint::set_peer(const std::map<std::string, std::string>& channel_vars) {
  auto& i = *impl_;
  if (i.closed_ || i.state_ != impl::state::idle) return;
  auto it = channel_vars.find("MEDIA_WEBSOCKET_CONNECTION_ID");
  if (it == channel_vars.end() || !valid_connection_id(it->second)) {
    spdlog::warn("externalMedia reply has no usable MEDIA_WEBSOCKET_CONNECTION_ID{}",
                 it == channel_vars.end() ? "" : " ('" + it->second.substr(0, 64) + "')");
    i.fail(net::error::invalid_argument);
    return;
  }
  i.connection_id_ = it->second;
  net::co_spawn(i.ex_, i.connect(), net::detached);
}

void websocket_endpoint::start(media_handlers h) {
  auto& i = *impl_;
  if (i.started_) return;
  i.started_ = true;
  if (i.pending_failure_) {
    // Posted so that the session never sees on_closed from inside start().
    net::post(i.ex_, [self = impl_, h = std::move(h), ec = i.pending_failure_] {
      if (h.on_closed) h.on_closed(ec);
    });
    return;
  }
  if (i.closed_) return;
  i.handlers_ = std::move(h);
  i.start_reading();
}

audio::audio_format websocket_endpoint::format() const { return impl_->format_; }

void websocket_endpoint::send(const audio::frame& f, bool) { impl_->send(f); }

void websocket_endpoint::flush_remote() {
  auto& i = *impl_;
  if (i.closed_) return;
  i.drop_queued_audio(false);  // deliberately discarded, not lost
  i.command(control_command_kind::flush_media);
}

media_stats websocket_endpoint::stats() const { return impl_->stats_; }

void websocket_endpoint::close() { impl_->close(); }

bool websocket_endpoint::mark(const std::string& id) {
  if (id.empty()) return false;
  return impl_->command(control_command_kind::mark_media, id);
}

void websocket_endpoint::on_mark(std::function<void(const std::string&)> handler) {
  if (!impl_->closed_) impl_->mark_handler_ = std::move(handler);
}

std::uint64_t websocket_endpoint::send_dropped() const { return impl_->send_dropped_; }

std::size_t websocket_endpoint::queued_frames() const { return impl_->queued_audio_; }

bool websocket_endpoint::paused_by_asterisk() const { return impl_->xoff_; }

}  // namespace npcl::media
