#include "fakes/audiosocket_peer.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "npcl/util/ids.hpp"

namespace npcl::fakes {
namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;
using steady = std::chrono::steady_clock;

// Asterisk's framing, written here independently of the daemon's code.
std::vector<std::uint8_t> frame_message(std::uint8_t kind, const std::uint8_t* payload, std::size_t n) {
  std::vector<std::uint8_t> out{kind, static_cast<std::uint8_t>(n >> 8), static_cast<std::uint8_t>(n & 0xff)};
  out.insert(out.end(), payload, payload + n);
  return out;
}

std::vector<std::uint8_t> frame_audio(std::uint8_t kind, const std::int16_t* samples, std::size_t count) {
  std::vector<std::uint8_t> payload;
  payload.reserve(count * 2);
  for (std::size_t i = 0; i < count; ++i) {
    const auto u = static_cast<std::uint16_t>(samples[i]);
    payload.push_back(static_cast<std::uint8_t>(u & 0xff));  // little-endian on AudioSocket
    payload.push_back(static_cast<std::uint8_t>(u >> 8));
  }
  return frame_message(kind, payload.data(), payload.size());
}

bool is_audio(std::uint8_t kind) { return kind >= 0x10 && kind <= 0x18; }

// One queued piece of work for the writer, done in order.
struct job {
  enum class type { bytes, audio, close } what = type::bytes;
  std::vector<std::uint8_t> bytes;          // type::bytes
  std::vector<std::int16_t> signal;         // type::audio
  audiosocket_peer::audio_options options;  // type::audio
};

}  // namespace

struct audiosocket_peer::impl {
  net::io_context ioc;
  net::executor_work_guard<net::io_context::executor_type> work = net::make_work_guard(ioc);
  tcp::socket socket{ioc};
  net::steady_timer pace_timer{ioc};
  std::thread thread;

  // io thread only
  std::deque<job> jobs;         // waiting for the writer
  bool writer_running = false;  // the writer coroutine is active
  bool stopping = false;        // the peer is being destroyed
  bool closed_locally = false;  // we closed the socket (close() or destruction)

  // shared with the test thread
  mutable std::mutex mutex;
  std::condition_variable changed;
  bool connected = false;
  error_code connect_error;
  bool connect_done = false;
  std::vector<message> messages;  // received from the daemon
  bool closed_by_daemon = false;  // EOF or error while reading
  std::size_t jobs_queued = 0;    // accepted by a send_* or close() call
  std::size_t jobs_done = 0;      // finished by the writer

  template <class Pred>
  testing::AssertionResult wait(std::chrono::milliseconds timeout, Pred pred, const std::string& what) {
    std::unique_lock lock(mutex);
    if (changed.wait_for(lock, timeout, pred)) return testing::AssertionSuccess();
    return testing::AssertionFailure() << "audiosocket_peer: " << what << " not seen within " << timeout.count()
                                       << " ms (" << messages.size() << " messages received, "
                                       << (closed_by_daemon ? "closed" : "open") << ")";
  }

  void enqueue(job j) {
    {
      std::lock_guard lock(mutex);
      ++jobs_queued;
    }
    net::post(ioc, [this, j = std::move(j)]() mutable {
      jobs.push_back(std::move(j));
      if (!writer_running) {
        writer_running = true;
        net::co_spawn(ioc, writer(), net::detached);
      }
    });
  }

  void job_finished() {
    std::lock_guard lock(mutex);
    ++jobs_done;
    changed.notify_all();
  }

  net::awaitable<bool> write(const std::uint8_t* p, std::size_t n) {
    if (n == 0) co_return true;
    auto [ec, written] = co_await net::async_write(socket, net::buffer(p, n), net::as_tuple(net::use_awaitable));
    co_return !ec;
  }

