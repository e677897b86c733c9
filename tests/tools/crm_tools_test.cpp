// The customer-service tools answered by a utility's CRM (TOOL_BACKEND=http), against the
// fake CRM: what is sent, how it is signed, which failures are tried again and which never,
// and that the model hears only the CRM's answer or "unavailable".
#include "npcl/tools/crm_tools.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>

#include "fakes/fake_crm_server.hpp"
#include "npcl/tools/tools_options.hpp"
#include "tools/tool_harness.hpp"

namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;
using npcl::fakes::crm_reply;
using npcl::fakes::fake_crm_server;
using npcl::fakes::fake_crm_options;
using npcl::test::output_of;
using npcl::test::recording_actions;
using npcl::test::tool_harness;
using npcl::tools::tools_options;

// The options a daemon would parse from TOOL_BACKEND_URL=<fake's url> and the fake's secret.
tools_options options_for(const fake_crm_server& crm) {
  tools_options o;
  o.backend = npcl::tools::tool_backend::http;
  o.url = crm.url();
  o.endpoint.tls = o.url.rfind("https", 0) == 0;
  o.endpoint.host = "127.0.0.1";
  o.endpoint.port = crm.port();
  o.endpoint.target = "/npcl/tools";
  o.secret = crm.secret();
  o.ca_file = crm.ca_file();
  o.attempt_timeout = 1s;
  o.deadline = 3s;
  o.retries = 2;
  return o;
}

constexpr const char* a_lookup = R"({"consumer_number":"9990000001"})";
constexpr const char* a_complaint =
    R"({"category":"outage","area":"Sector 62","address":"Block C, near the water tank",)"
    R"("description":"No supply since morning","callback_number":"9876543210"})";

class crm_tools : public testing::Test {
 protected:
  explicit crm_tools(fake_crm_options o = {}) : crm_(std::move(o)) {}
  void use(const tools_options& o) { npcl::tools::add_crm_tools(h_.tools(), o, h_.metrics()); }
  // tool_backend_attempts_total{result}
  std::uint64_t attempts(const std::string& result) {
    return h_.metrics()
        .get_counter("tool_backend_attempts_total", "Requests to the CRM by how they ended", {{"result", result}})
        .value();
  }

  fake_crm_server crm_;
  tool_harness h_;
};

TEST_F(crm_tools, a_tool_call_is_one_signed_post_naming_the_tool_the_call_and_the_arguments) {
  crm_.set_default_reply({200, "application/json; charset=utf-8",
                          R"({"consumers":[{"consumer_number":"9990000001","masked_name":"R**** K****"}],)"
                          R"("total_found":1})"});
  use(options_for(crm_));
  const auto before = std::chrono::system_clock::now();
  auto a = h_.call("lookup_consumer", a_lookup);

  ASSERT_TRUE(a.result.ok) << a.result.output_json;
  EXPECT_EQ(output_of(a.result)["consumers"][0]["masked_name"], "R**** K****");
  EXPECT_EQ(output_of(a.result)["total_found"], 1);
  auto seen = crm_.requests();
  ASSERT_EQ(seen.size(), 1u);
  const auto& r = seen[0];
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.target, "/npcl/tools");
  EXPECT_EQ(r.headers.at("host"), "127.0.0.1:" + std::to_string(crm_.port()));
  EXPECT_EQ(r.headers.at("content-type"), "application/json");
  EXPECT_EQ(json::parse(r.body), (json{{"tool", "lookup_consumer"},
                                       {"call_id", recording_actions::harness_call_id},
                                       {"arguments", {{"consumer_number", "9990000001"}}}}));
  EXPECT_EQ(r.headers.at("x-npcl-request-id").size(), 36u);
  EXPECT_EQ(r.headers.at("x-npcl-attempt"), "1");
  const auto stamp = std::chrono::system_clock::time_point(std::chrono::seconds(std::stoll(r.headers.at("x-npcl-timestamp"))));
  EXPECT_GE(stamp, std::chrono::floor<std::chrono::seconds>(before));
  EXPECT_LE(stamp, std::chrono::system_clock::now());
  EXPECT_EQ(r.headers.at("x-npcl-signature"),
            npcl::fakes::crm_signature(crm_.secret(), r.headers.at("x-npcl-timestamp"), r.body));
  EXPECT_TRUE(r.signature_valid);
  EXPECT_EQ(r.body.find(crm_.secret()), std::string::npos);
}

