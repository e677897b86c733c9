#pragma once
// Asterisk's side of an externalMedia RTP channel, for tests: a UDP socket on
// 127.0.0.1 (its port is what fake_ari_server reports as UNICASTRTP_LOCAL_PORT)
// that sends caller audio the way the captured Asterisk does (20 ms packets at
// real-time pace on absolute deadlines, first timestamp = one packet of
// samples, random first sequence number) with optional, seeded network faults,
// and records what it receives. Where the real Asterisk departs from the RFCs
// it does too: a dynamic payload type (PT 118 for slin16...) is dropped, as a
// UnicastRTP channel has no receive mapping for it. Unlike Asterisk's strict
// RTP it accepts datagrams from anyone, but records each one's source.
//
// The peer runs its own io_context thread, so a test may block in the
// wait_for_x calls; every observation is a thread-safe snapshot.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace npcl::fakes {

/// What the peer sends and what goes wrong on the way.
struct rtp_peer_options {
  std::string format = "ulaw";              ///< Asterisk format it sends: ulaw alaw slin slin16 slin24
  int payload_type = -1;                    ///< PT on the wire; -1: Asterisk's for `format` (0 8 10 118 123)
  std::chrono::milliseconds ptime{20};      ///< audio per packet (milliseconds)
  double loss = 0;                          ///< probability (0..1) that a packet is never sent
  double reorder = 0;                       ///< probability (0..1) that a packet swaps places with the next
  double duplicate = 0;                     ///< probability (0..1) that a packet is sent twice
  std::chrono::milliseconds jitter{0};      ///< each packet leaves up to this much late (uniform)
  std::uint32_t seed = 1;                   ///< seeds SSRC, first sequence number and faults
};

/// One datagram the peer received.
struct rtp_peer_packet {
  std::chrono::steady_clock::time_point arrival;  ///< when it was read (steady clock)
  std::string source;                 ///< sender as "ip:port"
  std::vector<std::uint8_t> bytes;    ///< the whole datagram
  bool is_rtp = false;                ///< has a version-2 RTP header; the fields below are valid
  bool marker = false;                ///< M bit
  std::uint8_t payload_type = 0;      ///< PT
  std::uint16_t sequence = 0;         ///< sequence number
  std::uint32_t timestamp = 0;        ///< RTP timestamp
  std::uint32_t ssrc = 0;             ///< SSRC
  std::vector<std::uint8_t> payload;  ///< audio bytes after the header and CSRCs
  bool played = false;                ///< Asterisk would play it: PT 0, 8, 10 or 11 with whole samples
};

/// One stream packet as the peer sent it (after the fault model).
struct rtp_peer_sent {
  std::uint16_t sequence = 0;                    ///< its sequence number
  std::uint32_t timestamp = 0;                   ///< its RTP timestamp
  std::chrono::steady_clock::time_point at;      ///< when it left (steady clock)
};

class rtp_peer {
 public:
  /// Binds 127.0.0.1:0 and starts its thread. Throws boost::system::system_error
  /// if no port can be bound, std::invalid_argument for an unknown format.
  explicit rtp_peer(rtp_peer_options o = {});
  /// Closes the socket and joins the thread; packets not yet sent are not sent.
  ~rtp_peer();
  rtp_peer(const rtp_peer&) = delete;
  rtp_peer& operator=(const rtp_peer&) = delete;

  /// The UDP port it sends from and receives on.
  std::uint16_t port() const;
  /// Sample rate of the audio it sends (Hz), implied by the format.
  int sample_rate() const;
  /// Where it sends: 127.0.0.1:`port` (the daemon's external_host port).
  void set_target(std::uint16_t port);

  /// Sends `pcm` (mono PCM16 at sample_rate()) encoded in ptime packets, the
  /// first now and one per ptime after on absolute deadlines, with the fault
  /// model applied. Returns at once. Successive plays continue the stream:
  /// same SSRC, sequence +1, and the first packet of a later play carries the
  /// marker and a timestamp advanced by the real time that passed, as
  /// Asterisk does after the caller paused. A short final packet stays short.
  void play(std::vector<std::int16_t> pcm);
  /// play() of a mono PCM16 WAV file at sample_rate(); fails if the file is
  /// unreadable or at another rate.
  testing::AssertionResult play_wav(const std::filesystem::path& path);
  /// Sends `datagram` at once, as it is (malformed input, foreign SSRCs...).
  void send_raw(std::vector<std::uint8_t> datagram);

  /// Waits until every packet of every play() so far has left.
  testing::AssertionResult wait_for_played(std::chrono::milliseconds timeout);
  /// Waits until at least `n` datagrams of any kind have been received.
  testing::AssertionResult wait_for_received(std::size_t n, std::chrono::milliseconds timeout);

  /// Every datagram received so far, in arrival order.
  std::vector<rtp_peer_packet> received() const;
  /// Time between consecutive played packets' arrivals.
  std::vector<std::chrono::microseconds> inter_arrival_gaps() const;
  /// The played packets' audio, decoded to 8 kHz PCM16 in arrival order.
  std::vector<std::int16_t> decoded() const;
  /// Received packets with a dynamic payload type (35..127), dropped unplayed.
  std::size_t dropped_dynamic() const;
  /// Stream packets that left, in sending order (a duplicate appears twice).
  std::vector<rtp_peer_sent> sent() const;
  /// Stream packets the loss model never sent.
  std::size_t lost_on_purpose() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;  ///< socket, thread and records
};

}  // namespace npcl::fakes
