#include "npcl/media/playout.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <deque>
#include <stdexcept>
#include <utility>

#include "npcl/media/pacer.hpp"
#include "npcl/obs/log.hpp"

namespace npcl::media {
namespace {

using clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr auto late_threshold = 2ms;         // a send later than this after its deadline is "late"
constexpr std::size_t flushed_memory = 32;   // recent flushed item ids whose late audio is discarded
constexpr std::uint64_t drop_log_every = 500;  // one overflow warning per this many dropped frames

// One assistant item touched since the last flush.
struct item_state {
  struct waiter {
    std::uint64_t target;               // frames of the item that must have left the queue
    std::function<void(bool)> done;     // completion from on_item_played
  };
  std::string id;                       // Realtime item id
  std::vector<std::int16_t> tail;       // samples short of a whole frame, waiting for more
  std::uint64_t queued = 0;             // whole frames of the item ever queued
  std::uint64_t sent = 0;               // of those, handed to the sink
  std::uint64_t dropped = 0;            // of those, dropped by overflow
  bool ended = false;                   // end_item() seen: no more audio will come
  std::vector<waiter> waiters;          // pending on_item_played completions
};

struct queued_frame {
  item_state* item;    // owner item (stable: items are held by unique_ptr until flush)
  audio::frame frame;  // one ptime of PCM16
};

}  // namespace

struct playout::impl : std::enable_shared_from_this<impl> {
  impl(executor ex, audio::audio_format format, std::size_t max_queued, sink s)
      : ex_(ex),
        timer_(ex),
        format_(format),
        frame_samples_(format.samples_per_frame()),
        max_queued_(std::max<std::size_t>(max_queued, 1)),
        sink_(std::move(s)),
        pacer_(std::chrono::milliseconds(format.ptime_ms)) {}

  executor ex_;                          // the call's strand
  net::steady_timer timer_;              // wakes at the next frame deadline
  audio::audio_format format_;           // rate and ptime of the frames
  std::size_t frame_samples_;            // samples per frame
  std::size_t max_queued_;               // queue bound, frames
  sink sink_;                            // where due frames go
  pacer pacer_;                          // deadline arithmetic of the current spurt
  std::deque<queued_frame> queue_;       // whole frames waiting, oldest first
  std::vector<std::unique_ptr<item_state>> items_;  // touched since the last flush, first pushed first
  std::deque<std::string> flushed_ids_;  // recently flushed items, newest last
  playout_stats stats_;
  bool spurt_active_ = false;            // a spurt is running: the timer is (or is about to be) armed
  bool first_of_spurt_ = false;          // the next frame sent opens a spurt
  bool stopped_ = false;                 // stop() called: terminal
  std::uint64_t epoch_ = 0;              // bumped by flush/stop so stale wake-ups and send loops end
  item_state* last_sent_ = nullptr;      // item of the last frame sent in this spurt

  item_state* find(const std::string& id) {
    // The item being pushed is nearly always the newest one.
    for (auto it = items_.rbegin(); it != items_.rend(); ++it)
      if ((*it)->id == id) return it->get();
    return nullptr;
  }

  bool was_flushed(const std::string& id) const {
    return std::find(flushed_ids_.begin(), flushed_ids_.end(), id) != flushed_ids_.end();
  }

  void post_done(std::function<void(bool)> done, bool played) {
    net::post(ex_, [d = std::move(done), played] { d(played); });
  }

  // Completes the waiters the item's progress satisfies. Inline only from the
  // timer handler (right after the sink took the frame); elsewhere posted so
  // an initiating call never re-enters its caller.
  void settle(item_state& item, bool inline_call) {
    const auto left = item.sent + item.dropped;
    std::vector<std::function<void(bool)>> ready;
    auto& w = item.waiters;
    for (auto it = w.begin(); it != w.end();) {
      if (it->target <= left) {
        ready.push_back(std::move(it->done));
        it = w.erase(it);
      } else {
        ++it;
      }
    }
    for (auto& d : ready) {
      if (inline_call)
        d(true);
      else
        post_done(std::move(d), true);
    }
  }

  void enqueue(item_state& item, std::vector<std::int16_t> samples) {
    queue_.push_back({&item, audio::frame{std::move(samples), format_.sample_rate_hz}});
    ++item.queued;
    if (queue_.size() <= max_queued_) return;
    // Overflow: the oldest audio is the least useful to a caller who is
    // already waiting; drop it and keep the newest.
    item_state* victim = queue_.front().item;
    queue_.pop_front();
    ++victim->dropped;
    if (stats_.dropped_frames++ % drop_log_every == 0)
      spdlog::warn("playout queue full ({} frames): dropping the oldest audio, {} dropped so far", max_queued_,
                   stats_.dropped_frames);
    settle(*victim, false);
  }

  void begin_spurt_if_needed() {
    if (spurt_active_ || queue_.empty() || stopped_) return;
    // A new spurt starts on its own clock: the pause before it is not owed.
    spurt_active_ = true;
    first_of_spurt_ = true;
    last_sent_ = nullptr;
    const auto now = clock::now();
    pacer_.start(now);
    arm(now);
  }

  void arm(clock::time_point at) {
    timer_.expires_at(at);
    timer_.async_wait([w = weak_from_this(), epoch = epoch_](error_code ec) {
      if (auto self = w.lock()) self->on_timer(ec, epoch);
    });
  }

