#include "npcl/media/rtp_endpoint.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <array>
#include <bit>
#include <charconv>
#include <optional>
#include <random>

#include "npcl/audio/g711.hpp"
#include "npcl/audio/resampler.hpp"
#include "npcl/media/jitter_buffer.hpp"
#include "npcl/media/rtp_packet.hpp"
#include "npcl/obs/log.hpp"

namespace npcl::media {
namespace {

using udp = net::ip::udp;
// Ports held by other processes are skipped; the whole range is tried, up
// to this many binds per call.
constexpr std::size_t max_bind_attempts = 1024;
constexpr std::size_t receive_buffer = 4096;  // > 20 ms of slin48; a datagram filling it was truncated
constexpr int send_rate_hz = 8000;            // every payload type we send back is 8 kHz

enum class codec { ulaw, alaw, l16_be };

// How one payload type is carried: its codec and RTP clock rate.
struct payload_format {
  std::uint8_t payload_type;  // RTP PT
  codec kind;                 // sample encoding
  int clock_rate_hz;          // RTP clock = sample rate for these codecs (Hz)
};

// What Asterisk sends (asterisk-media.md §1.3): the static types and its
// default numbers for slin16/slin24. Anything else (CN, telephone-event...)
// is not audio we can use.
std::optional<payload_format> inbound_format(std::uint8_t pt) {
  switch (pt) {
    case 0: return payload_format{pt, codec::ulaw, 8000};
    case 8: return payload_format{pt, codec::alaw, 8000};
    case 10:  // Asterisk maps both 10 and 11 to 8 kHz slin, not RFC 3551's 44.1 kHz
    case 11: return payload_format{pt, codec::l16_be, 8000};
    case 118: return payload_format{pt, codec::l16_be, 16000};
    case 123: return payload_format{pt, codec::l16_be, 24000};
    default: return std::nullopt;
  }
}

// What we send back for an AUDIO_FORMAT. Asterisk drops the dynamic PTs
// 118/123 it receives on UnicastRTP (fixture call-rtp-slin16), so slin16 and
// slin24 go back as L16 8 kHz big-endian under PT 11, which it accepts and
// transcodes (fixture call-rtp-slin16-tx-pt11: clean tone). L16 rather than
// μ-law because the audio then stays linear until the caller's own codec:
// one G.711 quantisation instead of two; the cost, 320 bytes per 20 ms on
// loopback or a LAN, does not matter.
std::optional<payload_format> outbound_format(const std::string& format) {
  if (format == "ulaw") return payload_format{0, codec::ulaw, send_rate_hz};
  if (format == "alaw") return payload_format{8, codec::alaw, send_rate_hz};
  if (format == "slin") return payload_format{10, codec::l16_be, send_rate_hz};
  if (format == "slin16" || format == "slin24") return payload_format{11, codec::l16_be, send_rate_hz};
  return std::nullopt;
}

// Decodes a payload into PCM16 at the payload's clock rate; false with a
// reason when its length cannot be audio of that codec.
bool decode(const payload_format& pf, std::span<const std::uint8_t> payload, audio::frame& out,
            const char*& why) {
  if (payload.empty()) {
    why = "empty payload";
    return false;
  }
  out.sample_rate_hz = pf.clock_rate_hz;
  switch (pf.kind) {
    case codec::ulaw:
      out.samples.resize(payload.size());
      audio::ulaw_decode(payload, out.samples);
      return true;
    case codec::alaw:
      out.samples.resize(payload.size());
      audio::alaw_decode(payload, out.samples);
      return true;
    case codec::l16_be:
      if (payload.size() % 2 != 0) {
        why = "odd L16 payload length";
        return false;
      }
      out.samples.resize(payload.size() / 2);
      for (std::size_t i = 0; i < out.samples.size(); ++i) {
        out.samples[i] = static_cast<std::int16_t>((payload[2 * i] << 8) | payload[2 * i + 1]);
      }
      return true;
  }
  return false;
}

// Encodes PCM16 for the wire; `out` is resized to the payload.
void encode(codec kind, std::span<const std::int16_t> pcm, std::vector<std::uint8_t>& out) {
  switch (kind) {
    case codec::ulaw:
      out.resize(pcm.size());
      audio::ulaw_encode(pcm, out);
      return;
    case codec::alaw:
      out.resize(pcm.size());
      audio::alaw_encode(pcm, out);
      return;
    case codec::l16_be:
      out.resize(pcm.size() * 2);
      for (std::size_t i = 0; i < pcm.size(); ++i) {
        const auto v = static_cast<std::uint16_t>(pcm[i]);
        out[2 * i] = static_cast<std::uint8_t>(v >> 8);
        out[2 * i + 1] = static_cast<std::uint8_t>(v);
      }
      return;
  }
}

}  // namespace

struct rtp_endpoint::impl : std::enable_shared_from_this<impl> {
  impl(executor ex, port_lease lease, payload_format tx)
      : socket_(ex), hold_timer_(ex), lease_(std::move(lease)), tx_(tx) {
    std::random_device rd;
    std::mt19937 rng(rd());
    // RFC 3550 §5.1: random initial sequence and timestamp, random SSRC.
    tx_ssrc_ = static_cast<std::uint32_t>(rng());
    tx_sequence_ = static_cast<std::uint16_t>(rng());
    tx_timestamp_ = static_cast<std::uint32_t>(rng());
  }