  net::awaitable<void> writer() {
    while (!jobs.empty() && !stopping) {
      job j = std::move(jobs.front());
      jobs.pop_front();
      switch (j.what) {
        case job::type::bytes:
          co_await write(j.bytes.data(), j.bytes.size());
          break;
        case job::type::audio:
          co_await write_audio(j);
          break;
        case job::type::close: {
          closed_locally = true;
          error_code ignored;
          socket.close(ignored);
          break;
        }
      }
      job_finished();
    }
    writer_running = false;
  }

  // Frames k go out at start + k × pace. With fragmentation the bytes of each
  // tick are cut so that headers and payloads are split at odd offsets, and
  // every fifth frame is held back to be coalesced with the next.
  net::awaitable<void> write_audio(const job& j) {
    const auto& o = j.options;
    const std::size_t per = std::max<std::size_t>(o.samples_per_frame, 1);
    const auto start = steady::now();
    std::vector<std::uint8_t> carry;
    std::size_t k = 0;
    for (std::size_t at = 0; at < j.signal.size() && !stopping; at += per, ++k) {
      pace_timer.expires_at(start + k * o.pace);
      co_await pace_timer.async_wait(net::as_tuple(net::use_awaitable));  // cancelled only when stopping
      if (stopping) co_return;
      auto frame = frame_audio(o.kind, j.signal.data() + at, std::min(per, j.signal.size() - at));
      if (!o.fragment) {
        if (!co_await write(frame.data(), frame.size())) co_return;
        continue;
      }
      const std::size_t before = carry.size();
      carry.insert(carry.end(), frame.begin(), frame.end());
      std::size_t cut = carry.size();  // bytes written now; the rest waits for the next tick
      switch (k % 5) {
        case 1: cut = before + 1; break;  // after the kind byte
        case 2: cut = before + 2; break;  // inside the length
        case 3: cut = 0; break;           // hold: coalesced with the next frame
        case 4: cut = std::min(carry.size(), before + 3 + 2 * (k % 7) + 1); break;  // odd payload offset
        default: break;
      }
      if (!co_await write(carry.data(), cut)) co_return;
      carry.erase(carry.begin(), carry.begin() + static_cast<std::ptrdiff_t>(cut));
    }
    co_await write(carry.data(), carry.size());
  }

  // Reads whole messages with its own framing until the daemon closes.
  net::awaitable<void> reader() {
    for (;;) {
      std::uint8_t header[3];
      auto [ec, n] = co_await net::async_read(socket, net::buffer(header), net::as_tuple(net::use_awaitable));
      message m;
      if (!ec) {
        m.kind = header[0];
        m.payload.resize((std::size_t{header[1]} << 8) | header[2]);
        auto [ec2, n2] = co_await net::async_read(socket, net::buffer(m.payload), net::as_tuple(net::use_awaitable));
        ec = ec2;
      }
      std::lock_guard lock(mutex);
      if (ec) {
        closed_by_daemon = !closed_locally;
        changed.notify_all();
        co_return;
      }
      m.arrived = steady::now();
      messages.push_back(std::move(m));
      changed.notify_all();
    }
  }
};

audiosocket_peer::audiosocket_peer() : impl_(std::make_shared<impl>()) {
  impl_->thread = std::thread([i = impl_.get()] { i->ioc.run(); });
}

audiosocket_peer::~audiosocket_peer() {
  auto* i = impl_.get();
  // Let every coroutine end on its own so none outlives the members it uses.
  net::post(i->ioc, [i] {
    i->stopping = true;
    i->closed_locally = true;
    i->jobs.clear();
    error_code ignored;
    i->socket.close(ignored);
    i->pace_timer.cancel();
  });
  i->work.reset();
  i->thread.join();
}

