#include "npcl/session/call_session.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "npcl/obs/metrics.hpp"
#include "npcl/util/ids.hpp"

namespace npcl::session {
namespace {

using spdlog::level::level_enum;

// 60 s of assistant audio at 20 ms: a response never needs more queued.
constexpr std::size_t max_playout_frames = 3000;

// Provisional outcome until tear_down() knows whether the caller was bridged.
constexpr const char* caller_left = "caller_left";

}  // namespace

call_session::call_session(executor strand, deps d, ari::channel caller, std::vector<std::string> args)
    : strand_(std::move(strand)),
      deps_(std::move(d)),
      caller_(std::move(caller)),
      echo_(std::find(args.begin(), args.end(), "media-test") != args.end()),
      log_{util::make_uuid(), caller_.id},
      bridge_id_(util::make_uuid()),
      media_channel_id_(util::make_uuid()),
      started_(std::chrono::steady_clock::now()) {}

call_session::~call_session() = default;

void call_session::start() {
  net::post(strand_, [self = shared_from_this()] {
    obs::log(level_enum::info, self->log_, "call from {} \"{}\" on {} ({})", self->caller_.caller_number,
             self->caller_.caller_name, self->caller_.name, self->caller_.exten);
    self->setup_running_ = true;
    net::co_spawn(self->strand_, self->set_up(), net::detached);
  });
}

void call_session::post_event(ari::event e) {
  net::post(strand_, [self = shared_from_this(), e = std::move(e)] { self->handle_event(e); });
}

void call_session::end(std::string why) {
  net::post(strand_, [self = shared_from_this(), why = std::move(why)]() mutable {
    self->request_end(std::move(why));
  });
}

void call_session::post_reconcile(std::chrono::steady_clock::time_point listed_at, bool caller_present,
                                  bool media_present) {
  net::post(strand_, [self = shared_from_this(), listed_at, caller_present, media_present] {
    if (!caller_present && !self->caller_gone_ && self->started_ < listed_at) {
      obs::log(level_enum::warn, self->log_, "caller channel vanished while the events socket was down");
      self->caller_gone_ = true;
      self->request_end(outcome::lost);
    }
    // Before set-up completes the media channel may simply not exist yet.
    if (self->active_ && self->answered_ < listed_at && !media_present && !self->media_gone_) {
      obs::log(level_enum::warn, self->log_, "media channel vanished while the events socket was down");
      self->media_gone_ = true;
      self->request_end(outcome::media_lost);
    }
  });
}

void call_session::handle_event(const ari::event& e) {
  if (!e.chan) return;
  const bool is_caller = e.chan->id == caller_.id;
  const bool is_media = e.chan->id == media_channel_id_;
  switch (e.type) {
    case ari::event_type::stasis_start:
      if (is_media) {
        media_started_ = true;
        obs::log(level_enum::debug, log_, "media channel {} is up ({})", e.chan->id, e.chan->name);
      }
      break;
    case ari::event_type::stasis_end:
    case ari::event_type::channel_destroyed:
    case ari::event_type::channel_hangup_request:
      if (is_caller && !caller_gone_) {
        // Our own DELETE produces a soft hangup request first; the channel is
        // still there until StasisEnd, so only StasisEnd/Destroyed count then.
        if (e.type == ari::event_type::channel_hangup_request && e.soft) break;
        caller_gone_ = true;
        // After a redirect the channel driver may hang the caller's leg up once the
        // far end took the call (SIP REFER), so any way of leaving counts then.
        if (transferring_ && (e.type == ari::event_type::stasis_end || redirecting_)) {
          request_end(outcome::transferred);  // left Stasis for the agents
          break;
        }
        obs::log(level_enum::info, log_, "caller hung up ({}{})", e.type_name,
                 e.cause && !e.soft ? ", cause " + std::to_string(e.cause) : std::string());
        // Whether the caller got through is only known once an in-flight
        // addChannel answers, so tear_down() picks completed/abandoned.
        request_end(caller_left);
      } else if (is_media && !media_gone_) {
        if (e.type == ari::event_type::channel_hangup_request && e.soft) break;
        if (e.type != ari::event_type::channel_hangup_request) media_gone_ = true;
        if (!ending_) obs::log(level_enum::warn, log_, "media channel {} went away ({})", e.chan->id, e.type_name);
        request_end(outcome::media_lost);
      }
      break;
    case ari::event_type::channel_dtmf_received:
      if (is_caller) {
        ++dtmf_digits_;
        obs::log(level_enum::debug, log_, "keypad digit {} ({} ms)", e.digit, e.duration_ms);
        on_keypad(e.digit[0]);
      }
      break;
    default:
      break;
  }
}

void call_session::request_end(std::string why) {
  if (ending_) return;
  ending_ = true;
  outcome_ = std::move(why);
  if (max_timer_) max_timer_->cancel();
  if (redirect_timer_) redirect_timer_->cancel();
  // A running set-up notices ending_ after its current step and tears down
  // itself, so the ids of whatever that step created are known.
  if (!setup_running_) net::co_spawn(strand_, tear_down(), net::detached);
}

bool call_session::step_failed(const char* step, const ari::control_result& r) {
  if (r.ok()) return false;
  failure_ = std::string(step) + ": " + (r.ec ? r.message : std::to_string(r.status) + " " + r.message);
  obs::log(level_enum::err, log_, "call set-up failed at {}", failure_);
  if (!ending_) {
    ending_ = true;
    outcome_ = outcome::setup_failed;
  }
  return true;
}

net::awaitable<void> call_session::set_up() {
  auto self = shared_from_this();
  auto& control = deps_.control;
  // The model connects while Asterisk is set up: the greeting comes sooner.
  start_assistant();
  bool failed = false;
  do {
    if (deps_.options.auto_answer) {
      auto r = co_await control.answer(caller_.id);
      if (r.not_found() && !ending_) {
        // The caller hung up before we answered; its StasisEnd may still be
        // on its way. That is an abandoned call, not a fault.
        caller_gone_ = true;
        request_end(outcome::abandoned);
      }
      if (ending_ || (failed = step_failed("answer", r))) break;
    }
    bridge_requested_ = true;
    auto br = co_await control.create_bridge(bridge_id_);
    if (ending_ || (failed = step_failed("create bridge", br))) break;

    error_code ec;
    endpoint_ = deps_.make_media(strand_, ec);
    if (!endpoint_) {
      failed = true;
      failure_ = "media endpoint: " + ec.message();
      obs::log(level_enum::err, log_, "call set-up failed at {}", failure_);
      ending_ = true;
      outcome_ = outcome::setup_failed;
      break;
    }
    auto params = endpoint_->external_media();
    ari::external_media_request req;
    req.channel_id = media_channel_id_;
    req.external_host = params.external_host;
    req.format = params.format;
    req.encapsulation = params.encapsulation;
    req.transport = params.transport;
    req.connection_type = params.connection_type;
    req.data = params.data;
    media_requested_ = true;
    auto em = co_await control.create_external_media(req);
    if (ending_ || (failed = step_failed("externalMedia", em))) break;
    endpoint_->set_peer(em.channel_vars);
    start_media();

    auto add = co_await control.add_to_bridge(bridge_id_, {caller_.id, media_channel_id_});
    bridged_ = add.ok();
    if (ending_ || (failed = step_failed("add to bridge", add))) break;

    active_ = true;
    answered_ = std::chrono::steady_clock::now();
    obs::log(level_enum::info, log_, "call connected: bridge {}, media channel {} via {}", bridge_id_,
             media_channel_id_, req.external_host);
    arm_max_duration();
    maybe_greet();
  } while (false);
  setup_running_ = false;
  if (ending_) co_await tear_down();
}

call_report call_session::make_report() const {
  call_report r;
  r.call_id = log_.call_id;
  r.caller_number = caller_.caller_number;
  r.started = wall_started_;
  r.ended = std::chrono::system_clock::now();
  r.language = language_.empty() ? deps_.options.voice_language : language_;
  r.outcome = outcome_;
  auto transcript = nlohmann::json::array();
  for (const auto& t : transcript_)
    transcript.push_back({{"at_ms", t.at.count()},
                          {"speaker", t.line.who == realtime::transcript_line::speaker::caller ? "caller" : "assistant"},
                          {"text", t.line.text}});
  // Model output may hold invalid UTF-8; replace rather than throw.
  r.transcript_json = transcript.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  auto tools = nlohmann::json::array();
  for (const auto& [name, error] : tool_log_)
    tools.push_back({{"tool", name}, {"ok", error.empty()}, {"error", error}});
  r.tool_calls_json = tools.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  r.input_tokens = tokens_.input_tokens;
  r.output_tokens = tokens_.output_tokens;
  return r;
}

void call_session::start_media() {
  media::media_handlers h;
  h.on_audio = [weak = weak_from_this()](audio::frame f) {
    if (auto self = weak.lock()) self->on_caller_audio(std::move(f));
  };
  h.on_dtmf = [weak = weak_from_this()](char digit) {
    if (auto self = weak.lock()) obs::log(level_enum::debug, self->log_, "keypad digit {} (media)", digit);
  };
  h.on_closed = [weak = weak_from_this()](error_code ec) {
    auto self = weak.lock();
    if (!self || self->ending_) return;
    obs::log(level_enum::warn, self->log_, "media connection closed by Asterisk: {}", ec.message());
    self->request_end(outcome::media_lost);
  };
  endpoint_->start(std::move(h));
  // The sink runs on this strand; endpoint_ outlives playout_ (both reset in
  // tear_down, playout first).
  playout_ = std::make_unique<media::playout>(strand_, endpoint_->format(), max_playout_frames,
                                              [this](const audio::frame& f, bool first) {
                                                if (!endpoint_) return;
                                                endpoint_->send(f, first);
                                                // The echo guard compares caller audio with this.
                                                if (listener_) listener_->far_end(f);
                                                on_frame_sent();
                                              });
  if (echo_) obs::log(level_enum::info, log_, "media test call: the caller hears their own audio");
  auto fmt = endpoint_->format();
  if (deps_.vad && link_ && (fmt.sample_rate_hz == 8000 || fmt.sample_rate_hz == 16000)) {
    // Local detection works at 8 and 16 kHz; other rates rely on the server's VAD.
    try {
      listener_ = std::make_unique<audio::inbound_pipeline>(fmt, *deps_.vad);
    } catch (const std::exception& e) {
      obs::log(level_enum::warn, log_, "local speech detection unavailable: {}", e.what());
    }
  }
}

void call_session::on_caller_audio(audio::frame f) {
  ++frames_in_;
  // Extension 1001 proves the whole media path (decode, pacing, encode)
  // without a model: what the caller says comes back.
  if (echo_ && playout_ && !ending_) playout_->push("echo", f.samples);
  if (!link_ || ending_) return;
  if (listener_) {
    auto heard = listener_->process(f);
    if (heard.onset && !heard.echo_suppressed && deps_.vad->barge_in_mode != audio::vad_options::barge_in::server &&
        deps_.options.interruption_handling && playout_ && !playout_->idle())
      barge_in("local");  // no network round trip: the caller is heard at once
    if (deps_.vad->send_cleaned && !heard.rejected) {
      if (link_ready_) link_->send_audio(heard.cleaned.samples);
      return;
    }
  }
  if (link_ready_) link_->send_audio(f.samples);
}

void call_session::arm_max_duration() {
  max_timer_ = std::make_unique<net::steady_timer>(strand_, deps_.options.max_call_duration);
  // A weak_ptr: a pending timer must never keep a finished call alive.
  max_timer_->async_wait([weak = weak_from_this()](error_code ec) {
    auto self = weak.lock();
    if (ec || !self) return;
    obs::log(level_enum::info, self->log_, "maximum call duration of {} s reached",
             self->deps_.options.max_call_duration.count());
    self->request_end(outcome::max_duration);
  });
}

net::awaitable<void> call_session::tear_down() {
  auto self = shared_from_this();
  auto& control = deps_.control;
  if (outcome_ == caller_left) outcome_ = bridged_ ? outcome::completed : outcome::abandoned;
  if (after_speech_timer_) after_speech_timer_->cancel();
  if (keypad_timer_) keypad_timer_->cancel();
  stop_assistant();
  auto report = [&](const char* what, const ari::control_result& r) {
    if (!r.ok() && !r.not_found())
      obs::log(level_enum::warn, log_, "teardown: {} failed: {} {}", what, r.status, r.message);
  };
  if (media_requested_ && !media_gone_) report("hang up media channel", co_await control.hangup(media_channel_id_, "normal"));
  if (bridge_requested_) report("destroy bridge", co_await control.destroy_bridge(bridge_id_));
  if (!caller_gone_) report("hang up caller", co_await control.hangup(caller_.id, "normal"));
  media::playout_stats played;
  if (playout_) {
    played = playout_->stats();
    playout_->stop();
    playout_.reset();
  }
  media::media_stats stats;
  if (endpoint_) {
    stats = endpoint_->stats();
    endpoint_->close();
    endpoint_.reset();
  }
  // A caller who hangs up mid-sentence spoke until the last frame heard.
  const auto said = listener_ ? listener_->caller_speech() : audio::inbound_pipeline::speech_tally{};
  auto now = std::chrono::steady_clock::now();
  auto total = std::chrono::duration<double>(now - started_).count();
  auto talk = active_ ? std::chrono::duration<double>(now - answered_).count() : 0.0;
  obs::log(level_enum::info, log_,
           "call summary: outcome={} duration={:.1f}s talk={:.1f}s packets_in={} packets_out={} lost={} "
           "reordered={} duplicated={} late={} jitter_ms={:.1f} foreign_dropped={} malformed={} "
           "frames_played={} late_sends={} underruns={} playout_dropped={} dtmf={} caller_turns={} "
           "caller_speech={:.1f}s{}",
           outcome_, total, talk, stats.packets_in, stats.packets_out, stats.lost, stats.reordered,
           stats.duplicated, stats.late, stats.jitter_ms, stats.foreign_dropped, stats.malformed,
           played.frames_sent, played.late_sends, played.underruns, played.dropped_frames, dtmf_digits_,
           said.turns, std::chrono::duration<double>(said.speech).count(),
           failure_.empty() ? std::string() : " failure=\"" + failure_ + "\"");
  auto& m = deps_.metrics;
  m.get_counter("calls_total", "Calls handled, by how they ended", {{"outcome", outcome_}}).inc();
  m.get_counter("caller_turns_total", "Caller turns heard by local speech detection").inc(static_cast<std::uint64_t>(said.turns));
  m.get_counter("caller_speech_milliseconds_total", "Caller speech in those turns, hangovers excluded")
      .inc(static_cast<std::uint64_t>(std::max<std::int64_t>(said.speech.count(), 0)));
  m.get_counter("media_packets_in_total", "Media packets received from Asterisk").inc(stats.packets_in);
  m.get_counter("media_packets_out_total", "Media packets sent to Asterisk").inc(stats.packets_out);
  m.get_counter("media_foreign_dropped_total", "Media packets dropped: not from Asterisk").inc(stats.foreign_dropped);
  m.get_counter("media_malformed_total", "Media packets dropped: malformed").inc(stats.malformed);
  m.get_counter("media_lost_total", "RTP packets never received (concealed)").inc(stats.lost);
  m.get_counter("media_reordered_total", "RTP packets put back in order").inc(stats.reordered);
  m.get_counter("media_duplicated_total", "RTP duplicates dropped").inc(stats.duplicated);
  m.get_counter("media_late_total", "RTP packets arriving after their slot was concealed").inc(stats.late);
  m.get_counter("playout_frames_total", "Assistant frames sent to callers").inc(played.frames_sent);
  m.get_counter("playout_late_sends_total", "Frames sent more than 2 ms after their deadline").inc(played.late_sends);
  m.get_counter("playout_underruns_total", "Times playout ran dry inside an item").inc(played.underruns);
  m.get_counter("playout_dropped_total", "Frames dropped because the playout queue was full").inc(played.dropped_frames);
  m.get_histogram("media_jitter_ms", "RTP interarrival jitter per call at its end, milliseconds",
                  {1, 2, 5, 10, 20, 40, 80, 160}).observe(stats.jitter_ms);
  if (deps_.on_report) deps_.on_report(make_report());
  if (deps_.on_finished) deps_.on_finished(log_.call_id);
}

}  // namespace npcl::session
