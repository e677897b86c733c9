// The REST client against the fake Asterisk: errors surface status and
// message, deadlines hold, connections are reused.
#include "npcl/ari/rest_client.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>

#include "fakes/fake_ari_server.hpp"
#include "npcl/ari/rest_call_control.hpp"
#include "npcl/obs/metrics.hpp"

namespace npcl::ari {
namespace {

using namespace std::chrono_literals;

ari_options options_for(const fakes::fake_ari_server& fake) {
  ari_options o;
  o.base_url = fake.base_url();
  o.host = "127.0.0.1";
  o.port = fake.port();
  o.password = "1234";
  o.request_timeout = 500ms;
  return o;
}

// Runs one coroutine to completion on a private io_context.
template <class T>
T run(net::io_context& ioc, net::awaitable<T> a) {
  auto f = net::co_spawn(ioc, std::move(a), net::use_future);
  ioc.restart();
  ioc.run();
  return f.get();
}

TEST(rest_client, ari_error_replies_surface_status_and_message) {
  fakes::fake_ari_server fake;
  net::io_context ioc;
  obs::metrics_registry m;
  rest_client client(ioc, options_for(fake), m);
  auto r = run(ioc, client.request("GET", "/channels/does-not-exist"));
  EXPECT_FALSE(r.ok());
  EXPECT_FALSE(r.ec);
  EXPECT_EQ(r.status, 404u);
  EXPECT_EQ(r.message, "Channel not found");

  rest_call_control control(client, "openai-voice-assistant");
  external_media_request bad;
  bad.channel_id = "em-1";
  bad.external_host = "127.0.0.1";  // no port: Asterisk refuses
  bad.format = "ulaw";
  auto em = run(ioc, control.create_external_media(bad));
  EXPECT_EQ(em.status, 400u);
  EXPECT_EQ(em.message, "external_host must be <host>:<port> for all transports other than websocket");
}

TEST(rest_client, wrong_password_is_a_401_with_asterisk_message) {
  fakes::fake_ari_server fake;
  net::io_context ioc;
  obs::metrics_registry m;
  auto o = options_for(fake);
  o.password = "wrong";
  rest_client client(ioc, o, m);
  auto r = run(ioc, client.request("GET", "/channels"));
  EXPECT_EQ(r.status, 401u);
  EXPECT_EQ(r.message, "Authentication required");
}

TEST(rest_client, a_late_reply_times_out_at_the_deadline) {
  fakes::fake_ari_server fake;
  fake.delay_replies("GET", "/channels", 2s);
  net::io_context ioc;
  obs::metrics_registry m;
  rest_client client(ioc, options_for(fake), m);
  auto t0 = std::chrono::steady_clock::now();
  auto r = run(ioc, client.request("GET", "/channels"));
  auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(r.ec, net::error::timed_out) << r.ec.message();
  EXPECT_GE(took, 450ms);
  EXPECT_LT(took, 1500ms);
  EXPECT_EQ(m.get_counter("ari_request_failures_total", "").value(), 1u);
}

TEST(rest_client, nothing_listening_is_a_transport_error_not_a_crash) {
  ari_options o;
  o.host = "127.0.0.1";
  o.port = 1;  // nothing listens on port 1
  o.connect_timeout = 500ms;
  net::io_context ioc;
  obs::metrics_registry m;
  rest_client client(ioc, o, m);
  auto r = run(ioc, client.request("GET", "/channels"));
  EXPECT_TRUE(r.ec);
  EXPECT_EQ(r.status, 0u);
  EXPECT_FALSE(r.message.empty());
}

// Call control through a REST client on a fake Asterisk, as the daemon has it.
struct control_on_fake {
  fakes::fake_ari_server fake;
  net::io_context ioc;
  obs::metrics_registry m;
  rest_client client{ioc, options_for(fake), m};
  rest_call_control control{client, "openai-voice-assistant"};
};

TEST(rest_client, successful_replies_and_channel_lists) {
  control_on_fake t;
  auto b = run(t.ioc, t.control.create_bridge("b-1"));
  EXPECT_TRUE(b.ok()) << b.status << " " << b.message;
  auto dup = run(t.ioc, t.control.create_bridge("b-1"));
  EXPECT_EQ(dup.status, 409u);
  auto list = run(t.ioc, t.control.list_channels());
  ASSERT_TRUE(list);
  EXPECT_TRUE(list->empty());
  EXPECT_TRUE(run(t.ioc, t.control.destroy_bridge("b-1")).ok());
  EXPECT_TRUE(run(t.ioc, t.control.destroy_bridge("b-1")).not_found());
  EXPECT_EQ(t.m.get_histogram("ari_request_duration_seconds", "", obs::latency_buckets()).count(), 5u);
}

TEST(rest_client, redirect_sends_the_endpoint_encoded_and_surfaces_asterisk_refusals) {
  control_on_fake t;
  auto r = run(t.ioc, t.control.redirect("no-such-channel", "Local/100@agents"));
  EXPECT_EQ(r.status, 404u);
  EXPECT_EQ(r.message, "Channel not found");
  const auto requests = t.fake.requests();
  ASSERT_FALSE(requests.empty());
  const auto& sent = requests.back();
  EXPECT_EQ(sent.method, "POST");
  // '/' and '@' travel percent-encoded and arrive as they were given.
  EXPECT_EQ(sent.path, "/channels/no-such-channel/redirect");
  EXPECT_EQ(sent.query.at("endpoint"), "Local/100@agents");

  t.fake.delay_replies("POST", "/channels/late/redirect", 2s);
  auto late = run(t.ioc, t.control.redirect("late", "PJSIP/agents"));
  EXPECT_EQ(late.ec, net::error::timed_out) << late.ec.message();
  EXPECT_FALSE(late.ok());
}

}  // namespace
}  // namespace npcl::ari
