#include "fakes/rtp_peer.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <random>
#include <stdexcept>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "npcl/audio/g711.hpp"
#include "npcl/audio/wav.hpp"
#include "npcl/util/net.hpp"

namespace npcl::fakes {
namespace {

using udp = net::ip::udp;
using clock = std::chrono::steady_clock;
constexpr int first_dynamic_pt = 35;  // Asterisk's static receive table ends at 34

struct wire_format {
  int payload_type;  // Asterisk's PT for the format
  int rate_hz;       // sample rate = RTP clock (Hz)
  bool linear;       // L16 big-endian rather than G.711
  bool alaw;         // G.711 A-law rather than μ-law (when not linear)
};

wire_format format_of(const std::string& name) {
  if (name == "ulaw") return {0, 8000, false, false};
  if (name == "alaw") return {8, 8000, false, true};
  if (name == "slin") return {10, 8000, true, false};
  if (name == "slin16") return {118, 16000, true, false};
  if (name == "slin24") return {123, 24000, true, false};
  throw std::invalid_argument("rtp_peer: unknown format " + name);
}

void put_be(std::vector<std::uint8_t>& out, std::uint32_t v, int bytes) {
  for (int shift = 8 * (bytes - 1); shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(v >> shift));
}

std::uint32_t get_be(const std::vector<std::uint8_t>& in, std::size_t at, int bytes) {
  std::uint32_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | in[at + static_cast<std::size_t>(i)];
  return v;
}

// One datagram waiting for its time.
struct scheduled {
  clock::time_point at;             // when it leaves
  std::vector<std::uint8_t> bytes;  // the datagram
  std::uint16_t sequence = 0;       // for the record
  std::uint32_t timestamp = 0;      // for the record
};

}  // namespace

struct rtp_peer::impl {
  // Declared first so it is destroyed last; handlers hold `this`, never own it.
  net::io_context ioc;
  net::executor_work_guard<net::io_context::executor_type> work = net::make_work_guard(ioc);
  udp::socket socket{ioc, udp::endpoint(net::ip::make_address("127.0.0.1"), 0)};
  bool kernel_stamps = [this] {
    int on = 1;
    return ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on) == 0;
  }();  // enables per-datagram receive timestamps
  net::steady_timer timer{ioc};
  std::thread thread;

  rtp_peer_options options;  // as given
  wire_format wire;          // what the format puts on the wire
  int payload_type;          // PT actually sent

  mutable std::mutex mu;         // guards everything below
  std::condition_variable cv;    // signalled on every record change
  udp::endpoint target;          // where stream packets go
  std::mt19937 rng;              // SSRC, first sequence, faults
  std::uint32_t ssrc = 0;        // stream SSRC
  std::uint16_t next_sequence = 0;     // sequence of the next stream packet
  std::uint32_t next_timestamp = 0;    // timestamp of the next stream packet
  bool played_before = false;          // a play() already ran: the next one starts a spurt
  clock::time_point stream_end;        // when the last played packet's audio ends
  std::size_t pending = 0;             // datagrams scheduled, not yet sent
  std::size_t lost = 0;                // stream packets the loss model dropped
  std::vector<rtp_peer_packet> received;
  std::vector<rtp_peer_sent> sent;
  std::size_t dynamic_dropped = 0;

  // Server thread only.
  std::deque<scheduled> queue;         // sorted by `at`
  bool waiting = false;                // a timer wait is pending
  udp::endpoint from;                  // source of the datagram being read
  std::vector<std::uint8_t> rx = std::vector<std::uint8_t>(65536);

  explicit impl(rtp_peer_options o)
      : options(std::move(o)), wire(format_of(options.format)),
        payload_type(options.payload_type >= 0 ? options.payload_type : wire.payload_type), rng(options.seed) {
    ssrc = static_cast<std::uint32_t>(rng());
    next_sequence = static_cast<std::uint16_t>(rng());
    target = udp::endpoint(net::ip::make_address("127.0.0.1"), 9);
    read();
    thread = std::thread([this] { ioc.run(); });
  }