testing::AssertionResult audiosocket_peer::connect(const std::string& host, std::uint16_t port,
                                                   std::chrono::milliseconds timeout) {
  auto* i = impl_.get();
  net::post(i->ioc, [i, host, port] {
    error_code ec;
    tcp::endpoint target(net::ip::make_address(host, ec), port);
    if (ec) {
      std::lock_guard lock(i->mutex);
      i->connect_error = ec;
      i->connect_done = true;
      i->changed.notify_all();
      return;
    }
    i->socket.async_connect(target, [i](error_code ec) {
      if (!ec) {
        i->socket.set_option(tcp::no_delay(true), ec);  // as Asterisk does
        ec = {};
        net::co_spawn(i->ioc, i->reader(), net::detached);
      }
      std::lock_guard lock(i->mutex);
      i->connect_error = ec;
      i->connected = !ec;
      i->connect_done = true;
      i->changed.notify_all();
    });
  });
  auto done = i->wait(timeout, [i] { return i->connect_done; }, "connection to " + host);
  if (!done) return done;
  std::lock_guard lock(i->mutex);
  if (i->connect_error)
    return testing::AssertionFailure() << "audiosocket_peer: connect to " << host << ":" << port << ": "
                                       << i->connect_error.message();
  return testing::AssertionSuccess();
}

void audiosocket_peer::send_id(const std::string& uuid) {
  unsigned char raw[16] = {};
  EXPECT_TRUE(util::parse_uuid(uuid, raw)) << "not a UUID: " << uuid;
  job j;
  j.bytes = frame_message(0x01, raw, sizeof raw);
  impl_->enqueue(std::move(j));
}

void audiosocket_peer::send_audio(const std::vector<std::int16_t>& signal, const audio_options& options) {
  job j;
  j.what = job::type::audio;
  j.signal = signal;
  j.options = options;
  impl_->enqueue(std::move(j));
}

void audiosocket_peer::send_dtmf(char digit) {
  const auto d = static_cast<std::uint8_t>(digit);
  job j;
  j.bytes = frame_message(0x03, &d, 1);
  impl_->enqueue(std::move(j));
}

void audiosocket_peer::send_raw(std::vector<std::uint8_t> bytes) {
  job j;
  j.bytes = std::move(bytes);
  impl_->enqueue(std::move(j));
}

void audiosocket_peer::close() {
  job j;
  j.what = job::type::close;
  impl_->enqueue(std::move(j));
}

testing::AssertionResult audiosocket_peer::wait_for_audio(std::size_t count, std::chrono::milliseconds timeout) {
  auto* i = impl_.get();
  return i->wait(
      timeout,
      [i, count] {
        std::size_t n = 0;
        for (const auto& m : i->messages) n += is_audio(m.kind) ? 1 : 0;
        return n >= count;
      },
      std::to_string(count) + " audio messages");
}

testing::AssertionResult audiosocket_peer::wait_for_hangup(std::chrono::milliseconds timeout) {
  auto* i = impl_.get();
  return i->wait(
      timeout,
      [i] {
        for (const auto& m : i->messages)
          if (m.kind == 0x00) return true;
        return false;
      },
      "hangup message");
}

testing::AssertionResult audiosocket_peer::wait_for_closed(std::chrono::milliseconds timeout) {
  auto* i = impl_.get();
  return i->wait(timeout, [i] { return i->closed_by_daemon; }, "close by the daemon");
}

testing::AssertionResult audiosocket_peer::wait_for_sent(std::chrono::milliseconds timeout) {
  auto* i = impl_.get();
  return i->wait(timeout, [i] { return i->jobs_done == i->jobs_queued; }, "end of queued writes");
}

std::vector<audiosocket_peer::message> audiosocket_peer::received() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->messages;
}

std::vector<audiosocket_peer::message> audiosocket_peer::audio() const {
  std::vector<message> out;
  std::lock_guard lock(impl_->mutex);
  for (const auto& m : impl_->messages)
    if (is_audio(m.kind)) out.push_back(m);
  return out;
}

std::vector<std::int16_t> audiosocket_peer::audio_samples() const {
  std::vector<std::int16_t> out;
  for (const auto& m : audio())
    for (std::size_t b = 0; b + 1 < m.payload.size(); b += 2)
      out.push_back(static_cast<std::int16_t>(static_cast<std::uint16_t>(m.payload[b] | (m.payload[b + 1] << 8))));
  return out;
}

}  // namespace npcl::fakes