  void on_timer(error_code ec, std::uint64_t epoch) {
    if (ec || stopped_ || epoch != epoch_) return;
    if (queue_.empty()) {
      // Nothing for this deadline: the spurt ends, the next push opens a new one.
      spurt_active_ = false;
      if (last_sent_ && !last_sent_->ended) ++stats_.underruns;
      return;
    }
    const auto now = clock::now();
    const auto plan = pacer_.tick(now, queue_.size());
    if (plan.resynced) {
      ++stats_.resyncs;
      spdlog::warn("playout stalled for more than its catch-up allowance: schedule moved to now");
    }
    for (std::size_t i = 0; i < plan.frames && !queue_.empty(); ++i) {
      auto qf = std::move(queue_.front());
      queue_.pop_front();
      const auto lateness = now - (plan.first_deadline + pacer_.period() * static_cast<clock::rep>(i));
      if (lateness > late_threshold) ++stats_.late_sends;
      stats_.max_lateness_ms =
          std::max(stats_.max_lateness_ms, std::chrono::duration<double, std::milli>(lateness).count());
      ++stats_.frames_sent;
      ++qf.item->sent;
      last_sent_ = qf.item;
      sink_(qf.frame, std::exchange(first_of_spurt_, false));
      if (epoch != epoch_) return;  // the sink flushed or stopped
      settle(*qf.item, true);
      if (epoch != epoch_) return;  // a completion flushed or stopped
    }
    arm(plan.wake_at);
  }

  // Ends everything queued; waiters learn their item did not play.
  void drop_all() {
    ++epoch_;
    timer_.cancel();
    spurt_active_ = false;
    queue_.clear();
    last_sent_ = nullptr;
    for (auto& item : items_) {
      for (auto& w : item->waiters) post_done(std::move(w.done), false);
      item->waiters.clear();
      item->tail.clear();
    }
  }
};

playout::playout(executor strand, audio::audio_format format, std::size_t max_queued_frames, sink s) {
  if (!format.valid() || format.channels != 1)
    throw std::invalid_argument("playout needs a valid mono audio format");
  if (!s) throw std::invalid_argument("playout needs a sink");
  impl_ = std::make_shared<impl>(std::move(strand), format, max_queued_frames, std::move(s));
}

playout::~playout() { stop(); }

void playout::push(const std::string& item_id, std::span<const std::int16_t> pcm) {
  auto& d = *impl_;
  if (d.stopped_ || pcm.empty()) return;
  if (d.was_flushed(item_id)) {
    spdlog::debug("playout: discarding {} samples of flushed item {}", pcm.size(), item_id);
    return;
  }
  item_state* item = d.find(item_id);
  if (!item) {
    d.items_.push_back(std::make_unique<item_state>());
    item = d.items_.back().get();
    item->id = item_id;
  }
  if (item->ended) {
    spdlog::warn("playout: audio for item {} after its end, discarded", item_id);
    return;
  }
  const std::size_t n = d.frame_samples_;
  std::size_t used = 0;
  if (!item->tail.empty()) {
    used = std::min(n - item->tail.size(), pcm.size());
    item->tail.insert(item->tail.end(), pcm.begin(), pcm.begin() + static_cast<std::ptrdiff_t>(used));
    if (item->tail.size() == n) d.enqueue(*item, std::exchange(item->tail, {}));
  }
  while (pcm.size() - used >= n) {
    const auto first = pcm.begin() + static_cast<std::ptrdiff_t>(used);
    d.enqueue(*item, std::vector<std::int16_t>(first, first + static_cast<std::ptrdiff_t>(n)));
    used += n;
  }
  if (used < pcm.size()) item->tail.assign(pcm.begin() + static_cast<std::ptrdiff_t>(used), pcm.end());
  d.begin_spurt_if_needed();
}

void playout::end_item(const std::string& item_id) {
  auto& d = *impl_;
  if (d.stopped_) return;
  item_state* item = d.find(item_id);
  if (!item || item->ended) return;
  item->ended = true;
  if (item->tail.empty()) return;
  // Silence pads the last partial frame: a transport sends whole frames only.
  auto tail = std::exchange(item->tail, {});
  tail.resize(d.frame_samples_, 0);
  d.enqueue(*item, std::move(tail));
  d.begin_spurt_if_needed();
}

std::vector<flushed_item> playout::flush() {
  auto& d = *impl_;
  std::vector<flushed_item> out;
  out.reserve(d.items_.size());
  const auto ptime = std::chrono::milliseconds(d.format_.ptime_ms);
  for (const auto& item : d.items_) {
    out.push_back({item->id, ptime * static_cast<std::chrono::milliseconds::rep>(item->sent)});
    if (!d.was_flushed(item->id)) d.flushed_ids_.push_back(item->id);
  }
  while (d.flushed_ids_.size() > flushed_memory) d.flushed_ids_.pop_front();
  d.drop_all();
  d.items_.clear();
  return out;
}

void playout::on_item_played(const std::string& item_id, std::function<void(bool played)> done) {
  if (!done) return;
  auto& d = *impl_;
  item_state* item = d.find(item_id);
  if (!item) {
    d.post_done(std::move(done), !d.was_flushed(item_id));
    return;
  }
  const bool all_left = item->sent + item->dropped >= item->queued;
  if (all_left || d.stopped_) {
    d.post_done(std::move(done), all_left);
    return;
  }
  item->waiters.push_back({item->queued, std::move(done)});
}

std::chrono::milliseconds playout::queued() const {
  return std::chrono::milliseconds(impl_->format_.ptime_ms) *
         static_cast<std::chrono::milliseconds::rep>(impl_->queue_.size());
}

bool playout::idle() const { return impl_->queue_.empty(); }

playout_stats playout::stats() const { return impl_->stats_; }

void playout::stop() {
  if (!impl_ || impl_->stopped_) return;
  impl_->stopped_ = true;
  impl_->drop_all();
}

}  // namespace npcl::media