TEST_F(crm_tools, the_same_tools_with_the_same_schemas_are_offered_as_with_the_store) {
  use(options_for(crm_));
  std::vector<std::string> names;
  for (const auto& s : h_.tools().specs()) names.push_back(s.name);
  EXPECT_EQ(names, (std::vector<std::string>{"lookup_consumer", "get_bill_summary", "register_complaint",
                                             "get_complaint_status", "get_outage_status", "request_new_connection",
                                             "check_service_area"}));
}

TEST_F(crm_tools, a_request_signed_with_another_secret_is_refused_and_the_model_hears_unavailable) {
  auto o = options_for(crm_);
  o.secret = "not-the-secret-the-crm-knows";
  use(o);
  auto a = h_.call("get_bill_summary", a_lookup);
  EXPECT_FALSE(a.result.ok);
  EXPECT_EQ(a.result.error_code, "unavailable");
  EXPECT_EQ(output_of(a.result)["message"], "records are unavailable right now; offer a human agent");
  auto seen = crm_.requests();
  ASSERT_EQ(seen.size(), 1u) << "a refused signature is not sent again";
  EXPECT_FALSE(seen[0].signature_valid);
  EXPECT_EQ(attempts("refused"), 1u);
  EXPECT_NE(seen[0].headers.at("x-npcl-signature"),
            npcl::fakes::crm_signature(crm_.secret(), seen[0].headers.at("x-npcl-timestamp"), seen[0].body));
}

TEST_F(crm_tools, a_lookup_is_asked_again_after_a_503_with_the_same_request_id) {
  crm_.script({503, "text/plain", "busy"});
  crm_.script({200, "application/json", R"({"complaint_number":"000054321","status":"assigned"})"});
  use(options_for(crm_));
  auto a = h_.call("get_complaint_status", R"({"complaint_number":"000054321"})");
  ASSERT_TRUE(a.result.ok) << a.result.output_json;
  EXPECT_EQ(output_of(a.result)["status"], "assigned");
  auto seen = crm_.requests();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].headers.at("x-npcl-attempt"), "1");
  EXPECT_EQ(seen[1].headers.at("x-npcl-attempt"), "2");
  EXPECT_EQ(seen[0].headers.at("x-npcl-request-id"), seen[1].headers.at("x-npcl-request-id"));
  EXPECT_EQ(seen[0].body, seen[1].body);
  EXPECT_TRUE(seen[1].signature_valid);
  EXPECT_EQ(attempts("busy"), 1u);
  EXPECT_EQ(attempts("answered"), 1u);
}

TEST_F(crm_tools, a_lookup_gives_up_after_its_retries) {
  crm_.set_default_reply({500, "application/json", R"({"detail":"database down"})"});
  use(options_for(crm_));
  auto a = h_.call("get_outage_status", R"({"area":"Sector 62"})");
  EXPECT_EQ(a.result.error_code, "unavailable");
  EXPECT_EQ(crm_.requests().size(), 3u) << "one attempt and TOOL_BACKEND_RETRIES=2 more";
}

TEST_F(crm_tools, record_creating_tools_are_sent_once_whatever_the_crm_answers) {
  crm_.set_default_reply({503, "text/plain", "busy"});
  use(options_for(crm_));
  auto complaint = h_.call("register_complaint", a_complaint);
  EXPECT_EQ(complaint.result.error_code, "unavailable");
  EXPECT_EQ(crm_.requests().size(), 1u);
  auto connection = h_.call("request_new_connection", R"({"applicant_name":"Asha Verma","mobile":"9876543210",)"
                                                      R"("area":"Sector 62","address":"C-14, Sector 62"})");
  EXPECT_EQ(connection.result.error_code, "unavailable");
  ASSERT_EQ(crm_.requests().size(), 2u);
  EXPECT_EQ(json::parse(crm_.requests()[1].body)["tool"], "request_new_connection");
}

