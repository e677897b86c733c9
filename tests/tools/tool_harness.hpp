#pragma once
// Runs a tools::registry the way a session does: one event-loop thread, a strand per call,
// a separate pool for blocking handlers, and results collected for the test to wait on.
#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "npcl/obs/metrics.hpp"
#include "npcl/tools/registry.hpp"

namespace npcl::test {

namespace net = boost::asio;
using namespace std::chrono_literals;

/// How long a test waits for something that should happen at once.
inline constexpr auto patience = 5s;

/// call_actions that records what was asked and whether it was asked on the strand.
class recording_actions final : public tools::call_actions {
 public:
  explicit recording_actions(executor strand) : strand_(std::move(strand)) {}
  void end_call_after_speech(std::string reason) override { record("end_call", std::move(reason)); }
  void transfer_after_speech(std::string reason) override { record("transfer", std::move(reason)); }
  void set_language(std::string language) override { record("set_language", std::move(language)); }
  std::string call_id() const override { return harness_call_id; }

  /// The id every call of this harness has, as a session would give its own.
  static constexpr const char* harness_call_id = "5f0c2a1e-call-under-test";

  struct action {
    std::string what;      ///< end_call, transfer or set_language
    std::string argument;  ///< reason or language
    bool on_strand;        ///< called from inside the call's strand
  };
  std::vector<action> actions() const {
    std::lock_guard lock(mutex_);
    return actions_;
  }

  /// Exactly one action was asked, this one, and on the strand.
  testing::AssertionResult asked_once(const std::string& what, const std::string& argument) const {
    auto all = actions();
    if (all.size() != 1) return testing::AssertionFailure() << all.size() << " actions asked";
    if (all[0].what != what || all[0].argument != argument) {
      return testing::AssertionFailure() << "asked " << all[0].what << "(" << all[0].argument << ")";
    }
    if (!all[0].on_strand) return testing::AssertionFailure() << all[0].what << " asked off the strand";
    return testing::AssertionSuccess();
  }

 private:
  void record(std::string what, std::string argument) {
    std::lock_guard lock(mutex_);
    actions_.push_back({std::move(what), std::move(argument),
                        strand_.target<net::strand<net::io_context::executor_type>>()->running_in_this_thread()});
  }
  executor strand_;                 ///< the call's strand
  mutable std::mutex mutex_;        ///< guards actions_
  std::vector<action> actions_;     ///< in the order asked
};

class tool_harness {
 public:
  /// `pool_threads` above one lets blocking handlers run side by side (drain_pool() is then
  /// no longer a barrier).
  explicit tool_harness(std::chrono::milliseconds default_deadline = 2s, std::size_t pool_threads = 1)
      : pool_(pool_threads), registry_(pool_, default_deadline, metrics_), strand_(net::make_strand(io_)), actions_(strand_) {
    loop_ = std::thread([this] {
      {
        std::lock_guard lock(mutex_);
        loop_id_ = std::this_thread::get_id();
      }
      io_.run();
    });
  }
  ~tool_harness() {
    work_.reset();
    io_.stop();
    loop_.join();
    pool_.join();
  }

  struct answer {
    tools::tool_result result;  ///< as passed to `done`
    bool on_strand;             ///< `done` ran inside the call's strand
    std::chrono::steady_clock::time_point at;  ///< when `done` ran
  };

  tools::registry& tools() { return registry_; }
  obs::metrics_registry& metrics() { return metrics_; }
  recording_actions& actions() { return actions_; }
  net::thread_pool& pool() { return pool_; }
  executor strand() const { return strand_; }
  std::thread::id loop_thread() {
    std::lock_guard lock(mutex_);
    return loop_id_;
  }

  /// Starts a call; its answer is collected by answers()/wait_for_answers().
  void invoke(std::string name, std::string arguments) {
    registry_.invoke({"call_" + std::to_string(++sent_), std::move(name), std::move(arguments)}, actions_, strand_,
                     [this](tools::tool_result r) {
                       auto* s = strand_.target<net::strand<net::io_context::executor_type>>();
                       std::lock_guard lock(mutex_);
                       answers_.push_back({std::move(r), s->running_in_this_thread(), std::chrono::steady_clock::now()});
                       changed_.notify_all();
                     });
  }

  testing::AssertionResult wait_for_answers(std::size_t n, std::chrono::milliseconds timeout = patience) {
    std::unique_lock lock(mutex_);
    if (changed_.wait_for(lock, timeout, [&] { return answers_.size() >= n; })) return testing::AssertionSuccess();
    return testing::AssertionFailure() << answers_.size() << " answers after " << timeout.count() << " ms, wanted "
                                       << n;
  }

  /// Invokes and waits for exactly this call's answer.
  answer call(std::string name, std::string arguments) {
    std::size_t before = answers().size();
    invoke(std::move(name), std::move(arguments));
    EXPECT_TRUE(wait_for_answers(before + 1));
    auto all = answers();
    return all.size() > before ? all[before] : answer{};
  }

  std::vector<answer> answers() const {
    std::lock_guard lock(mutex_);
    return answers_;
  }

  /// Returns once everything posted to the strand before this call has run.
  testing::AssertionResult drain_strand() { return drain(strand_); }
  /// Returns once every job queued on the one-thread blocking pool before this call has run.
  testing::AssertionResult drain_pool() { return drain(pool_.get_executor()); }

  std::uint64_t calls(const std::string& tool, const std::string& outcome) {
    return metrics_.get_counter("tool_calls_total", "Tool calls by outcome", {{"tool", tool}, {"outcome", outcome}})
        .value();
  }

 private:
  template <class Executor>
  testing::AssertionResult drain(Executor ex) {
    std::mutex m;
    std::condition_variable cv;
    bool ran = false;
    net::post(ex, [&] {
      std::lock_guard lock(m);
      ran = true;
      cv.notify_all();
    });
    std::unique_lock lock(m);
    if (cv.wait_for(lock, patience, [&] { return ran; })) return testing::AssertionSuccess();
    return testing::AssertionFailure() << "executor did not drain";
  }

  net::io_context io_;                                             ///< the event loop
  net::executor_work_guard<net::io_context::executor_type> work_{io_.get_executor()};  ///< keeps run() going
  net::thread_pool pool_;           ///< blocking handlers; one thread by default so drain_pool() is FIFO
  obs::metrics_registry metrics_;   ///< where tool_calls_total lands
  tools::registry registry_;        ///< under test
  executor strand_;                 ///< the one call's strand
  recording_actions actions_;       ///< the one call's session
  std::thread loop_;                ///< runs io_
  mutable std::mutex mutex_;        ///< guards loop_id_ and answers_
  std::condition_variable changed_; ///< signalled on each answer
  std::thread::id loop_id_;         ///< the event-loop thread
  std::vector<answer> answers_;     ///< in arrival order
  int sent_ = 0;                    ///< calls started, for call ids
};

/// The output of a result as JSON; a test failure (and null) when it is not valid JSON.
inline nlohmann::json output_of(const tools::tool_result& r) {
  auto j = nlohmann::json::parse(r.output_json, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << "output is not JSON: " << r.output_json;
  return j.is_discarded() ? nlohmann::json() : j;
}

}  // namespace npcl::test
