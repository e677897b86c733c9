#include "npcl/tools/registry.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <nlohmann/json.hpp>

#include <atomic>
#include <stdexcept>
#include <utility>

#include "npcl/obs/log.hpp"
#include "npcl/obs/metrics.hpp"
#include "tools/json_depth.hpp"
#include "tools/schema_validator.hpp"

namespace npcl::tools {

using nlohmann::json;
using clock = std::chrono::steady_clock;

namespace {

enum class outcome { ok, invalid, error, timeout, unknown };

// Names and ids come from the model: keep what reaches logs and outputs short.
std::string shortened(const std::string& s, std::size_t max = 64) {
  return s.size() <= max ? s : s.substr(0, max) + "...";
}

bool valid_name(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

struct registry::tool {
  std::string name;                        ///< function name offered to the model
  std::string description;                 ///< offered to the model as is
  std::string parameters_json;             ///< the schema, compact
  schema_validator validator;              ///< the same schema, parsed
  handler run;                             ///< does the work (empty for an async tool)
  async_handler run_async;                 ///< starts the work of an async tool (else empty)
  bool blocking;                           ///< run on the blocking pool rather than the strand
  std::chrono::milliseconds deadline;      ///< from the call's start to its output
  obs::counter& ok_calls;                  ///< tool_calls_total{outcome="ok"}
  obs::counter& invalid_calls;             ///< tool_calls_total{outcome="invalid"}
  obs::counter& failed_calls;              ///< tool_calls_total{outcome="error"}
  obs::counter& timed_out_calls;           ///< tool_calls_total{outcome="timeout"}
  obs::histogram& duration;                ///< tool_duration_seconds, seconds from invoke to output

  tool(std::string n, std::string d, const json& schema, handler h, async_handler ah, bool b,
       std::chrono::milliseconds dl, obs::metrics_registry& m)
      : name(std::move(n)),
        description(std::move(d)),
        parameters_json(schema.dump()),
        validator(schema, max_pattern_subject_length),
        run(std::move(h)),
        run_async(std::move(ah)),
        blocking(b),
        deadline(dl),
        ok_calls(series(m, "ok")),
        invalid_calls(series(m, "invalid")),
        failed_calls(series(m, "error")),
        timed_out_calls(series(m, "timeout")),
        duration(m.get_histogram("tool_duration_seconds", "Time from a tool call to its output",
                                 obs::latency_buckets(), {{"tool", name}})) {}

  obs::counter& series(obs::metrics_registry& m, const char* outcome) const {
    return m.get_counter("tool_calls_total", "Tool calls by outcome", {{"tool", name}, {"outcome", outcome}});
  }
};

struct registry::invocation : std::enable_shared_from_this<invocation> {
  tool_call call;                           ///< as the model sent it
  std::shared_ptr<const tool> target;       ///< null when no tool has that name
  std::string known_names;                  ///< for the unknown-tool output, comma-separated
  call_actions* actions{nullptr};           ///< the session's; valid until `done` has run
  std::string session_call_id;              ///< actions->call_id(), copied: a pool thread may outlive `actions`
  executor ex;                              ///< the call's strand: every step below runs here
  std::function<void(tool_result)> done;    ///< called once, by finish()
  net::thread_pool* pool{nullptr};          ///< for blocking handlers
  obs::counter* unknown_calls{nullptr};     ///< tool_calls_total{tool="unknown"}
  clock::time_point started{clock::now()};  ///< when invoke() was called
  std::atomic<bool> finished{false};        ///< `done` has been called (or is being called)
  std::optional<net::steady_timer> timer;   ///< deadline of a blocking handler

  class strand_actions;

  /// Runs the call; on the strand.
  void start();
  /// Starts the deadline timer of a handler that does not run inline.
  void arm_deadline();
  /// Starts an async tool; on the strand.
  void start_async(const std::string& arguments);

  // Fills `arguments` with the text the handler gets, or returns why the model's input is refused.
  std::optional<tool_result> check_arguments(std::string& arguments) const {
    const auto& text = call.arguments_json;
    if (text.size() > max_arguments_bytes) {
      return tool_error("arguments_too_large", "the arguments are " + std::to_string(text.size()) +
                                                   " bytes; the limit is " + std::to_string(max_arguments_bytes));
    }
    // A call without parameters may arrive with no argument text at all.
    arguments = text.find_first_not_of(" \t\r\n") == std::string::npos ? std::string("{}") : text;
    if (json_depth(arguments, max_arguments_depth) > max_arguments_depth) {
      return tool_error("arguments_too_deep",
                        "the arguments nest deeper than " + std::to_string(max_arguments_depth) + " levels");
    }
    json parsed;
    try {
      parsed = json::parse(arguments);
    } catch (const json::parse_error& e) {
      return tool_error("invalid_json", "the arguments are not valid JSON (error at byte " + std::to_string(e.byte) + ")");
    }
    if (!parsed.is_object()) return tool_error("invalid_arguments", "the arguments must be a JSON object");
    if (auto violation = target->validator.validate(parsed)) {
      return tool_error("invalid_arguments", std::move(violation->message), std::move(violation->field));
    }
    return std::nullopt;
  }

  // What a handler returned, as the model may see it.
  tool_result checked(tool_result r) const {
    if (!json::accept(r.output_json)) {
      spdlog::error("tool {} call {}: handler returned invalid JSON output", target->name, shortened(call.call_id));
      return tool_error("tool_failed", target->name + " failed");
    }
    if (!r.ok && r.error_code.empty()) r.error_code = "tool_failed";
    return r;
  }

  tool_result run_guarded(const std::string& arguments, call_actions& a) const {
    try {
      return checked(target->run(arguments, a));
    } catch (const std::exception& e) {
      spdlog::error("tool {} call {}: handler threw: {}", target->name, shortened(call.call_id), e.what());
    } catch (...) {
      spdlog::error("tool {} call {}: handler threw a non-standard exception", target->name, shortened(call.call_id));
    }
    return tool_error("tool_failed", target->name + " failed; apologise and offer another way to help");
  }

  // On the strand, when the handler has returned.
  void complete(tool_result r) {
    if (finished.load()) {
      spdlog::warn("tool {} call {}: result discarded, it came after the {} ms deadline", target->name,
                   shortened(call.call_id), target->deadline.count());
      return;
    }
    if (timer) timer->cancel();
    if (clock::now() - started > target->deadline) {
      // An inline handler cannot be interrupted, and an async result may overtake the timer:
      // a late result is treated like a blocking one's.
      spdlog::warn("tool {} call {}: result came after the {} ms deadline and is discarded", target->name,
                   shortened(call.call_id), target->deadline.count());
      time_out();
      return;
    }
    const bool ok = r.ok;
    finish(std::move(r), ok ? outcome::ok : outcome::error);
  }

  void time_out() {
    spdlog::warn("tool {} call {}: no result within {} ms", target->name, shortened(call.call_id),
                 target->deadline.count());
    finish(tool_error("timeout", target->name + " did not answer within " + std::to_string(target->deadline.count()) +
                                     " ms; tell the caller it is not available right now"),
           outcome::timeout);
  }

  void finish(tool_result r, outcome o) {
    if (finished.exchange(true)) return;
    if (target) {
      switch (o) {
        case outcome::ok: target->ok_calls.inc(); break;
        case outcome::invalid: target->invalid_calls.inc(); break;
        case outcome::error: target->failed_calls.inc(); break;
        case outcome::timeout: target->timed_out_calls.inc(); break;
        case outcome::unknown: break;
      }
      target->duration.observe(std::chrono::duration<double>(clock::now() - started).count());
    } else {
      unknown_calls->inc();
    }
    try {
      done(std::move(r));
    } catch (const std::exception& e) {
      spdlog::error("tool call {}: completion handler threw: {}", shortened(call.call_id), e.what());
    }
  }
};

/// Forwards call_actions from a pool thread to the call's strand, and drops them once the
/// call has been answered (by its timeout): the session may be gone by then.
class registry::invocation::strand_actions final : public call_actions {
 public:
  explicit strand_actions(std::shared_ptr<invocation> owner) : owner_(std::move(owner)) {}
  void end_call_after_speech(std::string reason) override {
    forward([reason = std::move(reason)](call_actions& a) mutable { a.end_call_after_speech(std::move(reason)); });
  }
  void transfer_after_speech(std::string reason) override {
    forward([reason = std::move(reason)](call_actions& a) mutable { a.transfer_after_speech(std::move(reason)); });
  }
  void set_language(std::string language) override {
    forward([language = std::move(language)](call_actions& a) mutable { a.set_language(std::move(language)); });
  }
  std::string call_id() const override { return owner_->session_call_id; }

 private:
  template <class F>
  void forward(F f) {
    net::post(owner_->ex, [owner = owner_, f = std::move(f)]() mutable {
      if (owner->finished.load()) {
        spdlog::warn("tool {} call {}: call action dropped, the call was already answered", owner->target->name,
                     shortened(owner->call.call_id));
        return;
      }
      f(*owner->actions);
    });
  }

  std::shared_ptr<invocation> owner_;  ///< the call whose strand and actions are used
};

void registry::invocation::start() {
  if (!target) {
    spdlog::warn("tool call {}: unknown tool '{}'", shortened(call.call_id), shortened(call.name));
    finish(tool_error("unknown_tool", "there is no tool named '" + shortened(call.name) + "'; tools: " + known_names,
                      "name"),
           outcome::unknown);
    return;
  }
  std::string arguments;
  if (auto refused = check_arguments(arguments)) {
    spdlog::warn("tool {} call {}: arguments refused: {}", target->name, shortened(call.call_id),
                 refused->output_json);
    finish(std::move(*refused), outcome::invalid);
    return;
  }
  if (target->run_async) {
    start_async(arguments);
    return;
  }
  if (!target->blocking) {
    complete(run_guarded(arguments, *actions));
    return;
  }
  arm_deadline();
  net::post(*pool, [self = shared_from_this(), arguments = std::move(arguments)] {
    strand_actions proxy(self);
    tool_result r = self->run_guarded(arguments, proxy);
    auto ex = self->ex;
    net::post(ex, [self = std::move(self), r = std::move(r)]() mutable { self->complete(std::move(r)); });
  });
}

void registry::invocation::arm_deadline() {
  timer.emplace(ex);
  timer->expires_after(target->deadline);
  timer->async_wait([weak = weak_from_this()](error_code ec) {
    if (ec) return;
    if (auto self = weak.lock()) self->time_out();
  });
}

void registry::invocation::start_async(const std::string& arguments) {
  arm_deadline();
  // Holding the invocation keeps `done` reachable however late the handler finishes.
  auto finish = [self = shared_from_this()](tool_result r) {
    auto strand = self->ex;
    net::post(strand, [self = std::move(self), r = std::move(r)]() mutable { self->complete(self->checked(std::move(r))); });
  };
  try {
    target->run_async(arguments, session_call_id, ex, std::move(finish));
    return;
  } catch (const std::exception& e) {
    spdlog::error("tool {} call {}: handler threw: {}", target->name, shortened(call.call_id), e.what());
  } catch (...) {
    spdlog::error("tool {} call {}: handler threw a non-standard exception", target->name, shortened(call.call_id));
  }
  complete(tool_error("tool_failed", target->name + " failed; apologise and offer another way to help"));
}

registry::registry(net::thread_pool& blocking_pool, std::chrono::milliseconds default_deadline,
                   obs::metrics_registry& metrics)
    : blocking_pool_(blocking_pool),
      default_deadline_(default_deadline),
      metrics_(metrics),
      unknown_calls_(metrics.get_counter("tool_calls_total", "Tool calls by outcome",
                                         {{"tool", "unknown"}, {"outcome", "unknown"}})) {
  if (default_deadline.count() <= 0) throw std::invalid_argument("tool deadline must be positive");
}

registry::~registry() = default;

void registry::add(std::string name, std::string description, std::string schema_json, handler h, bool blocking,
                   std::optional<std::chrono::milliseconds> deadline) {
  if (!h) throw std::invalid_argument("tool '" + name + "' has no handler");
  add_tool(std::move(name), std::move(description), schema_json, std::move(h), {}, blocking, deadline);
}

void registry::add_async(std::string name, std::string description, std::string schema_json, async_handler h,
                         std::optional<std::chrono::milliseconds> deadline) {
  if (!h) throw std::invalid_argument("tool '" + name + "' has no handler");
  add_tool(std::move(name), std::move(description), schema_json, {}, std::move(h), false, deadline);
}

void registry::add_tool(std::string name, std::string description, const std::string& schema_json, handler h,
                        async_handler ah, bool blocking, std::optional<std::chrono::milliseconds> deadline) {
  if (!valid_name(name)) throw std::invalid_argument("tool name '" + name + "' must be 1-64 of [A-Za-z0-9_-]");
  if (by_name_.count(name) != 0) throw std::invalid_argument("tool '" + name + "' is already registered");
  const auto limit = deadline.value_or(default_deadline_);
  if (limit.count() <= 0) throw std::invalid_argument("tool '" + name + "': deadline must be positive");
  json schema;
  try {
    schema = json::parse(schema_json);
  } catch (const json::parse_error& e) {
    throw std::invalid_argument("tool '" + name + "': schema is not JSON: " + e.what());
  }
  std::shared_ptr<const tool> t;
  try {
    t = std::make_shared<const tool>(name, std::move(description), schema, std::move(h), std::move(ah), blocking,
                                     limit, metrics_);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument("tool '" + name + "': " + e.what());
  }
  tools_.push_back(t);
  by_name_.emplace(std::move(name), std::move(t));
}

std::vector<tool_registry::spec> registry::specs() const {
  std::vector<spec> out;
  out.reserve(tools_.size());
  for (const auto& t : tools_) out.push_back({t->name, t->description, t->parameters_json});
  return out;
}

void registry::invoke(tool_call call, call_actions& actions, executor ex, std::function<void(tool_result)> done) {
  auto inv = std::make_shared<invocation>();
  if (auto it = by_name_.find(call.name); it != by_name_.end()) {
    inv->target = it->second;
  } else {
    for (const auto& t : tools_) inv->known_names += (inv->known_names.empty() ? "" : ", ") + t->name;
  }
  inv->call = std::move(call);
  inv->actions = &actions;
  inv->session_call_id = actions.call_id();
  inv->ex = ex;
  inv->done = std::move(done);
  inv->pool = &blocking_pool_;
  inv->unknown_calls = &unknown_calls_;
  // Always through the strand, even for an unknown tool: `done` never runs inside invoke().
  net::post(ex, [inv = std::move(inv)] { inv->start(); });
}

}  // namespace npcl::tools