  template <class Pred>
  testing::AssertionResult wait(std::chrono::milliseconds timeout, Pred done, const std::string& what) {
    std::unique_lock lock(mu);
    if (cv.wait_for(lock, timeout, done)) return testing::AssertionSuccess();
    return testing::AssertionFailure() << "rtp_peer: timed out after " << timeout.count() << " ms waiting for "
                                       << what;
  }

  std::vector<std::uint8_t> encode(std::span<const std::int16_t> pcm) const {
    std::vector<std::uint8_t> out;
    if (wire.linear) {
      for (auto s : pcm) put_be(out, static_cast<std::uint16_t>(s), 2);
    } else {
      out.resize(pcm.size());
      if (wire.alaw) {
        audio::alaw_encode(pcm, out);
      } else {
        audio::ulaw_encode(pcm, out);
      }
    }
    return out;
  }

  // Called with mu held: cuts `pcm` into packets and applies the fault model.
  std::vector<scheduled> plan(std::span<const std::int16_t> pcm) {
    const auto now = clock::now();
    const auto per_packet = static_cast<std::size_t>(wire.rate_hz * options.ptime.count() / 1000);
    bool marker = false;
    if (!played_before) {
      next_timestamp = static_cast<std::uint32_t>(per_packet);  // as captured: first ts = one packet
    } else {
      marker = true;
      if (now > stream_end) {
        const auto idle = std::chrono::duration_cast<std::chrono::microseconds>(now - stream_end);
        next_timestamp += static_cast<std::uint32_t>(idle.count() * wire.rate_hz / 1'000'000);
      }
    }
    played_before = true;
    std::vector<scheduled> packets;
    for (std::size_t at = 0, k = 0; at < pcm.size(); at += per_packet, ++k) {
      const auto chunk = pcm.subspan(at, std::min(per_packet, pcm.size() - at));
      scheduled s;
      s.at = now + options.ptime * static_cast<long>(k);
      s.sequence = next_sequence++;
      s.timestamp = next_timestamp;
      next_timestamp += static_cast<std::uint32_t>(chunk.size());
      put_be(s.bytes, 0x80, 1);
      put_be(s.bytes, static_cast<std::uint32_t>((marker && k == 0 ? 0x80 : 0) | (payload_type & 0x7f)), 1);
      put_be(s.bytes, s.sequence, 2);
      put_be(s.bytes, s.timestamp, 4);
      put_be(s.bytes, ssrc, 4);
      const auto payload = encode(chunk);
      s.bytes.insert(s.bytes.end(), payload.begin(), payload.end());
      packets.push_back(std::move(s));
    }
    stream_end = now + options.ptime * static_cast<long>(packets.size());
    std::uniform_real_distribution<double> chance(0.0, 1.0);
    std::uniform_int_distribution<long> delay_us(0, std::chrono::microseconds(options.jitter).count());
    for (std::size_t k = 0; k + 1 < packets.size(); ++k) {
      if (chance(rng) < options.reorder) {
        std::swap(packets[k].at, packets[k + 1].at);
        ++k;  // a packet moves at most one place
      }
    }
    std::vector<scheduled> out;
    for (auto& p : packets) {
      if (chance(rng) < options.loss) {
        ++lost;
        continue;
      }
      p.at += std::chrono::microseconds(delay_us(rng));
      if (chance(rng) < options.duplicate) out.push_back(p);
      out.push_back(std::move(p));
    }
    std::stable_sort(out.begin(), out.end(), [](const scheduled& a, const scheduled& b) { return a.at < b.at; });
    pending += out.size();
    return out;
  }

  void enqueue(std::vector<scheduled> packets) {
    for (auto& p : packets) {
      auto pos = std::upper_bound(queue.begin(), queue.end(), p.at,
                                  [](clock::time_point t, const scheduled& s) { return t < s.at; });
      queue.insert(pos, std::move(p));
    }
    if (waiting && !queue.empty() && queue.front().at < timer.expiry()) timer.cancel();  // re-armed below
    pump();
  }

  void pump() {
    if (waiting || queue.empty()) return;
    waiting = true;
    timer.expires_at(queue.front().at);
    timer.async_wait([this](error_code ec) {
      waiting = false;
      if (!socket.is_open()) return;
      if (!ec) send_due();
      pump();
    });
  }