TEST_F(crm_tools, a_crm_that_never_answers_is_given_up_at_the_deadline_by_the_client_itself) {
  crm_.set_default_reply({200, "application/json", "{}", true});
  auto o = options_for(crm_);
  o.attempt_timeout = 300ms;
  o.deadline = 800ms;
  o.retries = 5;
  use(o);
  const auto started = std::chrono::steady_clock::now();
  auto a = h_.call("check_service_area", R"({"area":"Sector 62"})");
  const auto took = a.at - started;
  // The client's own answer ("unavailable"), not the registry's backstop ("timeout").
  EXPECT_EQ(a.result.error_code, "unavailable");
  EXPECT_GE(took, 600ms) << "two attempts of 300 ms were waited for";
  EXPECT_LT(took, o.deadline + 400ms);
  const auto seen = crm_.requests();
  ASSERT_GE(seen.size(), 2u);
  ASSERT_LE(seen.size(), 3u) << "no attempt starts after the deadline";
  for (std::size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i].headers.at("x-npcl-attempt"), std::to_string(i + 1));
  EXPECT_EQ(attempts("timeout"), seen.size());
}

TEST_F(crm_tools, a_complaint_the_crm_never_answers_waits_the_whole_deadline_in_one_attempt) {
  crm_.set_default_reply({200, "application/json", "{}", true});
  auto o = options_for(crm_);
  o.attempt_timeout = 200ms;
  o.deadline = 700ms;
  use(o);
  const auto started = std::chrono::steady_clock::now();
  auto a = h_.call("register_complaint", a_complaint);
  EXPECT_EQ(a.result.error_code, "unavailable");
  EXPECT_GE(a.at - started, 700ms);
  EXPECT_EQ(crm_.requests().size(), 1u);
}

TEST_F(crm_tools, replies_that_are_not_a_json_object_are_refused_and_not_asked_again) {
  const std::vector<crm_reply> bad = {
      {200, "text/html", "<html><body>Please log in to the proxy</body></html>"},
      {200, "application/json", "[1,2,3]"},
      {200, "application/json", R"({"consumers":[)"},
      {200, "application/json", R"({"note":")" + std::string(70 * 1024, 'x') + R"("})"},
      {200, "application/json", std::string(40, '[') + std::string(40, ']')},
      {302, "text/plain", "moved"},
      {404, "application/json", R"({"error":"no such route"})"},
      {204, "", ""},
  };
  use(options_for(crm_));
  for (std::size_t i = 0; i < bad.size(); ++i) {
    crm_.script(bad[i]);
    auto a = h_.call("lookup_consumer", a_lookup);
    EXPECT_EQ(a.result.error_code, "unavailable") << "reply " << i << ": " << a.result.output_json;
    EXPECT_EQ(crm_.requests().size(), i + 1) << "reply " << i << " was asked again";
  }
  EXPECT_EQ(attempts("bad_reply"), 6u);
  EXPECT_EQ(attempts("refused"), 2u);
  EXPECT_EQ(attempts("answered"), 0u);
}

TEST_F(crm_tools, an_error_object_from_the_crm_reaches_the_model_as_a_failure_it_can_act_on) {
  crm_.set_default_reply({200, "application/json", R"({"error":"not_found","message":"no consumer with number 9990000001"})"});
  use(options_for(crm_));
  auto a = h_.call("get_bill_summary", a_lookup);
  EXPECT_FALSE(a.result.ok);
  EXPECT_EQ(a.result.error_code, "not_found");
  EXPECT_EQ(output_of(a.result)["message"], "no consumer with number 9990000001");
  EXPECT_EQ(crm_.requests().size(), 1u);
}

TEST_F(crm_tools, an_error_member_that_is_null_is_no_error_and_one_that_is_not_a_code_is_tool_failed) {
  crm_.script({200, "application/json", R"({"error":null,"area":"Sector 62","served":true})"});
  crm_.script({200, "application/json", R"({"error":"no such area\nFAKE LOG LINE"})"});
  use(options_for(crm_));
  auto fine = h_.call("check_service_area", R"({"area":"Sector 62"})");
  EXPECT_TRUE(fine.result.ok) << fine.result.output_json;
  EXPECT_EQ(output_of(fine.result)["served"], true);
  auto odd = h_.call("check_service_area", R"({"area":"Sector 62"})");
  EXPECT_FALSE(odd.result.ok);
  EXPECT_EQ(odd.result.error_code, "tool_failed");
  EXPECT_EQ(output_of(odd.result)["error"], "no such area\nFAKE LOG LINE") << "the model still reads what the CRM said";
}

