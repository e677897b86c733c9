#include "npcl/tools/registry.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>

#include "tools/tool_harness.hpp"

namespace {

using npcl::executor;
using npcl::test::recording_actions;
namespace net = boost::asio;
using npcl::test::output_of;
using npcl::test::patience;
using npcl::test::tool_harness;
using npcl::tools::call_actions;
using npcl::tools::tool_error;
using npcl::tools::tool_ok;
using npcl::tools::tool_result;
using json = nlohmann::json;
using namespace std::chrono_literals;

constexpr const char* account_schema = R"({
  "type": "object",
  "properties": {"account": {"type": "string", "pattern": "^[0-9]{10}$", "maxLength": 10}},
  "required": ["account"]
})";

constexpr const char* open_schema = R"({"type": "object"})";

// A switch a test flips after it has seen what it waited for; handlers block on it.
class gate {
 public:
  void open() {
    std::lock_guard lock(m_);
    open_ = true;
    cv_.notify_all();
  }
  bool wait() {
    std::unique_lock lock(m_);
    return cv_.wait_for(lock, patience, [&] { return open_; });
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  bool open_ = false;
};

TEST(registry, runs_a_valid_call_and_returns_its_output_on_the_strand) {
  tool_harness h;
  std::atomic<int> runs{0};
  h.tools().add("balance", "Balance of an account.", account_schema,
                [&](const std::string& args, call_actions&) {
                  ++runs;
                  auto account = json::parse(args).at("account").get<std::string>();
                  return tool_ok(json{{"account", account}, {"due_rupees", 1234}}.dump());
                },
                false);
  auto a = h.call("balance", R"({"account":"0123456789"})");
  EXPECT_TRUE(a.result.ok);
  EXPECT_TRUE(a.result.error_code.empty());
  EXPECT_TRUE(a.on_strand);
  auto out = output_of(a.result);
  EXPECT_EQ(out["account"], "0123456789");
  EXPECT_EQ(out["due_rupees"], 1234);
  EXPECT_EQ(runs.load(), 1);
  EXPECT_EQ(h.calls("balance", "ok"), 1u);
  EXPECT_NE(h.metrics().render().find("tool_duration_seconds_count{tool=\"balance\"} 1"), std::string::npos)
      << h.metrics().render();
}

TEST(registry, done_is_never_called_inside_invoke) {
  tool_harness h;
  h.tools().add("noop", "Nothing.", open_schema, [](const std::string&, call_actions&) { return tool_ok("{}"); },
                false);
  std::atomic<bool> invoke_returned{false}, done_saw_return{false};
  gate finished;
  boost::asio::post(h.strand(), [&] {
    h.tools().invoke({"c1", "noop", "{}"}, h.actions(), h.strand(), [&](tool_result) {
      done_saw_return = invoke_returned.load();
      finished.open();
    });
    invoke_returned = true;
  });
  ASSERT_TRUE(finished.wait());
  EXPECT_TRUE(done_saw_return.load());
}

TEST(registry, unknown_tool_is_answered_with_the_tools_that_exist) {
  tool_harness h;
  h.tools().add("balance", "Balance.", account_schema, [](const std::string&, call_actions&) { return tool_ok("{}"); },
                false);
  auto a = h.call("balence", "{}");
  EXPECT_FALSE(a.result.ok);
  EXPECT_EQ(a.result.error_code, "unknown_tool");
  EXPECT_TRUE(a.on_strand);
  auto out = output_of(a.result);
  EXPECT_EQ(out["error"], "unknown_tool");
  EXPECT_NE(out["message"].get<std::string>().find("balance"), std::string::npos) << out;
  EXPECT_EQ(h.calls("unknown", "unknown"), 1u);
  EXPECT_EQ(h.calls("balance", "ok"), 0u);
}

TEST(registry, malformed_json_is_refused_without_running_the_tool) {
  tool_harness h;
  std::atomic<int> runs{0};
  h.tools().add("balance", "Balance.", account_schema,
                [&](const std::string&, call_actions&) { ++runs; return tool_ok("{}"); }, false);
  for (const char* bad : {R"({"account":)", R"({"account":"0123456789"} trailing)", "{'account':1}", "\"\xff\""}) {
    auto a = h.call("balance", bad);
    EXPECT_FALSE(a.result.ok) << bad;
    EXPECT_EQ(a.result.error_code, "invalid_json") << bad;
    EXPECT_EQ(output_of(a.result)["error"], "invalid_json") << bad;
  }
  auto not_object = h.call("balance", R"(["0123456789"])");
  EXPECT_EQ(not_object.result.error_code, "invalid_arguments");
  EXPECT_EQ(runs.load(), 0);
  EXPECT_EQ(h.calls("balance", "invalid"), 5u);
}

TEST(registry, empty_argument_text_means_no_arguments) {
  tool_harness h;
  std::string seen;
  h.tools().add("hours", "Office hours.", open_schema,
                [&](const std::string& args, call_actions&) { seen = args; return tool_ok(R"({"open":"9-17"})"); },
                false);
  auto a = h.call("hours", "");
  EXPECT_TRUE(a.result.ok) << a.result.output_json;
  EXPECT_EQ(seen, "{}");
  // The schema still applies to the empty object.
  h.tools().add("balance", "Balance.", account_schema, [](const std::string&, call_actions&) { return tool_ok("{}"); },
                false);
  auto b = h.call("balance", "  ");
  EXPECT_EQ(output_of(b.result)["field"], "account");
}

TEST(registry, arguments_over_the_size_limit_are_refused_and_at_the_limit_accepted) {
  tool_harness h;
  std::atomic<int> runs{0};
  h.tools().add("note", "Note.", R"({"type":"object","properties":{"text":{"type":"string"}}})",
                [&](const std::string&, call_actions&) { ++runs; return tool_ok("{}"); }, false);
  const std::string frame = R"({"text":""})";
  const auto limit = npcl::tools::registry::max_arguments_bytes;
  std::string at_limit = R"({"text":")" + std::string(limit - frame.size(), 'x') + R"("})";
  ASSERT_EQ(at_limit.size(), limit);
  EXPECT_TRUE(h.call("note", at_limit).result.ok);

  std::string over = R"({"text":")" + std::string(limit - frame.size() + 1, 'x') + R"("})";
  auto a = h.call("note", over);
  EXPECT_FALSE(a.result.ok);
  EXPECT_EQ(a.result.error_code, "arguments_too_large");
  EXPECT_EQ(output_of(a.result)["error"], "arguments_too_large");
  EXPECT_EQ(runs.load(), 1);
}

TEST(registry, arguments_nested_too_deep_are_refused_and_at_the_limit_accepted) {
  tool_harness h;
  std::atomic<int> runs{0};
  h.tools().add("deep", "Deep.", open_schema,
                [&](const std::string&, call_actions&) { ++runs; return tool_ok("{}"); }, false);
  auto nested = [](std::size_t depth) {  // one object holding depth - 1 arrays
    return R"({"x":)" + std::string(depth - 1, '[') + std::string(depth - 1, ']') + "}";
  };
  const auto limit = npcl::tools::registry::max_arguments_depth;
  EXPECT_TRUE(h.call("deep", nested(limit)).result.ok);
  auto a = h.call("deep", nested(limit + 1));
  EXPECT_EQ(a.result.error_code, "arguments_too_deep");
  EXPECT_EQ(output_of(a.result)["error"], "arguments_too_deep");
  // A hostile depth far beyond the parser's comfort is refused just the same.
  EXPECT_EQ(h.call("deep", std::string(10000, '[')).result.error_code, "arguments_too_deep");
  EXPECT_EQ(runs.load(), 1);
}

TEST(registry, blocking_handler_runs_off_the_strand_and_its_result_arrives_on_it) {
  tool_harness h;
  std::thread::id handler_thread;
  h.tools().add("lookup", "Lookup.", open_schema,
                [&](const std::string&, call_actions&) {
                  handler_thread = std::this_thread::get_id();
                  return tool_ok(R"({"found":true})");
                },
                true);
  auto a = h.call("lookup", "{}");
  EXPECT_TRUE(a.result.ok);
  EXPECT_EQ(output_of(a.result)["found"], true);
  EXPECT_TRUE(a.on_strand);
  EXPECT_NE(handler_thread, std::thread::id{});
  EXPECT_NE(handler_thread, h.loop_thread());
}

TEST(registry, call_actions_from_a_blocking_handler_run_on_the_strand_before_the_result) {
  tool_harness h;
  h.tools().add("escalate", "Escalate.", open_schema,
                [](const std::string&, call_actions& actions) {
                  actions.transfer_after_speech("meter fire");
                  return tool_ok("{}");
                },
                true);
  auto a = h.call("escalate", "{}");
  EXPECT_TRUE(a.result.ok);
  EXPECT_TRUE(h.actions().asked_once("transfer", "meter fire"));
}

TEST(registry, blocking_handler_past_its_deadline_gets_a_timeout_and_its_late_result_is_dropped) {
  tool_harness h;
  gate release;
  h.tools().add("crm", "CRM lookup.", open_schema,
                [&](const std::string&, call_actions& actions) {
                  release.wait();
                  actions.end_call_after_speech("late");
                  return tool_ok(R"({"late":true})");
                },
                true, 300ms);
  const auto started = std::chrono::steady_clock::now();
  h.invoke("crm", "{}");
  ASSERT_TRUE(h.wait_for_answers(1));
  auto a = h.answers().at(0);
  const auto waited = a.at - started;
  EXPECT_GE(waited, 300ms);
  EXPECT_LT(waited, 300ms + 2s);
  EXPECT_FALSE(a.result.ok);
  EXPECT_EQ(a.result.error_code, "timeout");
  EXPECT_EQ(output_of(a.result)["error"], "timeout");
  EXPECT_TRUE(a.on_strand);

  release.open();
  // The pool runs jobs in order, so once it drains the handler has returned and posted its
  // result and action to the strand; once the strand drains they have been handled.
  ASSERT_TRUE(h.drain_pool());
  ASSERT_TRUE(h.drain_strand());
  EXPECT_EQ(h.answers().size(), 1u);
  EXPECT_TRUE(h.actions().actions().empty());
  EXPECT_EQ(h.calls("crm", "timeout"), 1u);
  EXPECT_EQ(h.calls("crm", "ok"), 0u);
}

TEST(registry, async_handler_starts_on_the_strand_with_the_call_id_and_may_finish_from_any_thread) {
  tool_harness h;
  bool started_on_strand = false;
  std::string seen_call_id;
  std::string seen_arguments;
  std::thread finisher;
  h.tools().add_async("crm", "CRM lookup.", open_schema,
                      [&](const std::string& arguments, const std::string& call_id, executor ex,
                          std::function<void(tool_result)> finish) {
                        started_on_strand = ex.target<net::strand<net::io_context::executor_type>>()
                                                ->running_in_this_thread();
                        seen_call_id = call_id;
                        seen_arguments = arguments;
                        finisher = std::thread([finish] { finish(tool_ok(R"({"found":true})")); });
                      });
  auto a = h.call("crm", R"({"n":1})");
  finisher.join();
  EXPECT_TRUE(a.result.ok);
  EXPECT_EQ(output_of(a.result)["found"], true);
  EXPECT_TRUE(a.on_strand);
  EXPECT_TRUE(started_on_strand);
  EXPECT_EQ(seen_call_id, recording_actions::harness_call_id);
  EXPECT_EQ(seen_arguments, R"({"n":1})");
  EXPECT_EQ(h.calls("crm", "ok"), 1u);
}

TEST(registry, async_handler_that_never_finishes_is_answered_at_its_deadline_and_a_late_result_dropped) {
  tool_harness h;
  std::function<void(tool_result)> kept;
  h.tools().add_async("crm", "CRM lookup.", open_schema,
                      [&](const std::string&, const std::string&, executor, std::function<void(tool_result)> finish) {
                        kept = std::move(finish);
                      },
                      200ms);
  const auto started = std::chrono::steady_clock::now();
  auto a = h.call("crm", "{}");
  EXPECT_GE(a.at - started, 200ms);
  EXPECT_EQ(a.result.error_code, "timeout");
  ASSERT_TRUE(h.drain_strand());
  ASSERT_TRUE(kept);
  kept(tool_ok(R"({"late":true})"));
  ASSERT_TRUE(h.drain_strand());
  EXPECT_EQ(h.answers().size(), 1u);
  EXPECT_EQ(h.calls("crm", "timeout"), 1u);
  EXPECT_EQ(h.calls("crm", "ok"), 0u);
}

TEST(registry, async_handler_that_throws_or_returns_bad_json_becomes_tool_failed) {
  tool_harness h;
  h.tools().add_async("throws", "Throws.", open_schema,
                      [](const std::string&, const std::string&, executor, std::function<void(tool_result)>) {
                        throw std::runtime_error("no route to CRM");
                      });
  h.tools().add_async("garbles", "Garbles.", open_schema,
                      [](const std::string&, const std::string&, executor, std::function<void(tool_result)> finish) {
                        finish(tool_ok("{not json"));
                      });
  EXPECT_EQ(h.call("throws", "{}").result.error_code, "tool_failed");
  EXPECT_EQ(h.call("garbles", "{}").result.error_code, "tool_failed");
  EXPECT_EQ(h.calls("throws", "error"), 1u);
}

TEST(registry, inline_handler_that_overruns_its_deadline_is_answered_with_a_timeout) {
  tool_harness h;
  h.tools().add("slow", "Slow.", open_schema,
                [](const std::string&, call_actions&) {
                  // Busy for longer than the deadline: an inline handler cannot be interrupted.
                  const auto until = std::chrono::steady_clock::now() + 30ms;
                  while (std::chrono::steady_clock::now() < until) {
                  }
                  return tool_ok("{}");
                },
                false, 5ms);
  auto a = h.call("slow", "{}");
  EXPECT_EQ(a.result.error_code, "timeout");
  EXPECT_EQ(h.calls("slow", "timeout"), 1u);
}

TEST(registry, handler_exception_becomes_an_error_output) {
  tool_harness h;
  h.tools().add("db", "Database.", open_schema,
                [](const std::string&, call_actions&) -> tool_result { throw std::runtime_error("sqlite: disk I/O error"); },
                true);
  h.tools().add("odd", "Odd.", open_schema, [](const std::string&, call_actions&) -> tool_result { throw 42; }, false);
  for (const char* name : {"db", "odd"}) {
    auto a = h.call(name, "{}");
    EXPECT_FALSE(a.result.ok) << name;
    EXPECT_EQ(a.result.error_code, "tool_failed") << name;
    auto out = output_of(a.result);
    EXPECT_EQ(out["error"], "tool_failed") << name;
    // Internal details stay in the log, not in what the model may read aloud.
    EXPECT_EQ(out["message"].get<std::string>().find("sqlite"), std::string::npos);
    EXPECT_EQ(h.calls(name, "error"), 1u) << name;
  }
}

TEST(registry, handler_output_that_is_not_json_is_replaced_by_an_error) {
  tool_harness h;
  h.tools().add("broken", "Broken.", open_schema,
                [](const std::string&, call_actions&) { return tool_ok("balance: 12"); }, false);
  auto a = h.call("broken", "{}");
  EXPECT_FALSE(a.result.ok);
  EXPECT_EQ(output_of(a.result)["error"], "tool_failed");
}

TEST(registry, handler_reported_failure_reaches_the_model_as_is) {
  tool_harness h;
  h.tools().add("balance", "Balance.", account_schema,
                [](const std::string&, call_actions&) {
                  return tool_error("account_not_found", "no account 0123456789", "account");
                },
                true);
  auto a = h.call("balance", R"({"account":"0123456789"})");
  EXPECT_FALSE(a.result.ok);
  EXPECT_EQ(a.result.error_code, "account_not_found");
  EXPECT_EQ(output_of(a.result), (json{{"error", "account_not_found"}, {"message", "no account 0123456789"},
                                       {"field", "account"}}));
  EXPECT_EQ(h.calls("balance", "error"), 1u);
}

TEST(registry, specs_list_tools_in_the_order_added) {
  tool_harness h;
  auto ok = [](const std::string&, call_actions&) { return tool_ok("{}"); };
  h.tools().add("b_tool", "Second letter.", account_schema, ok, false);
  h.tools().add("a_tool", "First letter.", open_schema, ok, true);
  auto specs = h.tools().specs();
  ASSERT_EQ(specs.size(), 2u);
  EXPECT_EQ(specs[0].name, "b_tool");
  EXPECT_EQ(specs[0].description, "Second letter.");
  EXPECT_EQ(json::parse(specs[0].parameters_json), json::parse(account_schema));
  EXPECT_EQ(specs[1].name, "a_tool");
}

TEST(registry, add_refuses_bad_tools_at_start_up) {
  tool_harness h;
  auto ok = [](const std::string&, call_actions&) { return tool_ok("{}"); };
  h.tools().add("balance", "Balance.", account_schema, ok, false);
  auto refused = [&](std::string name, std::string schema) {
    try {
      h.tools().add(std::move(name), "x", std::move(schema), ok, false);
    } catch (const std::invalid_argument& e) {
      return testing::AssertionSuccess() << e.what();
    }
    return testing::AssertionFailure() << "accepted";
  };
  EXPECT_TRUE(refused("balance", open_schema)) << "duplicate name";
  EXPECT_TRUE(refused("has space", open_schema));
  EXPECT_TRUE(refused("", open_schema));
  EXPECT_TRUE(refused("t1", "{not json"));
  EXPECT_TRUE(refused("t2", R"({"type":"array"})"));
  EXPECT_TRUE(refused("t3", R"({"type":"object","properties":{"a":{"type":"strng"}}})"));
  EXPECT_TRUE(refused("t4", R"({"type":"object","properties":{"a":{"type":"string","pattern":"(["}}})"));
  EXPECT_TRUE(refused("t5", R"({"type":"object","properties":{"a":{"type":"string","pattern":"^a+$"}}})"))
      << "pattern without maxLength";
  EXPECT_TRUE(refused("t6", R"({"type":"object","properties":{"a":{"type":"string","pattern":"^a+$","maxLength":100000}}})"));
  EXPECT_TRUE(refused("t7", R"({"type":"object","properties":{"a":{"type":"string","format":"date"}}})"));
  EXPECT_TRUE(refused("t8", R"({"type":"object","properties":{"a":{"type":"array","items":{"type":"string","pattern":"x"}}}})"))
      << "nested pattern without maxLength";
  EXPECT_THROW(h.tools().add("t9", "x", open_schema, {}, false), std::invalid_argument);
  EXPECT_THROW(h.tools().add("t10", "x", open_schema, ok, false, 0ms), std::invalid_argument);
  EXPECT_EQ(h.tools().specs().size(), 1u);
}

}  // namespace
