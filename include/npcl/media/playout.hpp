#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "npcl/audio/audio_format.hpp"
#include "npcl/audio/frame.hpp"
#include "npcl/util/net.hpp"

namespace npcl::media {

/// Counters of one call's assistant audio, for the call summary and /metrics.
struct playout_stats {
  std::uint64_t frames_sent = 0;     ///< frames handed to the sink
  std::uint64_t late_sends = 0;      ///< frames handed over more than 2 ms after their deadline
  std::uint64_t underruns = 0;       ///< times the queue ran dry while an item still had audio to come
  std::uint64_t dropped_frames = 0;  ///< oldest frames dropped because the queue was full
  std::uint64_t resyncs = 0;         ///< stalls too long to catch up: the schedule moved to now
  double max_lateness_ms = 0;        ///< worst lateness of a frame after its deadline (milliseconds)
};

/// How much of one assistant item the caller really heard before a flush.
struct flushed_item {
  std::string item_id;               ///< the Realtime response item
  std::chrono::milliseconds played;  ///< audio of it handed to the sink (milliseconds)
};

/// Paces assistant audio to the call: audio arrives in bursts much faster
/// than real time, and RTP/AudioSocket forward bursts to the caller as they
/// are, so frames leave one per ptime on absolute steady-clock deadlines
/// (see pacer for the catch-up and stall policy). Lives on the call's strand:
/// every method must be called there, and the sink and completions run there.
/// Destroying the playout stops it; pending timer handlers hold only a
/// weak reference, so a playout never keeps a call alive.
class playout {
 public:
  /// Receives each frame when it is due; `first_of_spurt` is true for the
  /// first frame after a pause (RTP marker bit). May call back into the
  /// playout (flush, push, stop).
  using sink = std::function<void(const audio::frame&, bool first_of_spurt)>;

  /// `format` must be valid and mono (std::invalid_argument otherwise); at most
  /// `max_queued_frames` (≥ 1) whole frames wait to be sent. Timers use `strand`.
  playout(executor strand, audio::audio_format format, std::size_t max_queued_frames, sink s);
  ~playout();
  playout(const playout&) = delete;
  playout& operator=(const playout&) = delete;

  /// Appends PCM16 of response item `item_id` at format's rate, any length;
  /// it is cut into ptime frames, and a partial tail is kept until more audio
  /// of the same item arrives or end_item() pads it. Items play in the order
  /// their frames complete. When the queue is full the oldest frames are
  /// dropped and counted. Audio of an item already flushed is discarded (the
  /// deltas of a cancelled response still in flight), as is anything after
  /// stop() or end_item() of the same item.
  void push(const std::string& item_id, std::span<const std::int16_t> pcm);

  /// No more audio for `item_id`: its partial tail is padded with silence to a
  /// whole frame and queued. Idempotent.
  void end_item(const std::string& item_id);

  /// Barge-in: drops everything queued (frames and partial tails) at once; no
  /// frame is sent afterwards until new audio is pushed. Returns, for each
  /// item touched since the last flush, in the order first pushed, how much of
  /// it was handed to the sink — what conversation.item.truncate needs.
  /// Pending on_item_played completions for those items get `false`.
  std::vector<flushed_item> flush();

  /// `done` runs on the strand when every frame of `item_id` queued so far
  /// has left the queue (sent, or dropped by overflow): right after the sink
  /// took its last frame. If that is already so (or nothing of it was pushed)
  /// it is posted at once with `true`; with `false` if the item is flushed or
  /// the playout stopped first.
  void on_item_played(const std::string& item_id, std::function<void(bool played)> done);

  /// Audio waiting to be sent (whole frames only), milliseconds.
  std::chrono::milliseconds queued() const;

  /// True when no frame waits to be sent.
  bool idle() const;

  /// Counters so far.
  playout_stats stats() const;

  /// Cancels the timer and drops queued audio; nothing is sent afterwards and
  /// later pushes are ignored. Pending on_item_played completions are posted
  /// with `false`. Idempotent.
  void stop();

 private:
  struct impl;
  std::shared_ptr<impl> impl_;  ///< state shared weakly with timer handlers
};

}  // namespace npcl::media
