#include "npcl/media/audiosocket_endpoint.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <deque>
#include <map>
#include <optional>
#include <string_view>

#include "npcl/audio/resampler.hpp"
#include "npcl/media/audiosocket_framing.hpp"
#include "npcl/obs/log.hpp"
#include "npcl/util/ids.hpp"

namespace npcl::media {
namespace {

using tcp = net::ip::tcp;
constexpr int ptime_ms = 20;  // Asterisk re-frames slin to 20 ms; so do we

bool valid_digit(std::uint8_t d) {
  static constexpr std::string_view digits = "0123456789*#ABCD";
  return digits.find(static_cast<char>(d)) != std::string_view::npos;
}

std::optional<audiosocket_kind> kind_of_format(const std::string& format) {
  if (format == "slin") return audiosocket_kind::slin;
  if (format == "slin16") return audiosocket_kind::slin16;
  if (format == "slin24") return audiosocket_kind::slin24;
  return std::nullopt;
}

}  // namespace

struct audiosocket_endpoint::impl : std::enable_shared_from_this<impl> {
  impl(executor ex, std::shared_ptr<audiosocket_server> server, std::chrono::milliseconds connect_timeout)
      : ex_(ex), server_(std::move(server)), socket_(ex), connect_timer_(ex), connect_timeout_(connect_timeout) {}

  // One message waiting to be written.
  struct outgoing {
    std::vector<std::uint8_t> bytes;  // header and payload
    std::size_t audio_bytes = 0;      // payload bytes if audio, 0 for hangup
  };

  executor ex_;                                 // the call's strand
  std::shared_ptr<audiosocket_server> server_;  // holds our registration until close
  std::string uuid_;                            // the externalMedia `data`
  external_media_params params_;                // what external_media() returns
  audio::audio_format format_;                  // call audio: rate, mono, 20 ms
  audiosocket_kind call_kind_ = audiosocket_kind::slin;  // kind of the call's rate
  tcp::socket socket_;                          // Asterisk's connection, once handed over
  net::steady_timer connect_timer_;             // deadline for Asterisk to connect
  std::chrono::milliseconds connect_timeout_;   // measured from start()
  media_handlers handlers_;
  bool connected_ = false;   // socket_ holds Asterisk's connection
  bool started_ = false;     // start() ran
  bool reading_ = false;     // the read loop runs
  bool writing_ = false;     // an async_write is in flight (it owns queue_.front())
  bool hangup_queued_ = false;  // hangup() ran: nothing more is queued
  bool closed_ = false;      // close() ran or the connection ended
  bool rate_warned_ = false; // the send() rate mismatch has been logged
  audiosocket_parser parser_;
  std::array<std::uint8_t, 4096> read_buffer_{};
  std::deque<outgoing> queue_;  // front is in flight while writing_
  std::map<int, audio::resampler> in_resamplers_;  // by the rate of a mismatched kind
  std::optional<audio::resampler> out_resampler_;  // call rate → 8 kHz for a legacy peer
  std::vector<std::int16_t> samples_;  // scratch: decoded/resampled caller audio
  std::vector<std::int16_t> resampled_;  // scratch: resampler output
  media_stats stats_;
  audiosocket_stats transport_stats_;

  // --- connection ----------------------------------------------------------

  void attach(tcp::socket accepted, std::vector<std::uint8_t> unparsed) {
    if (closed_ || connected_) return;  // `accepted` closes as it goes out of scope
    // Move the descriptor onto the call's strand so every I/O object of the
    // call uses its executor.
    error_code ec;
    const auto protocol = accepted.local_endpoint(ec).protocol();
    if (!ec) {
      auto fd = accepted.release(ec);
      if (!ec) socket_.assign(protocol, fd, ec);
    }
    if (ec) {
      spdlog::warn("AudioSocket {}: cannot take over the connection: {}", uuid_, ec.message());
      end(ec);
      return;
    }
    connected_ = true;
    connect_timer_.cancel();
    parser_.feed(unparsed);
    spdlog::debug("AudioSocket {}: Asterisk connected", uuid_);
    if (started_) begin_reading();
    write_next();
  }

  void begin_reading() {
    if (reading_) return;
    reading_ = true;
    net::co_spawn(ex_, read_loop(), net::detached);
  }

