#include "npcl/session/call_manager.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <set>

#include "npcl/obs/metrics.hpp"

namespace npcl::session {
namespace {

// externalMedia channel names (asterisk-ari.md §5): never a caller.
bool is_media_channel_name(const std::string& name) {
  for (const char* prefix : {"UnicastRTP/", "AudioSocket/", "WebSocket/"})
    if (name.rfind(prefix, 0) == 0) return true;
  return false;
}

// How long an unowned channel of our application may wait for its
// StasisStart to be processed before it counts as a leftover.
constexpr std::chrono::milliseconds orphan_grace{1000};

}  // namespace

struct call_manager::state : std::enable_shared_from_this<state> {
  state(net::io_context& i, ari::call_control& c, media_factory f, const session_options& o,
        const media::media_options& m, obs::metrics_registry& r, link_factory l, tools::tool_registry* t,
        const prompt_library* p, const audio::vad_options* v, std::function<void(call_report)> rep,
        const locale_library* loc)
      : ioc(i), control(c), make_media(std::move(f)), make_link(std::move(l)), tools(t), prompts(p), vad(v),
        on_report(std::move(rep)), locales(loc), options(o),
        media(m), metrics(r),
        active_gauge(r.get_gauge("calls_active", "Calls in progress")),
        refused(r.get_counter("calls_refused_total", "Calls turned away while draining")) {}

  net::io_context& ioc;
  ari::call_control& control;
  media_factory make_media;
  link_factory make_link;
  tools::tool_registry* tools;
  const prompt_library* prompts;
  const audio::vad_options* vad;
  std::function<void(call_report)> on_report;
  const locale_library* locales;
  const session_options& options;
  const media::media_options& media;
  obs::metrics_registry& metrics;
  obs::gauge& active_gauge;
  obs::counter& refused;

  mutable std::mutex mutex;                                        // guards everything below
  std::map<std::string, std::shared_ptr<call_session>> calls;      // by call id
  std::map<std::string, std::string> by_channel;                   // caller/media channel id → call id
  std::map<std::string, std::string> by_bridge;                    // bridge id → call id
  bool draining = false;
  std::function<void()> on_idle;

  std::shared_ptr<call_session> find(const std::string& channel_id) {
    std::lock_guard lock(mutex);
    auto it = by_channel.find(channel_id);
    if (it == by_channel.end()) return nullptr;
    auto c = calls.find(it->second);
    return c == calls.end() ? nullptr : c->second;
  }

  void finished(const std::string& call_id) {
    // Posted: the session's own coroutine is still on the stack here.
    net::post(ioc, [self = shared_from_this(), call_id] {
      std::function<void()> idle;
      {
        std::lock_guard lock(self->mutex);
        auto it = self->calls.find(call_id);
        if (it == self->calls.end()) return;
        self->by_channel.erase(it->second->caller_channel_id());
        self->by_channel.erase(it->second->media_channel_id());
        self->by_bridge.erase(it->second->bridge_id());
        self->calls.erase(it);
        self->active_gauge.set(static_cast<double>(self->calls.size()));
        if (self->calls.empty()) idle = self->on_idle;
      }
      if (idle) idle();
    });
  }

  void start_call(const ari::channel& caller, const std::vector<std::string>& args) {
    std::shared_ptr<call_session> session;
    {
      std::lock_guard lock(mutex);
      if (by_channel.count(caller.id)) return;  // a duplicate StasisStart
      if (draining) {
        refused.inc();
      } else {
        call_session::deps d{control, make_media, options, media, metrics,
                             [weak = weak_from_this()](const std::string& id) {
                               if (auto self = weak.lock()) self->finished(id);
                             },
                             make_link, tools, prompts, vad, on_report, locales};
        session = std::make_shared<call_session>(net::make_strand(ioc), std::move(d), caller, args);
        calls[session->id()] = session;
        by_channel[caller.id] = session->id();
        by_channel[session->media_channel_id()] = session->id();
        by_bridge[session->bridge_id()] = session->id();
        active_gauge.set(static_cast<double>(calls.size()));
      }
    }
    if (session) {
      session->start();
      return;
    }
    net::co_spawn(ioc, refuse(caller), net::detached);
  }

  net::awaitable<void> refuse(ari::channel caller) {
    auto self = shared_from_this();
    ari::control_result r;
    if (options.draining_action == new_call_action::continue_dialplan) {
      spdlog::info("draining: sending call {} back to the dialplan", caller.id);
      r = co_await control.continue_in_dialplan(caller.id, "", "", 0);
    } else {
      spdlog::info("draining: hanging up call {}", caller.id);
      r = co_await control.hangup(caller.id, "normal");
    }
    if (!r.ok() && !r.not_found()) spdlog::warn("refusing call {} failed: {} {}", caller.id, r.status, r.message);
  }

