// The conversation half of a call: greeting, audio both ways, barge-in,
// transcripts, errors and reconnects. Everything here runs on the call's strand.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>

#include "npcl/obs/metrics.hpp"
#include "npcl/session/assistant_prompt.hpp"
#include "npcl/session/call_session.hpp"

namespace npcl::session {
namespace {

using spdlog::level::level_enum;
using clock = std::chrono::steady_clock;

double seconds_since(clock::time_point t) { return std::chrono::duration<double>(clock::now() - t).count(); }

}  // namespace

void call_session::start_assistant() {
  if (!deps_.make_link || echo_ || !deps_.options.assistant) return;
  language_ = deps_.options.voice_language;
  link_ = deps_.make_link(strand_);
  if (!link_) return;
  link_->start(link_settings(), link_callbacks());
}

realtime::link_config call_session::link_settings() const {
  realtime::link_config c;
  c.call_format = audio::audio_format{deps_.media.sample_rate, 1, 20};
  c.instructions = assistant_instructions(deps_.options, language_,
                                          deps_.locales ? deps_.locales->find(language_) : nullptr);
  c.transcription_model = deps_.options.transcription_model;
  c.language = language_.substr(0, language_.find('-'));
  const auto& o = deps_.options;
  c.turns.type = o.turn_detection == turn_mode::semantic_vad ? realtime::turn_detection::kind::semantic_vad
                                                             : realtime::turn_detection::kind::server_vad;
  c.turns.threshold = o.vad_threshold;
  c.turns.prefix_padding = o.vad_prefix_padding;
  c.turns.silence = o.vad_silence;
  c.turns.interrupt_response = o.interruption_handling;
  if (deps_.tools)
    for (const auto& t : deps_.tools->specs()) c.tools.push_back({t.name, t.description, t.parameters_json});
  return c;
}

realtime::link_handlers call_session::link_callbacks() {
  // Every callback holds a weak_ptr: the link must never keep a call alive.
  auto weak = weak_from_this();
  realtime::link_handlers h;
  h.on_ready = [weak] {
    if (auto self = weak.lock()) self->on_link_ready();
  };
  h.on_audio = [weak](const std::string& item, std::vector<std::int16_t> pcm) {
    if (auto self = weak.lock()) self->on_assistant_audio(item, std::move(pcm));
  };
  h.on_audio_done = [weak](const std::string& item) {
    auto self = weak.lock();
    if (self && self->playout_) self->playout_->end_item(item);
  };
  h.on_speech_started = [weak] {
    if (auto self = weak.lock()) self->on_caller_speech_started();
  };
  h.on_speech_stopped = [weak] {
    if (auto self = weak.lock()) self->on_caller_speech_stopped();
  };
  h.on_transcript = [weak](const realtime::transcript_line& line) {
    auto self = weak.lock();
    if (!self) return;
    auto at = std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - self->started_);
    self->transcript_.push_back({at, line});
    obs::log(level_enum::info, self->log_, "transcript {:.1f}s {}: {}", at.count() / 1000.0,
             line.who == realtime::transcript_line::speaker::caller ? "caller" : "assistant", line.text);
  };
  h.on_usage = [weak](const realtime::usage& u) {
    auto self = weak.lock();
    if (!self) return;
    self->tokens_.input_tokens += u.input_tokens;
    self->tokens_.output_tokens += u.output_tokens;
    self->tokens_.input_audio_tokens += u.input_audio_tokens;
    self->tokens_.output_audio_tokens += u.output_audio_tokens;
  };
  h.on_tool_call = [weak](const std::string& call_id, const std::string& name, const std::string& args) {
    if (auto self = weak.lock()) self->on_tool_call(call_id, name, args);
  };
  h.on_response_done = [weak] {
    if (auto self = weak.lock()) self->on_response_done();
  };
  h.on_error = [weak](const realtime::link_error& e) {
    if (auto self = weak.lock()) self->on_link_error(e);
  };
  h.on_closed = [weak](error_code ec) {
    if (auto self = weak.lock()) self->on_link_closed(ec);
  };
  return h;
}

void call_session::on_link_ready() {
  link_ready_ = true;
  reconnect_delay_ = std::chrono::milliseconds(250);
  if (replay_pending_) {
    // The new conversation knows nothing: give it everything said so far so
    // the assistant keeps its context.
    replay_pending_ = false;
    for (const auto& t : transcript_) link_->add_history(t.line);
    obs::log(level_enum::info, log_, "model reconnected; replayed {} transcript line(s)", transcript_.size());
    return;
  }
  maybe_greet();
}

