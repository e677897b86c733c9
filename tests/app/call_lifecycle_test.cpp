// A call's life from StasisStart to the last Asterisk resource, against a
// fake Asterisk that behaves like the captured real one.
#include <gtest/gtest.h>

#include <set>

#include "app/daemon_harness.hpp"
#include "app/http_get.hpp"

namespace npcl::test {
namespace {

using fakes::fake_ari_server;

const fakes::recorded_request* find_request(const std::vector<fakes::recorded_request>& all,
                                            const std::string& method, const std::string& prefix) {
  for (const auto& r : all)
    if (r.method == method && r.path.rfind(prefix, 0) == 0) return &r;
  return nullptr;
}

class call_lifecycle : public testing::Test {
 protected:
  fake_ari_server fake_;
};

TEST_F(call_lifecycle, call_is_answered_bridged_to_external_media_and_cleaned_up_on_hangup) {
  running_daemon d(settings_for(fake_));
  ASSERT_TRUE(fake_.wait_for_events_connection(5s));
  auto caller = fake_.place_call("9876543210", "Ram");
  ASSERT_FALSE(caller.empty());
  ASSERT_TRUE(fake_.wait_for_bridged(caller, 5s));

  auto bridges = fake_.bridges();
  ASSERT_EQ(bridges.size(), 1u);
  EXPECT_EQ(bridges[0].type, "mixing");
  ASSERT_EQ(bridges[0].channels.size(), 2u);
  auto requests = fake_.requests();
  auto* em = find_request(requests, "POST", "/channels/externalMedia");
  ASSERT_NE(em, nullptr);
  EXPECT_EQ(em->status, 200u);
  EXPECT_EQ(em->query.at("format"), "ulaw");
  EXPECT_EQ(em->query.at("encapsulation"), "rtp");
  EXPECT_EQ(em->query.at("transport"), "udp");
  EXPECT_EQ(em->query.at("app"), "openai-voice-assistant");
  const auto& host = em->query.at("external_host");
  ASSERT_EQ(host.rfind("127.0.0.1:", 0), 0u) << host;
  int port = std::stoi(host.substr(10));
  EXPECT_GE(port, 42000);
  EXPECT_LE(port, 42199);
  auto* answer = find_request(requests, "POST", "/channels/" + caller + "/answer");
  ASSERT_NE(answer, nullptr);
  EXPECT_EQ(answer->status, 204u);

  EXPECT_TRUE(eventually([&] { return d->calls().active() == 1; }, 2s, "call registered"));
  EXPECT_TRUE(metric_becomes(d->http_port(), "calls_active", 1));

  fake_.caller_hangup(caller);
  ASSERT_TRUE(fake_.wait_for_idle(5s));
  EXPECT_TRUE(eventually([&] { return d->calls().active() == 0; }, 2s, "call removed"));
  EXPECT_TRUE(metric_becomes(d->http_port(), "calls_total{outcome=\"completed\"}", 1));
  EXPECT_TRUE(metric_becomes(d->http_port(), "calls_active", 0));
}

TEST_F(call_lifecycle, own_external_media_channel_entering_stasis_is_not_taken_for_a_caller) {
  running_daemon d(settings_for(fake_));
  ASSERT_TRUE(fake_.wait_for_events_connection(5s));
  auto caller = fake_.place_call();
  ASSERT_TRUE(fake_.wait_for_bridged(caller, 5s));
  // The media channel's StasisStart must not start a second call: exactly one
  // answer, one bridge, one externalMedia.
  EXPECT_TRUE(eventually([&] { return d->calls().active() == 1; }, 2s, "one call"));
  int answers = 0, media = 0;
  for (const auto& r : fake_.requests()) {
    if (r.path.find("/answer") != std::string::npos) ++answers;
    if (r.path == "/channels/externalMedia") ++media;
  }
  EXPECT_EQ(answers, 1);
  EXPECT_EQ(media, 1);
  EXPECT_EQ(fake_.bridges().size(), 1u);
  fake_.caller_hangup(caller);
  EXPECT_TRUE(fake_.wait_for_idle(5s));
}

TEST_F(call_lifecycle, caller_hanging_up_during_setup_leaves_nothing_behind) {
  running_daemon d(settings_for(fake_));
  ASSERT_TRUE(fake_.wait_for_events_connection(5s));
  fake_.delay_replies("POST", "/channels/externalMedia", 300ms);
  auto caller = fake_.place_call();
  ASSERT_TRUE(fake_.wait_for_request("POST", "/channels/externalMedia", 5s));
  fake_.caller_hangup(caller);
  EXPECT_TRUE(fake_.wait_for_idle(5s));
  EXPECT_TRUE(eventually([&] { return d->calls().active() == 0; }, 3s, "call removed"));
  EXPECT_TRUE(metric_becomes(d->http_port(), "calls_total{outcome=\"abandoned\"}", 1));
}

struct failing_step {
  const char* name;
  fakes::fault fault;
};

void PrintTo(const failing_step& s, std::ostream* os) { *os << s.name; }

class setup_step_failure : public testing::TestWithParam<failing_step> {
 protected:
  fake_ari_server fake_;
};

TEST_P(setup_step_failure, tears_down_everything_already_created) {
  running_daemon d(settings_for(fake_));
  ASSERT_TRUE(fake_.wait_for_events_connection(5s));
  fake_.add_fault(GetParam().fault);
  auto caller = fake_.place_call();
  ASSERT_FALSE(caller.empty());
  EXPECT_TRUE(fake_.wait_for_idle(5s)) << "left on Asterisk after a failed " << GetParam().name;
  EXPECT_TRUE(eventually([&] { return d->calls().active() == 0; }, 3s, "call removed"));
  EXPECT_TRUE(metric_becomes(d->http_port(), "calls_total{outcome=\"setup_failed\"}", 1));
}

INSTANTIATE_TEST_SUITE_P(
    each_step, setup_step_failure,
    testing::Values(failing_step{"answer", {"POST", "/channels/", 1, 500, "Internal Server Error"}},
                    failing_step{"bridge", {"POST", "/bridges", 1, 500, "Unable to create bridge"}},
                    failing_step{"externalMedia", {"POST", "/channels/externalMedia", 1, 400, "format cannot be empty"}},
                    failing_step{"addChannel", {"POST", "/bridges/", 1, 400, "Channel not found"}}),
    [](const auto& info) { return std::string(info.param.name); });

TEST_F(call_lifecycle, events_socket_drop_mid_call_keeps_the_call_and_reconnects) {
  running_daemon d(settings_for(fake_));
  ASSERT_TRUE(fake_.wait_for_events_connection(5s));
  auto caller = fake_.place_call();
  ASSERT_TRUE(fake_.wait_for_bridged(caller, 5s));

  fake_.drop_events_socket();
  ASSERT_TRUE(eventually(
      [&] {
        return metric_value(http_get(d->http_port(), "/metrics").body, "ari_reconnects_total") >= 1 &&
               fake_.events_connections() == 1;
      },
      5s, "reconnect"));
  // The call survived: still bridged, nothing deleted.
  ASSERT_EQ(fake_.bridges().size(), 1u);
  EXPECT_EQ(fake_.bridges()[0].channels.size(), 2u);
  EXPECT_EQ(d->calls().active(), 1u);

  fake_.caller_hangup(caller);
  EXPECT_TRUE(fake_.wait_for_idle(5s));
}

TEST_F(call_lifecycle, hangup_missed_while_disconnected_is_found_by_reconciliation) {
  running_daemon d(settings_for(fake_));
  ASSERT_TRUE(fake_.wait_for_events_connection(5s));
  auto caller = fake_.place_call();
  ASSERT_TRUE(fake_.wait_for_bridged(caller, 5s));

  fake_.refuse_events(true);
  fake_.drop_events_socket();
  ASSERT_TRUE(eventually([&] { return fake_.events_connections() == 0; }, 2s, "socket closed"));
  fake_.caller_hangup(caller);  // its events are lost, as on a real Asterisk
  fake_.refuse_events(false);
  ASSERT_TRUE(fake_.wait_for_events_connection(5s));
  // Reconciliation notices the caller is gone and removes bridge + media channel.
  EXPECT_TRUE(fake_.wait_for_idle(5s));
  EXPECT_TRUE(eventually([&] { return d->calls().active() == 0; }, 3s, "call removed"));
  EXPECT_TRUE(metric_becomes(d->http_port(), "calls_total{outcome=\"lost\"}", 1));
}

TEST_F(call_lifecycle, fifty_simultaneous_calls_each_get_their_own_bridge) {
  running_daemon d(settings_for(fake_));
  ASSERT_TRUE(fake_.wait_for_events_connection(5s));
  std::vector<std::string> callers;
  for (int i = 0; i < 50; ++i) callers.push_back(fake_.place_call("55510" + std::to_string(10 + i)));
  for (const auto& c : callers) ASSERT_TRUE(fake_.wait_for_bridged(c, 10s)) << c;
  auto bridges = fake_.bridges();
  ASSERT_EQ(bridges.size(), 50u);
  std::set<std::string> seen;
  for (const auto& b : bridges) {
    ASSERT_EQ(b.channels.size(), 2u);
    for (const auto& ch : b.channels) EXPECT_TRUE(seen.insert(ch).second) << ch << " in two bridges";
  }
  std::set<std::string> ports;
  for (const auto& r : fake_.requests())
    if (r.path == "/channels/externalMedia") ports.insert(r.query.at("external_host"));
  EXPECT_EQ(ports.size(), 50u) << "two calls share an RTP port";
  EXPECT_EQ(d->calls().active(), 50u);
  for (const auto& c : callers) fake_.caller_hangup(c);
  EXPECT_TRUE(fake_.wait_for_idle(10s));
  EXPECT_TRUE(eventually([&] { return d->calls().active() == 0; }, 5s, "all calls removed"));
}

TEST_F(call_lifecycle, max_call_duration_ends_the_call) {
  auto s = settings_for(fake_);
  s.session.max_call_duration = 1s;
  running_daemon d(std::move(s));
  ASSERT_TRUE(fake_.wait_for_events_connection(5s));
  auto caller = fake_.place_call();
  ASSERT_TRUE(fake_.wait_for_bridged(caller, 5s));
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(fake_.wait_for_idle(5s));
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 800ms) << "ended too early";
  auto* del = find_request(fake_.requests(), "DELETE", "/channels/" + caller);
  ASSERT_NE(del, nullptr) << "the daemon did not hang the caller up";
  EXPECT_TRUE(metric_becomes(d->http_port(), "calls_total{outcome=\"max_duration\"}", 1));
}

TEST_F(call_lifecycle, no_auto_answer_leaves_the_channel_state_alone) {
  auto s = settings_for(fake_);
  s.session.auto_answer = false;
  running_daemon d(std::move(s));
  ASSERT_TRUE(fake_.wait_for_events_connection(5s));
  auto caller = fake_.place_call();
  ASSERT_TRUE(fake_.wait_for_bridged(caller, 5s));
  EXPECT_EQ(find_request(fake_.requests(), "POST", "/channels/" + caller + "/answer"), nullptr);
  fake_.caller_hangup(caller);
  EXPECT_TRUE(fake_.wait_for_idle(5s));
}

}  // namespace
}  // namespace npcl::test