  void arm_connect_deadline() {
    connect_timer_.expires_after(connect_timeout_);
    // A weak_ptr: the timer must not keep a finished call alive.
    connect_timer_.async_wait([weak = weak_from_this()](error_code ec) {
      auto self = weak.lock();
      if (ec || !self || self->closed_ || self->connected_) return;
      spdlog::warn("AudioSocket {}: Asterisk did not connect within {} ms", self->uuid_,
                   self->connect_timeout_.count());
      self->end(net::error::timed_out);
    });
  }

  // The connection ended from Asterisk's side (or broke): report it once.
  void end(error_code ec) {
    if (closed_) return;
    auto on_closed = handlers_.on_closed;
    close();
    if (on_closed) on_closed(ec);
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    connect_timer_.cancel();
    error_code ignored;
    // The queue stays: an aborted write may still refer to its front.
    socket_.close(ignored);
    server_->unregister_call(uuid_);
  }

  // --- caller → daemon -----------------------------------------------------

  net::awaitable<void> read_loop() {
    auto self = shared_from_this();
    if (!dispatch_messages()) co_return;  // bytes that came with the id message
    for (;;) {
      auto [ec, n] = co_await socket_.async_read_some(net::buffer(read_buffer_), net::as_tuple(net::use_awaitable));
      if (closed_) co_return;
      if (ec) {
        if (ec != net::error::eof) spdlog::warn("AudioSocket {}: read failed: {}", uuid_, ec.message());
        end(ec);
        co_return;
      }
      parser_.feed(std::span<const std::uint8_t>(read_buffer_.data(), n));
      if (!dispatch_messages()) co_return;
    }
  }

  // Handles every complete message buffered; false once the endpoint closed.
  bool dispatch_messages() {
    audiosocket_message m;
    for (;;) {
      switch (parser_.next(m)) {
        case audiosocket_parser::result::need_more:
          return true;
        case audiosocket_parser::result::malformed:
          ++stats_.malformed;
          spdlog::warn("AudioSocket {}: closing, invalid stream from Asterisk: {}", uuid_, parser_.error());
          end(make_error_code(boost::system::errc::bad_message));
          return false;
        case audiosocket_parser::result::message:
          handle(m);
          if (closed_) return false;  // a handler may have closed us
      }
    }
  }

  void handle(const audiosocket_message& m) {
    switch (m.kind) {
      case audiosocket_kind::dtmf:
        if (!valid_digit(m.payload[0])) {
          ++stats_.malformed;
          spdlog::warn("AudioSocket {}: ignoring DTMF byte 0x{:02x}", uuid_, m.payload[0]);
        } else if (handlers_.on_dtmf) {
          handlers_.on_dtmf(static_cast<char>(m.payload[0]));
        }
        return;
      case audiosocket_kind::id:
        ++stats_.malformed;
        spdlog::warn("AudioSocket {}: ignoring a second id message", uuid_);
        return;
      case audiosocket_kind::hangup:
        // Asterisk ends by closing TCP, but the protocol allows this too.
        spdlog::info("AudioSocket {}: Asterisk sent hangup", uuid_);
        end(net::error::eof);
        return;
      case audiosocket_kind::error:
        spdlog::warn("AudioSocket {}: Asterisk reported an error ({} bytes of code)", uuid_, m.payload.size());
        end(make_error_code(boost::system::errc::connection_aborted));
        return;
      default:
        on_audio_message(m.kind, m.payload);
    }
  }

  void on_audio_message(audiosocket_kind kind, std::span<const std::uint8_t> payload) {
    const int call_rate = format_.sample_rate_hz;
    const std::size_t call_frame_bytes = format_.samples_per_frame() * 2;
    int rate = audiosocket_audio_rate(kind);
    if (kind == audiosocket_kind::slin && call_rate != 8000 && !transport_stats_.legacy_peer &&
        payload.size() == call_frame_bytes) {
      // Asterisk re-frames slin to 20 ms, so a 0x10 message of one call-rate
      // frame is an older Asterisk labelling the call's audio as 8 kHz.
      transport_stats_.legacy_peer = true;
      spdlog::info("AudioSocket {}: Asterisk labels {} Hz audio as 0x10 (before 20.17); sending 8 kHz back",
                   uuid_, call_rate);
    }
    if (kind == audiosocket_kind::slin && transport_stats_.legacy_peer) rate = call_rate;

    samples_.clear();
    if (rate == call_rate) {
      decode_audiosocket_audio(payload, samples_);
    } else {
      if (!audio::resampler::supported_rate(rate)) {
        ++stats_.malformed;
        spdlog::warn("AudioSocket {}: dropping audio of kind 0x{:02x} ({} Hz cannot be converted)", uuid_,
                     static_cast<unsigned>(kind), rate);
        return;
      }
      auto it = in_resamplers_.find(rate);
      if (it == in_resamplers_.end()) it = in_resamplers_.emplace(rate, audio::resampler(rate, call_rate)).first;
      resampled_.clear();
      decode_audiosocket_audio(payload, resampled_);
      it->second.process(resampled_, samples_);
      ++transport_stats_.resampled_in;
    }
    ++stats_.packets_in;
    stats_.bytes_in += payload.size();
    deliver(samples_);
  }

