#include "npcl/media/rtp_endpoint.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <array>
#include <charconv>

#include "npcl/obs/log.hpp"

namespace npcl::media {
namespace {

using udp = net::ip::udp;
constexpr std::size_t rtp_header_bytes = 12;
constexpr int max_bind_attempts = 16;  // ports held by other processes are skipped

// Returns the payload size of a valid RTP packet, or -1 (RFC 3550 §5.1).
long rtp_payload_size(const std::uint8_t* p, std::size_t n) {
  if (n < rtp_header_bytes || (p[0] >> 6) != 2) return -1;
  std::size_t header = rtp_header_bytes + 4u * (p[0] & 0x0f);
  if (p[0] & 0x10) {  // header extension: 4-byte preamble + length words
    if (n < header + 4) return -1;
    header += 4 + 4u * ((p[header + 2] << 8) | p[header + 3]);
  }
  std::size_t padding = 0;
  if (p[0] & 0x20) padding = n > 0 ? p[n - 1] : 0;
  if (header + padding > n) return -1;
  return static_cast<long>(n - header - padding);
}

}  // namespace

struct rtp_endpoint::impl : std::enable_shared_from_this<impl> {
  impl(executor ex, port_lease lease) : socket_(ex), lease_(std::move(lease)) {}

  udp::socket socket_;
  port_lease lease_;                  // returned to the allocator with the endpoint
  std::string advertise_host_;        // host part of external_host
  std::string format_name_;           // AUDIO_FORMAT
  audio::audio_format format_;        // decoded call audio
  media_handlers handlers_;
  udp::endpoint peer_;                // where Asterisk sends from and listens
  bool peer_known_ = false;           // peer_ is set (from channelvars or first packet)
  bool peer_from_vars_ = false;       // peer_ came from UNICASTRTP_LOCAL_*
  media_stats stats_;
  bool closed_ = false;
  std::array<std::uint8_t, 2048> buffer_{};

  net::awaitable<void> receive_loop() {
    auto self = shared_from_this();
    while (!closed_) {
      udp::endpoint from;
      auto [ec, n] = co_await socket_.async_receive_from(net::buffer(buffer_), from,
                                                         net::as_tuple(net::use_awaitable));
      if (ec) {
        if (ec != net::error::operation_aborted && !closed_) spdlog::warn("RTP receive failed: {}", ec.message());
        co_return;
      }
      // Asterisk always sends from the port it receives on (fixtures), so
      // the learned address filters spoofed or stray packets.
      if (peer_known_ && from != peer_) {
        ++stats_.foreign_dropped;
        continue;
      }
      long payload = rtp_payload_size(buffer_.data(), n);
      if (payload < 0) {
        ++stats_.malformed;
        continue;
      }
      if (!peer_known_) {
        peer_ = from;
        peer_known_ = true;
      }
      ++stats_.packets_in;
      stats_.bytes_in += static_cast<std::uint64_t>(payload);
    }
  }
};

std::unique_ptr<rtp_endpoint> rtp_endpoint::open(executor ex, const media_options& options,
                                                 std::shared_ptr<port_allocator> ports, error_code& ec) {
  auto address = net::ip::make_address(options.bind_host, ec);
  if (ec) return nullptr;
  for (int attempt = 0; attempt < max_bind_attempts; ++attempt) {
    auto lease = ports->acquire();
    if (!lease) {
      ec = net::error::no_buffer_space;  // every port of the range is in use
      return nullptr;
    }
    auto i = std::make_shared<impl>(ex, std::move(*lease));
    i->socket_.open(address.is_v6() ? udp::v6() : udp::v4(), ec);
    if (ec) return nullptr;
    i->socket_.bind(udp::endpoint(address, i->lease_.port()), ec);
    if (ec == net::error::address_in_use) continue;
    if (ec) return nullptr;
    i->advertise_host_ = options.advertise_host.empty() ? options.bind_host : options.advertise_host;
    i->format_name_ = options.format;
    i->format_ = audio::audio_format{options.sample_rate, 1, 20};
    net::co_spawn(ex, i->receive_loop(), net::detached);
    return std::unique_ptr<rtp_endpoint>(new rtp_endpoint(std::move(i)));
  }
  ec = net::error::address_in_use;
  return nullptr;
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

void rtp_endpoint::start(media_handlers h) { impl_->handlers_ = std::move(h); }

audio::audio_format rtp_endpoint::format() const { return impl_->format_; }

void rtp_endpoint::send(const audio::frame&, bool) {}

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
  impl_->peer_from_vars_ = true;
}

media_stats rtp_endpoint::stats() const { return impl_->stats_; }

void rtp_endpoint::close() {
  if (impl_->closed_) return;
  impl_->closed_ = true;
  error_code ignored;
  impl_->socket_.close(ignored);
}

std::uint16_t rtp_endpoint::local_port() const { return impl_->lease_.port(); }

}  // namespace npcl::media