void call_session::maybe_greet() {
  if (assistant_failed_ && active_ && !ending_ && !transferring_) {
    assistant_failed();
    return;
  }
  if (greeted_ || !link_ready_ || !active_ || !playout_ || ending_) return;
  greeted_ = true;
  turn_ended_at_ = clock::now();  // the greeting's latency counts from the bridged call
  awaiting_audio_ = awaiting_packet_ = true;
  link_->request_response(greeting_instructions(deps_.options, language_,
                                                deps_.locales ? deps_.locales->find(language_) : nullptr));
}

void call_session::on_assistant_audio(const std::string& item_id, std::vector<std::int16_t> pcm) {
  if (ending_ || !playout_) return;
  if (std::find(cancelled_items_.begin(), cancelled_items_.end(), item_id) != cancelled_items_.end()) return;
  if (awaiting_audio_) {
    awaiting_audio_ = false;
    deps_.metrics
        .get_histogram("assistant_first_audio_seconds",
                       "Caller stopped speaking (or call connected) to the model's first audio byte",
                       obs::latency_buckets())
        .observe(seconds_since(turn_ended_at_));
  }
  current_item_ = item_id;
  if (after_speech_armed_) goodbye_started_ = true;
  playout_->push(item_id, pcm);
}

void call_session::on_frame_sent() {
  if (!awaiting_packet_) return;
  awaiting_packet_ = false;
  deps_.metrics
      .get_histogram("assistant_first_packet_seconds",
                     "Caller stopped speaking (or call connected) to the answer's first frame sent to Asterisk",
                     obs::latency_buckets())
      .observe(seconds_since(turn_ended_at_));
}

void call_session::on_caller_speech_started() {
  if (deps_.vad && deps_.vad->barge_in_mode == audio::vad_options::barge_in::local) return;
  if (deps_.options.interruption_handling && playout_ && !playout_->idle()) barge_in("server");
}

void call_session::on_caller_speech_stopped() {
  turn_ended_at_ = clock::now();
  awaiting_audio_ = awaiting_packet_ = true;
}

void call_session::barge_in(const char* source) {
  auto t0 = clock::now();
  auto flushed = playout_->flush();
  endpoint_->flush_remote();
  deps_.metrics
      .get_histogram("barge_in_reaction_seconds", "Caller speech detected to assistant audio stopped",
                     obs::latency_buckets())
      .observe(seconds_since(t0));
  deps_.metrics.get_counter("barge_ins_total", "Caller interruptions of the assistant", {{"source", source}}).inc();
  if (!link_) return;
  link_->cancel_response();
  for (const auto& item : flushed) {
    // What the caller actually heard: the model must not believe it said the rest.
    link_->truncate(item.item_id, item.played);
    cancelled_items_.push_back(item.item_id);
    obs::log(level_enum::debug, log_, "barge-in ({}): item {} cut after {} ms", source, item.item_id,
             item.played.count());
  }
  if (cancelled_items_.size() > 64) cancelled_items_.erase(cancelled_items_.begin(), cancelled_items_.end() - 64);
}

void call_session::on_link_error(const realtime::link_error& e) {
  deps_.metrics.get_counter("assistant_errors_total", "Errors from the model service", {{"code", e.code}}).inc();
  obs::log(e.fatal ? level_enum::err : level_enum::warn, log_, "model error {} ({}): {}", e.code, e.type, e.message);
  if (!e.fatal || ending_) return;
  if (e.code == "session_expired") return;  // the close that follows reconnects with the history
  // A bad key or an exhausted quota will not heal within this call.
  link_ready_ = false;
  if (link_) link_->close();
  assistant_failed();
}

void call_session::assistant_failed() {
  assistant_failed_ = true;
  if (!active_ || ending_) return;  // set_up() calls back here once the caller is bridged
  // The caller hears a recorded apology, then a person (or a polite hangup),
  // never silence.
  play_prompt("apology", [weak = weak_from_this()] {
    auto self = weak.lock();
    if (!self || self->ending_) return;
    if (self->deps_.options.on_failure == failure_action::transfer)
      self->transfer_to_agents(outcome::assistant_unavailable);
    else
      self->request_end(outcome::assistant_unavailable);
  });
}

void call_session::play_prompt(const std::string& name, std::function<void()> then) {
  std::shared_ptr<const std::vector<std::int16_t>> pcm;
  if (deps_.prompts && endpoint_) pcm = deps_.prompts->get(language_, name, endpoint_->format().sample_rate_hz);
  if (!pcm || !playout_ || pcm->empty()) {
    if (then) then();
    return;
  }
  std::string item = "prompt:" + name + ":" + std::to_string(++prompt_seq_);
  current_item_ = item;
  playout_->push(item, *pcm);
  playout_->end_item(item);
  playout_->on_item_played(item, [then = std::move(then)](bool) {
    if (then) then();
  });
}

