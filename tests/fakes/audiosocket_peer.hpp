#pragma once
// Asterisk's side of an AudioSocket externalMedia channel (asterisk-media.md §2):
// a TCP client that connects to the daemon, identifies itself with the call's
// UUID, sends caller audio as 0x10/0x12 frames at real-time pace and DTMF as
// 0x03, records what the daemon sends with arrival times, and ends by closing
// TCP like the real one. It frames bytes itself (not with the daemon's code),
// so the two sides check each other. Its own io_context runs on its own
// thread; every method may be called from the test thread.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace npcl::fakes {

class audiosocket_peer {
 public:
  /// One message received from the daemon.
  struct message {
    std::uint8_t kind = 0;                           ///< AudioSocket kind byte
    std::vector<std::uint8_t> payload;               ///< payload as received
    std::chrono::steady_clock::time_point arrived;   ///< when its last byte was read
  };

  /// How send_audio() writes its frames.
  struct audio_options {
    std::uint8_t kind = 0x10;                     ///< 0x10 slin, 0x12 slin16, 0x13 slin24
    std::size_t samples_per_frame = 160;          ///< samples per message (20 ms at the kind's rate)
    std::chrono::microseconds pace{20'000};       ///< one message per this interval
    /// Split writes at odd byte offsets (inside headers and payloads) and
    /// sometimes hold a frame to coalesce it with the next, as TCP may.
    bool fragment = false;
  };

  /// Starts the peer's thread; nothing is connected yet.
  audiosocket_peer();
  /// Closes the connection and joins the thread.
  ~audiosocket_peer();
  audiosocket_peer(const audiosocket_peer&) = delete;
  audiosocket_peer& operator=(const audiosocket_peer&) = delete;

  /// Connects to host:port, failing after `timeout`.
  testing::AssertionResult connect(const std::string& host, std::uint16_t port,
                                   std::chrono::milliseconds timeout = std::chrono::seconds(2));

  // The send_* calls and close() queue their work in order: audio is paced,
  // so a digit queued after audio is sent after its last frame.

  /// Sends the id message 0x01 with the 16 raw bytes of `uuid` (canonical text).
  void send_id(const std::string& uuid);
  /// Sends `signal` cut into frames of options.samples_per_frame (the last
  /// one may be short), s16 little-endian, one frame per options.pace.
  void send_audio(const std::vector<std::int16_t>& signal, const audio_options& options);
  /// Sends a DTMF message (0x03) carrying `digit`.
  void send_dtmf(char digit);
  /// Writes `bytes` as they are (for malformed input).
  void send_raw(std::vector<std::uint8_t> bytes);
  /// Closes TCP after everything queued before it was written, as Asterisk
  /// does on hangup (it sends no 0x00).
  void close();

  /// Waits until at least `count` audio messages (kinds 0x10–0x18) arrived.
  testing::AssertionResult wait_for_audio(std::size_t count, std::chrono::milliseconds timeout);
  /// Waits until the daemon sent the hangup message 0x00.
  testing::AssertionResult wait_for_hangup(std::chrono::milliseconds timeout);
  /// Waits until the daemon closed the connection (EOF or reset).
  testing::AssertionResult wait_for_closed(std::chrono::milliseconds timeout);
  /// Waits until everything queued so far has been written.
  testing::AssertionResult wait_for_sent(std::chrono::milliseconds timeout);

  /// Every message received so far, in order.
  std::vector<message> received() const;
  /// Audio messages received so far, in order.
  std::vector<message> audio() const;
  /// The samples of every audio message received, concatenated.
  std::vector<std::int16_t> audio_samples() const;

 private:
  struct impl;
  std::shared_ptr<impl> impl_;  ///< thread, socket and records; shared with pending operations
};

}  // namespace npcl::fakes