  // Cuts caller audio into frames of one ptime, padding the last one.
  void deliver(const std::vector<std::int16_t>& samples) {
    const std::size_t per_frame = format_.samples_per_frame();
    for (std::size_t at = 0; at < samples.size(); at += per_frame) {
      audio::frame f;
      f.sample_rate_hz = format_.sample_rate_hz;
      const std::size_t n = std::min(per_frame, samples.size() - at);
      f.samples.assign(samples.begin() + static_cast<std::ptrdiff_t>(at),
                       samples.begin() + static_cast<std::ptrdiff_t>(at + n));
      f.samples.resize(per_frame, 0);
      if (handlers_.on_audio) handlers_.on_audio(std::move(f));
      if (closed_) return;
    }
  }

  // --- daemon → caller -----------------------------------------------------

  void enqueue(outgoing o) {
    // The front message is in flight while writing_: only waiting ones drop.
    const std::size_t in_flight = writing_ ? 1 : 0;
    if (o.audio_bytes > 0 && queue_.size() - in_flight >= max_queued_frames) {
      queue_.erase(queue_.begin() + static_cast<std::ptrdiff_t>(in_flight));
      ++transport_stats_.send_dropped;
    }
    queue_.push_back(std::move(o));
    write_next();
  }

  void write_next() {
    if (writing_ || closed_ || !connected_ || queue_.empty()) return;
    writing_ = true;
    net::async_write(socket_, net::buffer(queue_.front().bytes),
                     [self = shared_from_this()](error_code ec, std::size_t) {
                       if (self->closed_) return;
                       self->writing_ = false;
                       if (ec) {
                         spdlog::warn("AudioSocket {}: write failed: {}", self->uuid_, ec.message());
                         self->end(ec);
                         return;
                       }
                       if (auto bytes = self->queue_.front().audio_bytes; bytes > 0) {
                         ++self->stats_.packets_out;
                         self->stats_.bytes_out += bytes;
                       }
                       self->queue_.pop_front();
                       self->write_next();
                     });
  }