void call_session::transfer_to_agents(const std::string& why) {
  if (ending_ || transferring_) return;
  transferring_ = true;
  const auto& o = deps_.options;
  if (o.agent_endpoint.empty())
    obs::log(level_enum::info, log_, "transferring the caller to {}/{} ({})", o.agent_context, o.agent_extension, why);
  else
    obs::log(level_enum::info, log_, "transferring the caller to {} ({})", o.agent_endpoint, why);
  net::co_spawn(strand_, [self = shared_from_this()]() -> net::awaitable<void> {
    const auto& opts = self->deps_.options;
    if (!opts.agent_endpoint.empty()) {
      self->redirecting_ = true;
      auto r = co_await self->deps_.control.redirect(self->caller_.id, opts.agent_endpoint);
      if (self->caller_gone_ || self->ending_) co_return;  // already left for the agents, or hung up
      if (r.ok()) {
        // 204 only means Asterisk queued the channel driver's transfer: a REFER the far
        // end refuses leaves the caller in Stasis. Leaving ends the call as transferred
        // (on_event); a caller still here after the wait goes the dialplan way.
        self->redirect_timer_ = std::make_unique<net::steady_timer>(self->strand_, opts.agent_redirect_timeout);
        co_await self->redirect_timer_->async_wait(net::as_tuple(net::use_awaitable));
        if (self->caller_gone_ || self->ending_) co_return;
        obs::log(level_enum::warn, self->log_, "the caller did not leave for {} within {} ms; continuing at {}/{}",
                 opts.agent_endpoint, opts.agent_redirect_timeout.count(), opts.agent_context, opts.agent_extension);
      } else {
        // A refused redirect (other technology, unknown endpoint, Asterisk slow) still
        // reaches a person: the agents' dialplan is always configured.
        obs::log(level_enum::warn, self->log_, "redirect to {} failed: {} {}; continuing at {}/{}",
                 opts.agent_endpoint, r.status, r.ec ? r.ec.message() : r.message, opts.agent_context,
                 opts.agent_extension);
      }
      self->redirecting_ = false;
    }
    auto r = co_await self->deps_.control.continue_in_dialplan(self->caller_.id, opts.agent_context,
                                                                opts.agent_extension, 1);
    if (r.ok()) {
      // The caller has left Stasis for the agents: they are no longer ours to hang up.
      self->caller_gone_ = true;
      self->request_end(outcome::transferred);
    } else if (!self->ending_) {
      obs::log(level_enum::err, self->log_, "transfer failed: {} {}; hanging up", r.status, r.message);
      self->transferring_ = false;
      self->request_end(outcome::assistant_unavailable);
    }
  }, net::detached);
}

void call_session::on_keypad(char digit) {
  if (ending_ || transferring_) return;
  if (digit == '#') {
    keypad_entry_done();
    return;
  }
  keypad_ += digit;
  keypad_timer_ = std::make_unique<net::steady_timer>(strand_, deps_.options.dtmf_inter_digit);
  keypad_timer_->async_wait([weak = weak_from_this()](error_code ec) {
    if (auto self = weak.lock(); self && !ec) self->keypad_entry_done();
  });
}

void call_session::keypad_entry_done() {
  if (keypad_timer_) keypad_timer_->cancel();
  std::string digits = std::move(keypad_);
  keypad_.clear();
  if (digits.empty() || ending_) return;
  // The transfer key pressed on its own reaches a person; inside a longer
  // entry it is just a digit (consumer numbers contain zeros).
  if (!deps_.options.dtmf_transfer_key.empty() && digits == deps_.options.dtmf_transfer_key) {
    transfer_after_current_sentence("keypad " + digits);
    return;
  }
  if (!link_ || !link_ready_) return;
  obs::log(level_enum::info, log_, "keypad entry of {} digit(s) given to the assistant", digits.size());
  realtime::transcript_line line;
  line.who = realtime::transcript_line::speaker::caller;
  line.text = "[The caller typed on the telephone keypad: " + digits + "]";
  link_->add_history(line);
  link_->request_response();
}

void call_session::transfer_after_current_sentence(const std::string& why) {
  if (!playout_ || playout_->idle() || current_item_.empty()) {
    transfer_to_agents(why);
    return;
  }
  if (link_) link_->cancel_response();  // nothing new; the sentence being heard finishes
  playout_->on_item_played(current_item_, [weak = weak_from_this(), why](bool) {
    if (auto self = weak.lock()) self->transfer_to_agents(why);
  });
}