  net::awaitable<void> reconcile() {
    auto self = shared_from_this();
    // Only what existed before this listing can be judged by it.
    auto listed_at = std::chrono::steady_clock::now();
    auto channels = co_await control.list_channels();
    if (!channels) {
      spdlog::warn("reconcile: GET /channels failed; will retry at the next reconnect");
      co_return;
    }
    std::set<std::string> present;
    for (const auto& c : *channels) present.insert(c.id);
    std::vector<std::shared_ptr<call_session>> sessions;
    {
      std::lock_guard lock(mutex);
      for (auto& [id, s] : calls) sessions.push_back(s);
    }
    for (auto& s : sessions)
      s->post_reconcile(listed_at, present.count(s->caller_channel_id()) > 0,
                        present.count(s->media_channel_id()) > 0);

    // Leftovers of our application that no call owns (e.g. from a previous
    // run of the daemon) would hold channels and bridges forever. A caller
    // whose StasisStart is still in flight also looks unowned for a moment,
    // so candidates are judged again after a short grace.
    auto owned = co_await control.application_resources();
    if (!owned) co_return;
    auto unowned = [&](const std::pair<std::vector<std::string>, std::vector<std::string>>& all) {
      std::pair<std::vector<std::string>, std::vector<std::string>> out;
      std::lock_guard lock(mutex);
      for (const auto& id : all.first)
        if (!by_channel.count(id)) out.first.push_back(id);
      for (const auto& id : all.second)
        if (!by_bridge.count(id)) out.second.push_back(id);
      return out;
    };
    auto candidates = unowned(*owned);
    if (candidates.first.empty() && candidates.second.empty()) co_return;
    net::steady_timer grace(ioc, orphan_grace);
    co_await grace.async_wait(net::as_tuple(net::use_awaitable));
    auto orphans = unowned(candidates);
    for (const auto& channel_id : orphans.first) {
      spdlog::warn("reconcile: hanging up orphaned channel {}", channel_id);
      co_await control.hangup(channel_id, "normal");
    }
    for (const auto& bridge_id : orphans.second) {
      spdlog::warn("reconcile: destroying orphaned bridge {}", bridge_id);
      co_await control.destroy_bridge(bridge_id);
    }
  }
};

call_manager::call_manager(net::io_context& ioc, ari::call_control& control, media_factory make_media,
                           const session_options& options, const media::media_options& media,
                           obs::metrics_registry& metrics, link_factory make_link,
                           tools::tool_registry* tools, const prompt_library* prompts,
                           const audio::vad_options* vad, std::function<void(call_report)> on_report,
                           const locale_library* locales)
    : state_(std::make_shared<state>(ioc, control, std::move(make_media), options, media, metrics,
                                     std::move(make_link), tools, prompts, vad, std::move(on_report), locales)) {}

call_manager::~call_manager() = default;

void call_manager::on_event(const ari::event& e) {
  if (!e.chan) return;
  auto session = state_->find(e.chan->id);
  if (session) {
    session->post_event(e);
    return;
  }
  if (e.type != ari::event_type::stasis_start) return;
  if (is_media_channel_name(e.chan->name)) {
    // Not one of ours (ours are indexed before they are created): a leftover.
    spdlog::warn("unknown media channel {} entered the application; hanging it up", e.chan->id);
    net::co_spawn(state_->ioc, [s = state_, id = e.chan->id]() -> net::awaitable<void> {
      co_await s->control.hangup(id, "normal");
    }, net::detached);
    return;
  }
  state_->start_call(*e.chan, e.args);
}

void call_manager::on_connected() { net::co_spawn(state_->ioc, state_->reconcile(), net::detached); }

void call_manager::begin_drain() {
  std::lock_guard lock(state_->mutex);
  state_->draining = true;
}

void call_manager::end_all(const std::string& why) {
  std::vector<std::shared_ptr<call_session>> sessions;
  {
    std::lock_guard lock(state_->mutex);
    for (auto& [id, s] : state_->calls) sessions.push_back(s);
  }
  for (auto& s : sessions) s->end(why);
}

std::size_t call_manager::active() const {
  std::lock_guard lock(state_->mutex);
  return state_->calls.size();
}

void call_manager::set_on_idle(std::function<void()> f) {
  std::lock_guard lock(state_->mutex);
  state_->on_idle = std::move(f);
}

}  // namespace npcl::session