  void send_due() {
    const auto now = clock::now();
    while (!queue.empty() && queue.front().at <= now) {
      auto& s = queue.front();
      udp::endpoint to;
      {
        std::lock_guard lock(mu);
        to = target;
      }
      error_code ignored;
      socket.send_to(net::buffer(s.bytes), to, 0, ignored);
      {
        std::lock_guard lock(mu);
        sent.push_back(rtp_peer_sent{s.sequence, s.timestamp, clock::now()});
        --pending;
      }
      cv.notify_all();
      queue.pop_front();
    }
  }

  // Arrival times come from the kernel (SO_TIMESTAMPNS): the moment the
  // datagram reached the socket, not when this peer's thread got to run —
  // with a hundred peers on two cores the difference is several ms.
  void read() {
    socket.async_wait(udp::socket::wait_read, [this](error_code ec) {
      if (ec == net::error::operation_aborted || !socket.is_open()) return;
      if (!ec) drain();
      read();
    });
  }

  void drain() {
    for (;;) {
      sockaddr_storage addr{};
      iovec iov{rx.data(), rx.size()};
      alignas(cmsghdr) char control[CMSG_SPACE(sizeof(timespec))];
      msghdr msg{};
      msg.msg_name = &addr;
      msg.msg_namelen = sizeof addr;
      msg.msg_iov = &iov;
      msg.msg_iovlen = 1;
      msg.msg_control = control;
      msg.msg_controllen = sizeof control;
      ssize_t n = ::recvmsg(socket.native_handle(), &msg, MSG_DONTWAIT);
      if (n < 0) return;  // EAGAIN: drained
      auto arrival = clock::now();
      for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
          timespec ts;
          std::memcpy(&ts, CMSG_DATA(c), sizeof ts);
          auto kernel = std::chrono::system_clock::time_point(
              std::chrono::duration_cast<std::chrono::system_clock::duration>(
                  std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec)));
          auto waited = std::chrono::system_clock::now() - kernel;
          if (waited > std::chrono::system_clock::duration::zero())
            arrival -= std::chrono::duration_cast<clock::duration>(waited);
        }
      }
      if (addr.ss_family == AF_INET) {
        auto* in = reinterpret_cast<sockaddr_in*>(&addr);
        from = udp::endpoint(net::ip::address_v4(ntohl(in->sin_addr.s_addr)), ntohs(in->sin_port));
      }
      record(static_cast<std::size_t>(n), arrival);
    }
  }

  void record(std::size_t n, clock::time_point arrival) {
    rtp_peer_packet p;
    p.arrival = arrival;
    p.source = from.address().to_string() + ":" + std::to_string(from.port());
    p.bytes.assign(rx.begin(), rx.begin() + static_cast<long>(n));
    const std::size_t header = n >= 12 ? 12u + 4u * (p.bytes[0] & 0x0fu) : 0;
    p.is_rtp = n >= 12 && (p.bytes[0] >> 6) == 2 && header <= n;
    bool dynamic = false;
    if (p.is_rtp) {
      p.marker = (p.bytes[1] & 0x80u) != 0;
      p.payload_type = static_cast<std::uint8_t>(p.bytes[1] & 0x7fu);
      p.sequence = static_cast<std::uint16_t>(get_be(p.bytes, 2, 2));
      p.timestamp = get_be(p.bytes, 4, 4);
      p.ssrc = get_be(p.bytes, 8, 4);
      p.payload.assign(p.bytes.begin() + static_cast<long>(header), p.bytes.end());
      const int pt = p.payload_type;
      dynamic = pt >= first_dynamic_pt;
      const bool linear = pt == 10 || pt == 11;
      p.played = pt == 0 || pt == 8 || (linear && p.payload.size() % 2 == 0);
    }
    {
      std::lock_guard lock(mu);
      if (dynamic) ++dynamic_dropped;
      received.push_back(std::move(p));
    }
    cv.notify_all();
  }
};

rtp_peer::rtp_peer(rtp_peer_options o) : impl_(std::make_unique<impl>(std::move(o))) {}