  void send(const audio::frame& f) {
    if (closed_ || hangup_queued_ || f.samples.empty()) return;
    if (f.sample_rate_hz != format_.sample_rate_hz) {
      ++transport_stats_.send_rejected;
      if (!rate_warned_) {
        rate_warned_ = true;
        spdlog::warn("AudioSocket {}: dropping assistant audio at {} Hz on a {} Hz call", uuid_, f.sample_rate_hz,
                     format_.sample_rate_hz);
      }
      return;
    }
    std::span<const std::int16_t> samples = f.samples;
    auto kind = call_kind_;
    std::size_t per_message = format_.samples_per_frame();
    if (transport_stats_.legacy_peer && call_kind_ != audiosocket_kind::slin) {
      if (!out_resampler_) out_resampler_.emplace(format_.sample_rate_hz, 8000);
      resampled_.clear();
      out_resampler_->process(samples, resampled_);
      samples = resampled_;
      kind = audiosocket_kind::slin;
      per_message = static_cast<std::size_t>(8000 * ptime_ms / 1000);
    }
    // A frame longer than one ptime still goes out as one message per ptime.
    for (std::size_t at = 0; at < samples.size(); at += per_message) {
      const auto piece = samples.subspan(at, std::min(per_message, samples.size() - at));
      outgoing o;
      append_audiosocket_audio(o.bytes, kind, piece);
      o.audio_bytes = piece.size() * 2;
      enqueue(std::move(o));
    }
  }
};

std::string audiosocket_endpoint::format_problem(const media_options& options) {
  auto kind = kind_of_format(options.format);
  if (!kind) {
    if (options.format == "ulaw" || options.format == "alaw")
      return "AUDIO_FORMAT=" + options.format +
             " cannot be used with EXTERNAL_MEDIA_TRANSPORT=audiosocket: Asterisk sends the G.711 bytes "
             "labelled as 8 kHz linear audio but reads what it receives as linear audio, so the caller "
             "would hear noise; use slin, slin16 or slin24";
    return "AUDIO_FORMAT=" + options.format +
           " is not available with EXTERNAL_MEDIA_TRANSPORT=audiosocket; use slin, slin16 or slin24";
  }
  if (options.sample_rate != audiosocket_audio_rate(*kind))
    return "AUDIO_SAMPLE_RATE=" + std::to_string(options.sample_rate) + " does not match AUDIO_FORMAT=" +
           options.format + " (" + std::to_string(audiosocket_audio_rate(*kind)) + " Hz)";
  return {};
}

std::unique_ptr<audiosocket_endpoint> audiosocket_endpoint::open(executor ex, const media_options& options,
                                                                 std::shared_ptr<audiosocket_server> server,
                                                                 error_code& ec,
                                                                 std::chrono::milliseconds connect_timeout) {
  if (auto problem = format_problem(options); !problem.empty()) {
    spdlog::error("{}", problem);
    ec = net::error::invalid_argument;
    return nullptr;
  }
  auto i = std::make_shared<impl>(ex, std::move(server), connect_timeout);
  i->call_kind_ = *kind_of_format(options.format);
  i->format_ = audio::audio_format{audiosocket_audio_rate(i->call_kind_), 1, ptime_ms};
  i->uuid_ = util::make_uuid();
  const auto& h = options.advertise_host.empty() ? options.bind_host : options.advertise_host;
  const std::string host = h.find(':') != std::string::npos ? "[" + h + "]" : h;
  i->params_.external_host = host + ":" + std::to_string(i->server_->port());
  i->params_.format = options.format;
  i->params_.encapsulation = "audiosocket";
  i->params_.transport = "tcp";
  i->params_.data = i->uuid_;
  // Registered before the caller can POST externalMedia: Asterisk connects
  // while that request is still in flight.
  auto on_connect = [weak = std::weak_ptr<impl>(i), ex](tcp::socket s, std::vector<std::uint8_t> unparsed) {
    net::post(ex, [weak, s = std::move(s), unparsed = std::move(unparsed)]() mutable {
      if (auto self = weak.lock()) self->attach(std::move(s), std::move(unparsed));
    });
  };
  if (!i->server_->register_call(i->uuid_, std::move(on_connect))) {
    ec = net::error::already_open;  // a UUID collision: practically never
    return nullptr;
  }
  ec = {};
  return std::unique_ptr<audiosocket_endpoint>(new audiosocket_endpoint(std::move(i)));
}

audiosocket_endpoint::audiosocket_endpoint(std::shared_ptr<impl> i) : impl_(std::move(i)) {}

audiosocket_endpoint::~audiosocket_endpoint() { close(); }

external_media_params audiosocket_endpoint::external_media() const { return impl_->params_; }

void audiosocket_endpoint::set_peer(const std::map<std::string, std::string>& channel_vars) {
  auto it = channel_vars.find("AUDIOSOCKET_UUID");
  if (it != channel_vars.end() && it->second != impl_->uuid_)
    spdlog::warn("AudioSocket {}: externalMedia reply names UUID {}", impl_->uuid_, it->second);
}

void audiosocket_endpoint::start(media_handlers h) {
  auto& i = *impl_;
  if (i.started_ || i.closed_) return;
  i.handlers_ = std::move(h);
  i.started_ = true;
  if (i.connected_)
    i.begin_reading();
  else
    i.arm_connect_deadline();
}

audio::audio_format audiosocket_endpoint::format() const { return impl_->format_; }

void audiosocket_endpoint::send(const audio::frame& f, bool) { impl_->send(f); }

media_stats audiosocket_endpoint::stats() const { return impl_->stats_; }

void audiosocket_endpoint::close() { impl_->close(); }

void audiosocket_endpoint::hangup() {
  auto& i = *impl_;
  if (i.closed_ || i.hangup_queued_) return;
  i.hangup_queued_ = true;
  impl::outgoing o;
  append_audiosocket_message(o.bytes, audiosocket_kind::hangup, {});
  i.enqueue(std::move(o));
}

const std::string& audiosocket_endpoint::call_uuid() const { return impl_->uuid_; }

bool audiosocket_endpoint::connected() const { return impl_->connected_; }

audiosocket_stats audiosocket_endpoint::transport_stats() const { return impl_->transport_stats_; }

}  // namespace npcl::media