  udp::socket socket_;                    // the call's RTP socket: receives and sends
  net::steady_timer hold_timer_;          // fires at the jitter buffer's hold deadline
  bool hold_timer_armed_ = false;         // a wait on hold_timer_ is pending
  port_lease lease_;                      // returned to the allocator with the endpoint
  std::string advertise_host_;            // host part of external_host
  std::string format_name_;               // AUDIO_FORMAT
  audio::audio_format format_;            // decoded call audio (rate Hz, 20 ms)
  media_handlers handlers_;               // set by start()
  bool started_ = false;                  // start() was called: audio is delivered
  udp::endpoint peer_;                    // where Asterisk sends from and listens
  bool peer_known_ = false;               // peer_ is set (from channelvars or first packet)
  media_stats stats_;                     // counters except the jitter buffer's
  bool closed_ = false;                   // close() was called: no more handlers
  std::array<std::uint8_t, receive_buffer> buffer_{};  // one received datagram
  jitter_buffer jitter_;                  // inbound ordering and concealment
  std::optional<audio::resampler> in_resampler_;   // packet rate → call rate, when they differ
  payload_format tx_;                     // what send() puts on the wire
  std::optional<audio::resampler> out_resampler_;  // call rate → 8 kHz for slin16/slin24
  std::uint32_t tx_ssrc_ = 0;             // our SSRC
  std::uint16_t tx_sequence_ = 0;         // sequence number of the next packet
  std::uint32_t tx_timestamp_ = 0;        // timestamp of the next packet (8 kHz units)
  bool tx_first_ = true;                  // the next packet is the stream's first (marker)
  std::vector<std::int16_t> tx_pcm_;      // scratch: resampled frame
  std::vector<std::uint8_t> tx_payload_;  // scratch: encoded payload
  std::vector<std::uint8_t> tx_packet_;   // scratch: header + payload
  std::uint64_t tx_dropped_ = 0;          // frames not sent (no peer yet, socket error, bad frame)

  net::awaitable<void> receive_loop() {
    auto self = shared_from_this();
    while (!closed_) {
      udp::endpoint from;
      auto [ec, n] = co_await socket_.async_receive_from(net::buffer(buffer_), from,
                                                         net::as_tuple(net::use_awaitable));
      if (closed_) co_return;
      if (ec == net::error::connection_refused) continue;  // ICMP echo of an earlier send
      if (ec) {
        spdlog::warn("RTP receive on port {} failed: {}", lease_.port(), ec.message());
        co_return;
      }
      on_datagram(from, n);
    }
  }

  void on_datagram(const udp::endpoint& from, std::size_t n) {
    // Asterisk always sends from the port it receives on (fixtures), so
    // the learned address filters spoofed or stray packets.
    if (peer_known_ && from != peer_) {
      ++stats_.foreign_dropped;
      return;
    }
    if (n >= buffer_.size()) return reject("larger than any audio packet");
    rtp_reject why{};
    auto packet = rtp_packet::parse(std::span<const std::uint8_t>(buffer_.data(), n), &why);
    if (!packet) return reject(to_string(why));
    auto pf = inbound_format(packet->payload_type);
    if (!pf) return reject("payload type " + std::to_string(packet->payload_type) + " is not audio we decode");
    audio::frame pcm;
    const char* bad = "";
    if (!decode(*pf, packet->payload, pcm, bad)) return reject(bad);
    if (!peer_known_) {
      peer_ = from;
      peer_known_ = true;
      spdlog::info("RTP from Asterisk at {}:{} (no UNICASTRTP_LOCAL_* given)", from.address().to_string(),
                   from.port());
    }
    ++stats_.packets_in;
    stats_.bytes_in += packet->payload.size();
    if (!started_) return;  // nobody listens yet
    std::vector<audio::frame> due;
    jitter_.push(*packet, std::move(pcm), jitter_buffer::clock::now(), due);
    deliver(due);
    arm_hold_timer();
  }

