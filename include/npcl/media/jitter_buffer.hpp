#pragma once
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "npcl/audio/frame.hpp"
#include "npcl/media/rtp_packet.hpp"

namespace npcl::media {

/// Puts one RTP stream's decoded frames back in sequence order and keeps the
/// caller's audio continuous in time. Event-driven, because Asterisk sends
/// nothing while the caller is silent: a packet in order is released at once;
/// after a gap up to `depth` later packets are held waiting for the missing
/// one, then it is declared lost and concealed. Ordering and loss go by
/// sequence number only: a timestamp jump with consecutive sequence numbers is
/// a pause of the source (Asterisk marks it), not loss. Frames keep their own
/// rate and length (a short last packet stays short).
///
/// Concealment repeats the previous frame at half the amplitude, then a
/// quarter, then silence for longer bursts. A lone lost 20 ms inside a vowel
/// is then barely audible and does not cut a word in two for the speech
/// recogniser, where a hole of digital silence would click at both edges;
/// the decay keeps a burst of losses from turning into a buzz.
///
/// Not thread-safe: owned by one call's strand.
class jitter_buffer {
 public:
  using clock = std::chrono::steady_clock;

  /// Packets held after a gap before the missing one is declared lost (3 × 20 ms).
  static constexpr std::size_t default_depth = 3;
  /// A forward jump larger than this many packets (1 s at 20 ms) is the source
  /// renumbering its stream, not 50 losses: it restarts the buffer unconcealed.
  static constexpr int max_gap = 50;
  /// How many recent sequence numbers are remembered to tell a duplicate
  /// (released) from a late packet (concealed).
  static constexpr std::size_t history_size = 128;

  /// What happened to the stream so far, for media_stats.
  struct counters {
    std::uint64_t lost = 0;          ///< sequence numbers declared lost and concealed
    std::uint64_t reordered = 0;     ///< packets that arrived after a later one and were put back in order
    std::uint64_t duplicated = 0;    ///< copies of a packet already released or held, dropped
    std::uint64_t late = 0;          ///< packets whose slot was already concealed (or too old), dropped
    std::uint64_t ssrc_changes = 0;  ///< times the SSRC changed and the buffer restarted
    double jitter_ms = 0;            ///< RFC 3550 §6.4.1 interarrival jitter estimate (milliseconds)
  };

  /// `depth` packets may be held after a gap (0: every gap is loss at once);
  /// `ptime` is the nominal packet duration, so a gap is also given up after
  /// depth × ptime when no further packet arrives (see hold_deadline()).
  explicit jitter_buffer(std::size_t depth = default_depth,
                         std::chrono::microseconds ptime = std::chrono::milliseconds(20));

  /// Takes one received packet (`header` gives sequence, timestamp, SSRC; its
  /// payload is not used) with its decoded audio, whose sample rate must be
  /// the RTP clock rate of its payload type, and the time it arrived. Appends
  /// to `out`, in order, every frame now due: released packets and
  /// concealment for lost ones. Duplicates and late packets append nothing.
  void push(const rtp_packet& header, audio::frame audio, clock::time_point arrival,
            std::vector<audio::frame>& out);

  /// When the oldest held packet has waited depth × ptime, or nullopt when
  /// nothing is held. The owner calls expire() then (Asterisk may send nothing
  /// more for seconds, and the held audio must not wait for the next word).
  std::optional<clock::time_point> hold_deadline() const;

  /// Gives up on the gaps whose held packets have waited past their deadline
  /// at `now`: conceals the missing packets and appends the held ones to `out`.
  void expire(clock::time_point now, std::vector<audio::frame>& out);

  /// Packets currently held behind a gap.
  std::size_t held() const noexcept { return held_.size(); }

  /// Counters so far.
  counters stats() const noexcept { return counters_; }

 private:
  enum class slot_state : std::uint8_t { unknown, released, concealed };
  struct slot {
    std::uint16_t sequence = 0;            ///< sequence number the state belongs to
    slot_state state = slot_state::unknown;  ///< what was done with it
  };
  struct held_packet {
    std::uint16_t sequence = 0;   ///< its sequence number
    audio::frame audio;           ///< decoded audio
    clock::time_point arrival;    ///< when it arrived (steady clock)
  };

  void restart(const rtp_packet& header, audio::frame audio, std::vector<audio::frame>& out);
  void update_jitter(const rtp_packet& header, int clock_rate_hz, clock::time_point arrival);
  void release(audio::frame audio, std::vector<audio::frame>& out);
  void conceal_next(std::vector<audio::frame>& out);
  void drain_in_order(std::vector<audio::frame>& out);
  void skip_to_first_held(std::vector<audio::frame>& out);
  void flush(std::vector<audio::frame>& out);
  void remember(std::uint16_t sequence, slot_state state);

  std::size_t depth_;                   ///< packets held after a gap before giving up on it
  std::chrono::microseconds max_wait_;  ///< depth × ptime: longest a held packet waits (µs)
  bool started_ = false;                ///< a first packet set next_ and ssrc_
  std::uint32_t ssrc_ = 0;              ///< SSRC of the current stream
  std::uint16_t next_ = 0;              ///< sequence number due next
  std::uint16_t highest_ = 0;           ///< newest sequence number seen, to spot reordering
  std::vector<held_packet> held_;       ///< packets after a gap, unordered (at most depth + 1)
  std::array<slot, history_size> history_{};  ///< recent slots, indexed by sequence % history_size
  audio::frame last_;                   ///< last frame released, source of concealment
  int conceal_run_ = 0;                 ///< consecutive concealed frames so far
  bool have_transit_ = false;           ///< last_arrival_/last_timestamp_ are set
  clock::time_point last_arrival_;      ///< arrival of the previous packet (any order)
  std::uint32_t last_timestamp_ = 0;    ///< RTP timestamp of the previous packet
  double jitter_units_ = 0;             ///< jitter estimate in timestamp units
  counters counters_;                   ///< exported counters
};

}  // namespace npcl::media