TEST_F(crm_tools, arguments_the_checks_refuse_never_reach_the_crm) {
  use(options_for(crm_));
  auto both = h_.call("lookup_consumer", R"({"consumer_number":"9990000001","mobile":"9876543210"})");
  EXPECT_EQ(both.result.error_code, "invalid_arguments");
  EXPECT_EQ(output_of(both.result)["field"], "consumer_number");
  auto blank = h_.call("get_outage_status", R"({"area":"   "})");
  EXPECT_EQ(blank.result.error_code, "invalid_arguments");
  EXPECT_EQ(output_of(blank.result)["field"], "area");
  auto short_number = h_.call("get_complaint_status", R"({"complaint_number":"54321"})");
  EXPECT_EQ(short_number.result.error_code, "invalid_arguments");
  EXPECT_NE(output_of(short_number.result)["message"].get<std::string>().find("9 digits"), std::string::npos);
  EXPECT_TRUE(crm_.requests().empty());

  // What passes is sent as the store back-end would use it: text trimmed, blank options dropped.
  auto padded = h_.call("get_outage_status", R"({"area":"  Sector 62 ","sector":"   "})");
  EXPECT_TRUE(padded.result.ok) << padded.result.output_json;
  ASSERT_EQ(crm_.requests().size(), 1u);
  EXPECT_EQ(json::parse(crm_.requests()[0].body)["arguments"], (json{{"area", "Sector 62"}}));
}

TEST_F(crm_tools, an_unreachable_crm_gives_unavailable_quickly) {
  auto o = options_for(crm_);
  {
    // A port nothing listens on: a fresh fake, gone again.
    fake_crm_server gone;
    o.endpoint.port = gone.port();
  }
  use(o);
  const auto started = std::chrono::steady_clock::now();
  auto a = h_.call("check_service_area", R"({"area":"Sector 62"})");
  EXPECT_EQ(a.result.error_code, "unavailable");
  EXPECT_LT(a.at - started, 2s) << "refused connections are not waited for";
  EXPECT_EQ(attempts("network"), 3u);
}

class crm_tools_tls : public crm_tools {
 protected:
  crm_tools_tls() : crm_tools(fake_crm_options{"npcl-fake-crm-signing-key", true}) {}
};

TEST_F(crm_tools_tls, https_with_the_utility_ca_is_verified_and_answered) {
  crm_.set_default_reply({200, "application/json", R"({"area":"Sector 62","served":true})"});
  use(options_for(crm_));
  auto a = h_.call("check_service_area", R"({"area":"Sector 62"})");
  ASSERT_TRUE(a.result.ok) << a.result.output_json;
  EXPECT_EQ(output_of(a.result)["served"], true);
  ASSERT_EQ(crm_.requests().size(), 1u);
  EXPECT_TRUE(crm_.requests()[0].signature_valid);
}

TEST_F(crm_tools_tls, a_certificate_no_trusted_ca_signed_is_refused_once) {
  auto o = options_for(crm_);
  o.ca_file.clear();
  use(o);
  auto a = h_.call("check_service_area", R"({"area":"Sector 62"})");
  EXPECT_EQ(a.result.error_code, "unavailable");
  EXPECT_TRUE(crm_.requests().empty());
  EXPECT_TRUE(crm_.wait_for_tls_failures(1, 5s));
  EXPECT_EQ(crm_.tls_failures(), 1) << "a certificate that does not verify is not tried again";
  EXPECT_EQ(attempts("tls"), 1u);
}

TEST(crm_tools_setup, an_unreadable_ca_file_stops_start_up) {
  tools_options o;
  o.backend = npcl::tools::tool_backend::http;
  o.endpoint = {true, "crm.example", 443, "/"};
  o.secret = "npcl-fake-crm-signing-key";
  const std::string path = testing::TempDir() + "not-a-certificate.pem";
  std::ofstream(path) << "this is not PEM\n";
  o.ca_file = path;
  tool_harness h;
  EXPECT_THROW(npcl::tools::add_crm_tools(h.tools(), o, h.metrics()), std::invalid_argument);
  std::remove(path.c_str());
}

}  // namespace