  void reject(std::string_view why) {
    ++stats_.malformed;
    // Powers of two: the first few are all seen, a flood does not flood the log.
    if (std::has_single_bit(stats_.malformed)) {
      spdlog::warn("RTP packet on port {} dropped: {} ({} so far)", lease_.port(), why, stats_.malformed);
    }
  }

  void deliver(std::vector<audio::frame>& frames) {
    for (auto& f : frames) {
      if (closed_) return;  // a handler may close the endpoint
      if (f.sample_rate_hz != format_.sample_rate_hz) {
        if (!in_resampler_ || in_resampler_->in_rate_hz() != f.sample_rate_hz) {
          in_resampler_.emplace(f.sample_rate_hz, format_.sample_rate_hz);
        }
        audio::frame converted{{}, format_.sample_rate_hz};
        in_resampler_->process(f.samples, converted.samples);
        f = std::move(converted);
      }
      if (handlers_.on_audio) handlers_.on_audio(std::move(f));
    }
  }

  // Held packets must not wait for the caller's next word: Asterisk sends
  // nothing during silence, so a timer ends the wait.
  void arm_hold_timer() {
    if (closed_) return;
    auto deadline = jitter_.hold_deadline();
    if (!deadline) {
      if (hold_timer_armed_) hold_timer_.cancel();
      hold_timer_armed_ = false;
      return;
    }
    if (hold_timer_armed_ && hold_timer_.expiry() == *deadline) return;
    hold_timer_.expires_at(*deadline);
    hold_timer_armed_ = true;
    hold_timer_.async_wait([weak = weak_from_this()](error_code ec) {
      auto self = weak.lock();
      if (!self || ec || self->closed_) return;
      self->hold_timer_armed_ = false;
      std::vector<audio::frame> due;
      self->jitter_.expire(jitter_buffer::clock::now(), due);
      self->deliver(due);
      self->arm_hold_timer();
    });
  }

  void send(const audio::frame& f, bool first_of_spurt) {
    if (closed_) return;
    if (f.sample_rate_hz != format_.sample_rate_hz || f.samples.empty()) {
      drop_sent("frame is not call audio (" + std::to_string(f.samples.size()) + " samples at " +
                std::to_string(f.sample_rate_hz) + " Hz)");
      return;
    }
    if (!peer_known_) {
      drop_sent("Asterisk's RTP address is not known yet");
      return;
    }
    std::span<const std::int16_t> pcm = f.samples;
    if (out_resampler_) {
      tx_pcm_.clear();
      out_resampler_->process(f.samples, tx_pcm_);
      pcm = tx_pcm_;
    }
    encode(tx_.kind, pcm, tx_payload_);
    rtp_packet p;
    p.marker = first_of_spurt || tx_first_;
    p.payload_type = tx_.payload_type;
    p.sequence = tx_sequence_;
    p.timestamp = tx_timestamp_;
    p.ssrc = tx_ssrc_;
    p.payload = tx_payload_;
    tx_packet_.resize(rtp_packet::header_size + tx_payload_.size());
    const std::size_t n = p.build(tx_packet_);
    // The slot is used whether or not the datagram leaves: a failed send then
    // shows as one lost packet at Asterisk, not as time running backwards.
    ++tx_sequence_;
    tx_timestamp_ += static_cast<std::uint32_t>(pcm.size());
    tx_first_ = false;
    // A non-blocking send_to instead of async_send_to behind a queue: a UDP
    // send copies the datagram into the kernel at once or fails with
    // would_block when the socket buffer is full, which 50 small packets a
    // second to Asterisk on loopback or a LAN never fill. So there is never a
    // write in flight, no queue to bound, no handler to outlive close(); a
    // full buffer drops this frame and counts it, like a full queue would.
    error_code ec;
    socket_.send_to(net::buffer(tx_packet_.data(), n), peer_, 0, ec);
    if (ec) {
      drop_sent("send failed: " + ec.message());
      return;
    }
    ++stats_.packets_out;
    stats_.bytes_out += tx_payload_.size();
  }