void call_session::on_tool_call(const std::string& call_id, const std::string& name, const std::string& arguments) {
  ++tool_calls_;
  if (!deps_.tools) {
    link_->send_tool_result(call_id, R"({"error":"unknown_tool","message":"no tools are available"})");
    return;
  }
  obs::log(level_enum::info, log_, "tool {} requested", name);
  // A slow tool must not leave the caller in dead air.
  auto filler = std::make_shared<net::steady_timer>(strand_, deps_.options.tool_filler_after);
  filler->async_wait([weak = weak_from_this()](error_code ec) {
    auto self = weak.lock();
    if (ec || !self || self->ending_) return;
    self->play_prompt("filler", nullptr);
  });
  // The strong reference keeps the call (the tools' call_actions) alive until
  // the tool answers; every tool has a deadline, so this is bounded.
  deps_.tools->invoke({call_id, name, arguments}, *this, strand_,
                      [self = shared_from_this(), filler, call_id, name](tools::tool_result r) {
                        filler->cancel();
                        self->tool_log_.emplace_back(name, r.ok ? std::string() : r.error_code);
                        if (!r.ok)
                          obs::log(level_enum::warn, self->log_, "tool {} failed: {}", name, r.error_code);
                        if (self->ending_ || !self->link_) return;
                        self->link_->send_tool_result(call_id, r.output_json);
                        if (self->after_speech_ != after_speech::none && !self->after_speech_armed_)
                          self->arm_after_speech();
                      });
}

void call_session::end_call_after_speech(std::string reason) {
  obs::log(level_enum::info, log_, "the assistant ends the call ({})", reason);
  after_speech_ = after_speech::hangup;
}

void call_session::transfer_after_speech(std::string reason) {
  obs::log(level_enum::info, log_, "the assistant hands the caller to an agent ({})", reason);
  after_speech_ = after_speech::transfer;
}

void call_session::set_language(std::string language) {
  obs::log(level_enum::info, log_, "conversation language is now {}", language);
  language_ = std::move(language);
}

void call_session::arm_after_speech() {
  // The response that follows the tool's result is the goodbye: act once its
  // audio has been heard, or after a bound if the model says nothing more.
  after_speech_armed_ = true;
  goodbye_started_ = false;
  after_speech_timer_ = std::make_unique<net::steady_timer>(strand_, std::chrono::seconds(15));
  after_speech_timer_->async_wait([weak = weak_from_this()](error_code ec) {
    if (auto self = weak.lock(); self && !ec) self->after_speech_now();
  });
}

void call_session::on_response_done() {
  // The function-call response itself also ends with response.done; only a
  // response that spoke after the tool's result is the goodbye.
  if (!after_speech_armed_ || !goodbye_started_ || ending_) return;
  after_speech_armed_ = false;
  if (!playout_ || playout_->idle()) {
    after_speech_now();
    return;
  }
  playout_->on_item_played(current_item_, [weak = weak_from_this()](bool) {
    if (auto self = weak.lock()) self->after_speech_now();
  });
}

void call_session::after_speech_now() {
  if (ending_ || after_speech_ == after_speech::none) return;
  auto action = after_speech_;
  after_speech_ = after_speech::none;
  if (after_speech_timer_) after_speech_timer_->cancel();
  if (action == after_speech::transfer)
    transfer_to_agents("the caller asked for an agent");
  else
    request_end(outcome::ended_by_assistant);
}

void call_session::on_link_closed(error_code ec) {
  link_ready_ = false;
  if (ending_) return;
  if (reconnects_ == 0 || !reconnect_timer_) link_lost_at_ = clock::now();
  obs::log(level_enum::warn, log_, "connection to the model lost: {}", ec.message());
  reconnect_assistant();
}

void call_session::reconnect_assistant() {
  if (ending_) return;
  if (clock::now() - link_lost_at_ > deps_.options.reconnect_budget) {
    obs::log(level_enum::err, log_, "model unreachable for {} ms", deps_.options.reconnect_budget.count());
    assistant_failed();
    return;
  }
  reconnect_timer_ = std::make_unique<net::steady_timer>(strand_, reconnect_delay_);
  reconnect_delay_ = std::min(reconnect_delay_ * 2, std::chrono::milliseconds(4000));
  reconnect_timer_->async_wait([weak = weak_from_this()](error_code ec) {
    auto self = weak.lock();
    if (ec || !self || self->ending_) return;
    ++self->reconnects_;
    self->deps_.metrics.get_counter("assistant_reconnects_total", "Reconnects to the model mid-call").inc();
    if (self->link_) self->link_->close();
    self->link_ = self->deps_.make_link(self->strand_);
    self->replay_pending_ = self->greeted_;
    self->link_->start(self->link_settings(), self->link_callbacks());
  });
}

void call_session::stop_assistant() {
  if (reconnect_timer_) reconnect_timer_->cancel();
  if (link_) {
    link_->close();
    obs::log(level_enum::info, log_,
             "conversation: {} transcript line(s), {} tool call(s), tokens in={} out={} (audio in={} out={}), "
             "reconnects={}, language={}",
             transcript_.size(), tool_calls_, tokens_.input_tokens, tokens_.output_tokens,
             tokens_.input_audio_tokens, tokens_.output_audio_tokens, reconnects_, language_);
  }
}

}  // namespace npcl::session
