// SIGTERM drains: no new calls, active calls run up to SHUTDOWN_GRACE, exit 0.
#include <gtest/gtest.h>

#include <csignal>

#include "app/daemon_harness.hpp"
#include "app/http_get.hpp"

namespace npcl::test {
namespace {

using fakes::fake_ari_server;

TEST(shutdown, sigterm_lets_active_calls_finish_and_sends_new_callers_back_to_the_dialplan) {
  fake_ari_server fake;
  running_daemon d(settings_for(fake));
  ASSERT_TRUE(fake.wait_for_events_connection(5s));
  auto caller = fake.place_call();
  ASSERT_TRUE(fake.wait_for_bridged(caller, 5s));

  ASSERT_EQ(::kill(::getpid(), SIGTERM), 0);
  ASSERT_TRUE(eventually([&] { return http_get(d->http_port(), "/ready").status == 503; }, 3s, "not ready"));
  EXPECT_EQ(http_get(d->http_port(), "/health").status, 200);

  auto late = fake.place_call("5552000");
  ASSERT_FALSE(late.empty());
  ASSERT_TRUE(fake.wait_for_request("POST", "/channels/" + late + "/continue", 5s));
  EXPECT_EQ(fake.bridges().size(), 1u) << "a call was set up while draining";

  // The active call is untouched until its caller hangs up.
  EXPECT_EQ(fake.bridges()[0].channels.size(), 2u);
  fake.caller_hangup(caller);
  EXPECT_EQ(d.wait_exit(5s), 0);
  EXPECT_TRUE(fake.wait_for_idle(2s));
}

TEST(shutdown, grace_period_over_hangs_up_remaining_calls_and_exits_zero) {
  fake_ari_server fake;
  auto s = settings_for(fake);
  s.app.shutdown_grace = 1s;
  s.session.draining_action = session::new_call_action::hangup;
  running_daemon d(std::move(s));
  ASSERT_TRUE(fake.wait_for_events_connection(5s));
  auto caller = fake.place_call();
  ASSERT_TRUE(fake.wait_for_bridged(caller, 5s));

  auto t0 = std::chrono::steady_clock::now();
  d->request_shutdown();
  auto late = fake.place_call("5552000");
  ASSERT_TRUE(fake.wait_for_request("DELETE", "/channels/" + late, 5s)) << "late caller not hung up";
  EXPECT_EQ(d.wait_exit(5s), 0);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 900ms) << "did not wait for the grace period";
  EXPECT_TRUE(fake.wait_for_idle(2s));
}

TEST(shutdown, idle_daemon_exits_at_once) {
  fake_ari_server fake;
  running_daemon d(settings_for(fake));
  ASSERT_TRUE(fake.wait_for_events_connection(5s));
  d->request_shutdown();
  EXPECT_EQ(d.wait_exit(3s), 0);
  EXPECT_TRUE(eventually([&] { return fake.events_connections() == 0; }, 2s, "events socket closed"));
}

}  // namespace
}  // namespace npcl::test