  void drop_sent(const std::string& why) {
    ++tx_dropped_;
    if (std::has_single_bit(tx_dropped_)) {
      spdlog::warn("RTP frame to Asterisk on port {} dropped: {} ({} so far)", lease_.port(), why, tx_dropped_);
    }
  }
};

std::unique_ptr<rtp_endpoint> rtp_endpoint::open(executor ex, const media_options& options,
                                                 std::shared_ptr<port_allocator> ports, error_code& ec) {
  auto tx = outbound_format(options.format);
  if (!tx || !audio::resampler::supported_rate(options.sample_rate)) {
    ec = net::error::invalid_argument;
    return nullptr;
  }
  auto address = net::ip::make_address(options.bind_host, ec);
  if (ec) return nullptr;
  const std::size_t attempts = std::min(ports->size(), max_bind_attempts);
  for (std::size_t attempt = 0; attempt < attempts; ++attempt) {
    auto lease = ports->acquire();
    if (!lease) {
      ec = net::error::no_buffer_space;  // every port of the range is in use
      return nullptr;
    }
    auto i = std::make_shared<impl>(ex, std::move(*lease), *tx);
    i->socket_.open(address.is_v6() ? udp::v6() : udp::v4(), ec);
    if (ec) return nullptr;
    i->socket_.bind(udp::endpoint(address, i->lease_.port()), ec);
    if (ec == net::error::address_in_use) continue;
    if (!ec) i->socket_.non_blocking(true, ec);
    if (ec) return nullptr;
    i->advertise_host_ = options.advertise_host.empty() ? options.bind_host : options.advertise_host;
    i->format_name_ = options.format;
    i->format_ = audio::audio_format{options.sample_rate, 1, 20};
    if (options.sample_rate != send_rate_hz) i->out_resampler_.emplace(options.sample_rate, send_rate_hz);
    net::co_spawn(ex, i->receive_loop(), net::detached);
    return std::unique_ptr<rtp_endpoint>(new rtp_endpoint(std::move(i)));
  }
  ec = net::error::address_in_use;
  return nullptr;
}

std::string rtp_endpoint::send_back_note(const media_options& options) {
  if (options.format != "slin16" && options.format != "slin24") return {};
  return "RTP: Asterisk drops the dynamic payload type it sends for " + options.format +
         " when it receives it, so assistant audio is resampled to 8 kHz and sent back as L16 "
         "big-endian, payload type 11; Asterisk converts it to " + options.format;
}

rtp_endpoint::rtp_endpoint(std::shared_ptr<impl> i) : impl_(std::move(i)) {}

rtp_endpoint::~rtp_endpoint() { close(); }

external_media_params rtp_endpoint::external_media() const {
  const auto& h = impl_->advertise_host_;
  std::string host = h.find(':') != std::string::npos ? "[" + h + "]" : h;
  external_media_params p;
  p.external_host = host + ":" + std::to_string(impl_->lease_.port());
  p.format = impl_->format_name_;
  p.encapsulation = "rtp";
  p.transport = "udp";
  return p;
}

void rtp_endpoint::start(media_handlers h) {
  impl_->handlers_ = std::move(h);
  impl_->started_ = true;
}

audio::audio_format rtp_endpoint::format() const { return impl_->format_; }

void rtp_endpoint::send(const audio::frame& f, bool first_of_spurt) { impl_->send(f, first_of_spurt); }

void rtp_endpoint::set_peer(const std::map<std::string, std::string>& vars) {
  auto addr_it = vars.find("UNICASTRTP_LOCAL_ADDRESS");
  auto port_it = vars.find("UNICASTRTP_LOCAL_PORT");
  if (addr_it == vars.end() || port_it == vars.end()) return;
  error_code ec;
  auto addr = net::ip::make_address(addr_it->second, ec);
  unsigned port = 0;
  const auto& ps = port_it->second;
  auto [ptr, perr] = std::from_chars(ps.data(), ps.data() + ps.size(), port);
  if (ec || perr != std::errc{} || ptr != ps.data() + ps.size() || port == 0 || port > 65535) {
    spdlog::warn("externalMedia reply has an unusable RTP address {}:{}", addr_it->second, ps);
    return;
  }
  impl_->peer_ = udp::endpoint(addr, static_cast<std::uint16_t>(port));
  impl_->peer_known_ = true;
}

media_stats rtp_endpoint::stats() const {
  media_stats s = impl_->stats_;
  const auto j = impl_->jitter_.stats();
  s.lost = j.lost;
  s.reordered = j.reordered;
  s.duplicated = j.duplicated;
  s.late = j.late;
  s.ssrc_changes = j.ssrc_changes;
  s.jitter_ms = j.jitter_ms;
  return s;
}

void rtp_endpoint::close() {
  if (impl_->closed_) return;
  impl_->closed_ = true;
  if (impl_->tx_dropped_ > 0) {
    spdlog::info("RTP on port {}: {} frames to Asterisk were dropped", impl_->lease_.port(), impl_->tx_dropped_);
  }
  error_code ignored;
  impl_->hold_timer_.cancel();
  impl_->socket_.close(ignored);
}

std::uint16_t rtp_endpoint::local_port() const { return impl_->lease_.port(); }

}  // namespace npcl::media