rtp_peer::~rtp_peer() {
  net::post(impl_->ioc, [i = impl_.get()] {
    error_code ignored;
    i->socket.close(ignored);
    i->timer.cancel();
    i->work.reset();
  });
  impl_->thread.join();
}

std::uint16_t rtp_peer::port() const { return impl_->socket.local_endpoint().port(); }

int rtp_peer::sample_rate() const { return impl_->wire.rate_hz; }

void rtp_peer::set_target(std::uint16_t port) {
  std::lock_guard lock(impl_->mu);
  impl_->target = udp::endpoint(net::ip::make_address("127.0.0.1"), port);
}

void rtp_peer::play(std::vector<std::int16_t> pcm) {
  std::vector<scheduled> packets;
  {
    std::lock_guard lock(impl_->mu);
    packets = impl_->plan(pcm);
  }
  net::post(impl_->ioc, [i = impl_.get(), p = std::move(packets)]() mutable { i->enqueue(std::move(p)); });
}

testing::AssertionResult rtp_peer::play_wav(const std::filesystem::path& path) {
  std::string why;
  auto wav = audio::read_wav(path, &why);
  if (!wav) return testing::AssertionFailure() << "rtp_peer: " << path << ": " << why;
  if (wav->sample_rate_hz != sample_rate()) {
    return testing::AssertionFailure() << "rtp_peer: " << path << " is at " << wav->sample_rate_hz
                                       << " Hz, the stream at " << sample_rate() << " Hz";
  }
  play(std::move(wav->samples));
  return testing::AssertionSuccess();
}

void rtp_peer::send_raw(std::vector<std::uint8_t> datagram) {
  net::post(impl_->ioc, [i = impl_.get(), d = std::move(datagram)] {
    udp::endpoint to;
    {
      std::lock_guard lock(i->mu);
      to = i->target;
    }
    error_code ignored;
    i->socket.send_to(net::buffer(d), to, 0, ignored);
  });
}

testing::AssertionResult rtp_peer::wait_for_played(std::chrono::milliseconds timeout) {
  return impl_->wait(timeout, [&] { return impl_->pending == 0; }, "every scheduled packet to leave");
}

testing::AssertionResult rtp_peer::wait_for_received(std::size_t n, std::chrono::milliseconds timeout) {
  return impl_->wait(timeout, [&] { return impl_->received.size() >= n; }, std::to_string(n) + " datagram(s)");
}

std::vector<rtp_peer_packet> rtp_peer::received() const {
  std::lock_guard lock(impl_->mu);
  return impl_->received;
}

std::vector<std::chrono::microseconds> rtp_peer::inter_arrival_gaps() const {
  std::vector<std::chrono::microseconds> gaps;
  std::optional<clock::time_point> previous;
  for (const auto& p : received()) {
    if (!p.played) continue;
    if (previous) gaps.push_back(std::chrono::duration_cast<std::chrono::microseconds>(p.arrival - *previous));
    previous = p.arrival;
  }
  return gaps;
}

std::vector<std::int16_t> rtp_peer::decoded() const {
  std::vector<std::int16_t> pcm;
  for (const auto& p : received()) {
    if (!p.played) continue;
    const std::size_t at = pcm.size();
    if (p.payload_type == 0 || p.payload_type == 8) {
      pcm.resize(at + p.payload.size());
      auto out = std::span<std::int16_t>(pcm).subspan(at);
      if (p.payload_type == 0) {
        audio::ulaw_decode(p.payload, out);
      } else {
        audio::alaw_decode(p.payload, out);
      }
    } else {
      for (std::size_t b = 0; b + 1 < p.payload.size(); b += 2) {
        pcm.push_back(static_cast<std::int16_t>(get_be(p.payload, b, 2)));
      }
    }
  }
  return pcm;
}

std::size_t rtp_peer::dropped_dynamic() const {
  std::lock_guard lock(impl_->mu);
  return impl_->dynamic_dropped;
}

std::vector<rtp_peer_sent> rtp_peer::sent() const {
  std::lock_guard lock(impl_->mu);
  return impl_->sent;
}

std::size_t rtp_peer::lost_on_purpose() const {
  std::lock_guard lock(impl_->mu);
  return impl_->lost;
}

}  // namespace npcl::fakes
