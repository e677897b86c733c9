// The customer-service tools run through the registry as a call runs them, against a real
// store filled with the demo records: SQLite in a temporary DATA_DIR and PostgreSQL on the
// server named by NPCL_TEST_PG_URL (skipped without it, a failure when CI=true).
#include "npcl/tools/npcl_tools.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <regex>
#include <set>
#include <type_traits>
#include <string>
#include <vector>

#include "npcl/store/store.hpp"
#include "store/store_backends.hpp"
#include "tools/tool_harness.hpp"

namespace {

using npcl::test::output_of;
using npcl::test::tool_harness;
using json = nlohmann::json;
namespace st = npcl::store;
using namespace std::chrono_literals;

// Forwards to a real store until close(), then fails every call the way a database that went
// away does: store_error(unavailable).
class closable_store final : public st::store {
 public:
  explicit closable_store(std::unique_ptr<st::store> inner) : inner_(std::move(inner)) {}
  void close() {
    std::lock_guard lock(mutex_);
    inner_.reset();
  }

  std::optional<st::consumer> find_consumer_by_number(const std::string& n) override {
    return with([&](auto& s) { return s.find_consumer_by_number(n); });
  }
  std::vector<st::consumer> find_consumers_by_mobile(const std::string& m) override {
    return with([&](auto& s) { return s.find_consumers_by_mobile(m); });
  }
  std::optional<st::bill> latest_bill(const std::string& n) override {
    return with([&](auto& s) { return s.latest_bill(n); });
  }
  std::vector<st::outage> outages_in_area(const std::string& a, st::timestamp now) override {
    return with([&](auto& s) { return s.outages_in_area(a, now); });
  }
  st::complaint register_complaint(const st::new_complaint& c) override {
    return with([&](auto& s) { return s.register_complaint(c); });
  }
  std::optional<st::complaint> complaint_by_number(const std::string& n) override {
    return with([&](auto& s) { return s.complaint_by_number(n); });
  }
  st::connection_request create_connection_request(const st::new_connection_request& r) override {
    return with([&](auto& s) { return s.create_connection_request(r); });
  }
  bool is_area_served(const std::string& a) override {
    return with([&](auto& s) { return s.is_area_served(a); });
  }
  void save_call_record(const st::call_record& r) override {
    with([&](auto& s) { s.save_call_record(r); });
  }
  std::optional<st::call_record> call_record_by_id(const std::string& id) override {
    return with([&](auto& s) { return s.call_record_by_id(id); });
  }
  st::import_result import_csv(st::import_kind k, std::istream& csv) override {
    return with([&](auto& s) { return s.import_csv(k, csv); });
  }
  void seed_demo_data() override {
    with([&](auto& s) { s.seed_demo_data(); });
  }
  int schema_version() override {
    return with([&](auto& s) { return s.schema_version(); });
  }

 private:
  template <class F>
  std::invoke_result_t<F, st::store&> with(F f) {
    std::lock_guard lock(mutex_);
    if (!inner_) throw st::store_error(st::store_error_kind::unavailable, "store: database is closed");
    return f(*inner_);
  }
  std::mutex mutex_;                     ///< guards inner_ against close() during a call
  std::unique_ptr<st::store> inner_;  ///< the real store; null once closed
};

// The paise in "1234.50", or -1 when the text is not rupees with exactly two paise digits.
long long paise_of(const json& amount) {
  if (!amount.is_string()) return -1;
  auto s = amount.get<std::string>();
  if (!std::regex_match(s, std::regex("[0-9]+\\.[0-9]{2}"))) return -1;
  s.erase(s.size() - 3, 1);
  return std::stoll(s);
}

bool is_ist_time(const json& v) {
  return v.is_string() &&
         std::regex_match(v.get<std::string>(), std::regex("[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\+05:30"));
}

// "0 0 0 0 5 4 3 2 1" reads back as the number it spells.
std::string unspoken(const json& v) {
  std::string out;
  for (char c : v.get<std::string>()) {
    if (c != ' ' && c != ',') out += c;
  }
  return out;
}

enum class backend_kind { sqlite, postgres };
const char* name_of(backend_kind k) { return k == backend_kind::sqlite ? "sqlite" : "postgres"; }
void PrintTo(backend_kind k, std::ostream* os) { *os << name_of(k); }

class npcl_tools : public testing::TestWithParam<backend_kind> {
 protected:
  void SetUp() override {
    // A plain TEST_F has no parameter and runs on SQLite.
    const bool parameterised = testing::UnitTest::GetInstance()->current_test_info()->value_param() != nullptr;
    std::string why;
    if (parameterised && GetParam() == backend_kind::postgres) {
      why = postgres_.emplace().prepare();
    } else {
      sqlite_.emplace();
    }
    if (!why.empty()) {
      if (st::test::in_ci()) FAIL() << "postgres backend unavailable in CI: " << why;
      GTEST_SKIP() << "postgres backend skipped: " << why;
    }
    auto real = open_real();
    real->seed_demo_data();
    db_ = std::make_unique<closable_store>(std::move(real));
    npcl::tools::add_npcl_tools(h_.tools(), *db_);
  }
  void TearDown() override {
    h_.drain_pool();
    if (db_) db_->close();
  }

  /// Another connection to this test's database, as a second daemon or a restart opens it.
  std::unique_ptr<st::store> open_real() {
    return postgres_ ? st::open_store(postgres_->url(), "") : st::open_store("", sqlite_->data_dir());
  }

  // Runs one call and returns its output; the answer must arrive on the call's strand.
  json call(const std::string& tool, const json& args, bool expect_ok = true) {
    auto a = h_.call(tool, args.dump());
    EXPECT_TRUE(a.on_strand) << tool;
    EXPECT_EQ(a.result.ok, expect_ok) << tool << " " << args.dump() << " -> " << a.result.output_json;
    return output_of(a.result);
  }

  // The call must be refused with invalid_arguments naming `field`; returns the message.
  std::string refused(const std::string& tool, const json& args, const std::string& field) {
    json out = call(tool, args, false);
    EXPECT_EQ(out.value("error", ""), "invalid_arguments") << out.dump();
    EXPECT_EQ(out.value("field", ""), field) << out.dump();
    return out.value("message", "");
  }

  json valid_complaint() const {
    return {{"category", "outage"},
            {"area", "Demo Nagar"},
            {"address", "House 12, near the water tank"},
            {"description", "No supply since 6 in the morning"},
            {"callback_number", "+919000000001"}};
  }

  std::optional<st::test::sqlite_backend> sqlite_;      ///< the database, when on SQLite
  std::optional<st::test::postgres_backend> postgres_;  ///< the database, when on PostgreSQL
  std::unique_ptr<closable_store> db_;                  ///< the database with the demo records
  tool_harness h_{4s};                   ///< registry, strand and pool; declared last, destroyed first
};

TEST_P(npcl_tools, offers_seven_strict_tools_alongside_the_call_tools) {
  std::set<std::string> names;
  for (const auto& s : h_.tools().specs()) {
    names.insert(s.name);
    auto schema = json::parse(s.parameters_json);
    EXPECT_EQ(schema["type"], "object") << s.name;
    EXPECT_EQ(schema["additionalProperties"], false) << s.name;
    EXPECT_GT(s.description.size(), 100u) << s.name;
  }
  EXPECT_EQ(names, (std::set<std::string>{"lookup_consumer", "get_bill_summary", "register_complaint",
                                          "get_complaint_status", "get_outage_status", "request_new_connection",
                                          "check_service_area"}));
  EXPECT_THROW(npcl::tools::add_npcl_tools(h_.tools(), *db_), std::invalid_argument);
}

TEST_P(npcl_tools, lookup_consumer_by_number_gives_the_masked_name_area_and_status) {
  auto expected = db_->find_consumer_by_number("9990000001");
  ASSERT_TRUE(expected);
  json out = call("lookup_consumer", {{"consumer_number", "9990000001"}});
  ASSERT_EQ(out["consumers"].size(), 1u) << out.dump();
  const json& c = out["consumers"][0];
  EXPECT_EQ(c["consumer_number"], "9990000001");
  EXPECT_EQ(c["consumer_number_spoken"], "9 9 9 0 0 0 0 0 0 1");
  EXPECT_EQ(c["masked_name"], expected->masked_name);
  EXPECT_EQ(c["area"], expected->area);
  EXPECT_EQ(c["sector"], expected->sector);
  EXPECT_EQ(c["status"], "active");
  EXPECT_FALSE(c.contains("registered_mobile"));
}

TEST_P(npcl_tools, lookup_consumer_by_mobile_accepts_the_caller_id_form) {
  auto expected = db_->find_consumers_by_mobile("9000000006");
  ASSERT_EQ(expected.size(), 1u);
  for (const char* mobile : {"9000000006", "+919000000006"}) {
    json out = call("lookup_consumer", {{"mobile", mobile}});
    ASSERT_EQ(out["consumers"].size(), 1u) << out.dump();
    EXPECT_EQ(out["consumers"][0]["consumer_number"], expected[0].number);
    EXPECT_EQ(out["consumers"][0]["status"], st::to_string(expected[0].status));
    EXPECT_EQ(out["total_found"], 1);
  }
}

TEST_P(npcl_tools, lookup_consumer_reports_an_unknown_number_or_mobile_as_not_found) {
  json out = call("lookup_consumer", {{"consumer_number", "1234567890"}}, false);
  EXPECT_EQ(out, (json{{"error", "not_found"}, {"message", "no consumer with number 1234567890"}}));
  out = call("lookup_consumer", {{"mobile", "8888888888"}}, false);
  EXPECT_EQ(out["error"], "not_found");
}

TEST_P(npcl_tools, lookup_consumer_refuses_bad_numbers_and_wants_exactly_one_key) {
  EXPECT_NE(refused("lookup_consumer", {{"consumer_number", "99900001"}}, "consumer_number").find("10 digits"),
            std::string::npos);
  refused("lookup_consumer", {{"consumer_number", "999000000A"}}, "consumer_number");
  refused("lookup_consumer", {{"consumer_number", 9990000001LL}}, "consumer_number");
  EXPECT_NE(refused("lookup_consumer", {{"mobile", "90000 00001"}}, "mobile").find("10 digits"), std::string::npos);
  refused("lookup_consumer", {{"mobile", "+449000000001"}}, "mobile");
  refused("lookup_consumer", json::object(), "consumer_number");
  refused("lookup_consumer", {{"consumer_number", "9990000001"}, {"mobile", "9000000001"}}, "consumer_number");
  refused("lookup_consumer", {{"name", "Demo"}}, "name");
}

TEST_P(npcl_tools, get_bill_summary_says_exactly_what_the_latest_bill_holds) {
  auto bill = db_->latest_bill("9990000001");
  ASSERT_TRUE(bill);
  ASSERT_NE(bill->amount_paise % 100, 0) << "demo amount should have paise to show the format";
  json out = call("get_bill_summary", {{"consumer_number", "9990000001"}});
  EXPECT_EQ(paise_of(out["amount_rupees"]), bill->amount_paise) << out.dump();
  EXPECT_EQ(out["amount_spoken"], std::to_string(bill->amount_paise / 100) + " rupees " +
                                      std::to_string(bill->amount_paise % 100) + " paise");
  EXPECT_EQ(out["billing_period"], bill->period);
  EXPECT_EQ(out["due_date"], bill->due_date);
  EXPECT_EQ(out["status"], st::to_string(bill->status));
  EXPECT_EQ(out["consumer_number_spoken"], "9 9 9 0 0 0 0 0 0 1");
}

TEST_P(npcl_tools, get_bill_summary_of_an_unknown_consumer_is_not_found_and_bad_numbers_are_refused) {
  json out = call("get_bill_summary", {{"consumer_number", "1111111111"}}, false);
  EXPECT_EQ(out, (json{{"error", "not_found"}, {"message", "no consumer with number 1111111111"}}));
  refused("get_bill_summary", json::object(), "consumer_number");
  refused("get_bill_summary", {{"consumer_number", "99900000011"}}, "consumer_number");
}

TEST_P(npcl_tools, register_complaint_commits_before_answering_with_a_readable_number) {
  json out = call("register_complaint", valid_complaint());
  ASSERT_TRUE(out.contains("complaint_number")) << out.dump();
  std::string number = out["complaint_number"];
  EXPECT_TRUE(std::regex_match(number, std::regex("[0-9]{9}"))) << number;
  EXPECT_EQ(unspoken(out["complaint_number_spoken"]), number);
  EXPECT_EQ(out["complaint_number_spoken"].get<std::string>().size(), 17u);
  EXPECT_EQ(out["category"], "outage");
  EXPECT_EQ(out["priority"], "high");
  EXPECT_EQ(out["expected_resolution_hours"], 4);
  EXPECT_TRUE(is_ist_time(out["expected_resolution"])) << out.dump();
  EXPECT_TRUE(is_ist_time(out["registered_at"])) << out.dump();

  auto saved = db_->complaint_by_number(number);
  ASSERT_TRUE(saved) << "complaint " << number << " is not in the store";
  EXPECT_EQ(saved->category, st::complaint_category::no_supply);
  EXPECT_EQ(saved->priority, st::complaint_priority::high);
  EXPECT_EQ(saved->description, "No supply since 6 in the morning");
  EXPECT_EQ(saved->address, "House 12, near the water tank");
  EXPECT_EQ(saved->callback_number, "9000000001");
  EXPECT_EQ(saved->call_id, npcl::test::recording_actions::harness_call_id) << "the complaint must name the call it was taken on";
  auto promised = saved->expected_resolution - saved->created_at;
  EXPECT_GE(promised, 4h - 5s);
  EXPECT_LE(promised, 4h + 5s);

  json second = call("register_complaint", valid_complaint());
  EXPECT_NE(second["complaint_number"], number);
}

TEST_P(npcl_tools, register_complaint_sets_priority_and_resolution_time_by_category) {
  struct expectation {
    const char* category;
    st::complaint_category stored;
    const char* priority;
    int hours;
  };
  for (const auto& e : {expectation{"voltage", st::complaint_category::voltage, "high", 8},
                        expectation{"meter", st::complaint_category::meter, "normal", 48},
                        expectation{"billing", st::complaint_category::billing, "normal", 72},
                        expectation{"streetlight", st::complaint_category::streetlight, "normal", 72},
                        expectation{"other", st::complaint_category::other, "normal", 72}}) {
    json args = valid_complaint();
    args["category"] = e.category;
    args["consumer_number"] = "9990000002";
    json out = call("register_complaint", args);
    EXPECT_EQ(out["priority"], e.priority) << e.category;
    EXPECT_EQ(out["expected_resolution_hours"], e.hours) << e.category;
    auto saved = db_->complaint_by_number(out.value("complaint_number", ""));
    ASSERT_TRUE(saved) << e.category;
    EXPECT_EQ(saved->category, e.stored);
    EXPECT_EQ(saved->consumer_number, "9990000002");
    EXPECT_EQ(std::chrono::duration_cast<std::chrono::hours>(saved->expected_resolution - saved->created_at +
                                                             std::chrono::minutes(1))
                  .count(),
              e.hours);
  }
}

TEST_P(npcl_tools, register_complaint_refuses_every_bad_argument_by_name) {
  auto with = [&](const char* field, json value) {
    json args = valid_complaint();
    if (value.is_null()) {
      args.erase(field);
    } else {
      args[field] = std::move(value);
    }
    return args;
  };
  EXPECT_NE(refused("register_complaint", with("category", "fire"), "category").find("outage, voltage, meter"),
            std::string::npos);
  refused("register_complaint", with("category", nullptr), "category");
  EXPECT_EQ(refused("register_complaint", with("address", nullptr), "address"), "address is required");
  refused("register_complaint", with("area", std::string(65, 'a')), "area");
  refused("register_complaint", with("address", std::string(201, 'a')), "address");
  EXPECT_EQ(refused("register_complaint", with("area", "   "), "area"), "area must not be blank");
  refused("register_complaint", with("area", ""), "area");
  EXPECT_NE(refused("register_complaint", with("description", std::string(251, 'x')), "description")
                .find("at most 250"),
            std::string::npos);
  refused("register_complaint", with("callback_number", "12345"), "callback_number");
  refused("register_complaint", with("callback_number", nullptr), "callback_number");
  refused("register_complaint", with("consumer_number", "12"), "consumer_number");
  refused("register_complaint", with("priority", "emergency"), "priority");
}

TEST_P(npcl_tools, register_complaint_for_an_unknown_consumer_is_not_found_and_commits_nothing) {
  json before = call("register_complaint", valid_complaint());
  json args = valid_complaint();
  args["consumer_number"] = "1231231231";
  json out = call("register_complaint", args, false);
  EXPECT_EQ(out["error"], "not_found");
  EXPECT_NE(out.value("message", "").find("1231231231"), std::string::npos);
  // Numbers are allocated in sequence, so a refused complaint that took one would leave a gap.
  json after = call("register_complaint", valid_complaint());
  EXPECT_EQ(std::stoll(after.value("complaint_number", "0")), std::stoll(before.value("complaint_number", "0")) + 1)
      << before.dump() << " then " << after.dump();
}

TEST_P(npcl_tools, two_hundred_complaints_registered_at_once_get_distinct_numbers_that_survive_a_restart) {
  constexpr int complaints = 200;
  std::set<std::string> numbers;
  {
    // Eight calls' register_complaint running side by side on a connection of their own (the
    // fixture's store lets one caller in at a time).
    auto shared = open_real();
    npcl::test::tool_harness many{60s, 8};
    npcl::tools::add_npcl_tools(many.tools(), *shared);
    for (int i = 0; i < complaints; ++i) {
      json args = valid_complaint();
      args["description"] = "complaint " + std::to_string(i);
      many.invoke("register_complaint", args.dump());
    }
    ASSERT_TRUE(many.wait_for_answers(complaints, 120s));
    for (const auto& a : many.answers()) {
      ASSERT_TRUE(a.result.ok) << a.result.output_json;
      numbers.insert(output_of(a.result).value("complaint_number", ""));
    }
  }
  EXPECT_EQ(numbers.size(), std::size_t{complaints});

  // Every number a caller was told is in the store after a restart, each with its own complaint.
  auto reopened = open_real();
  std::set<std::string> descriptions;
  for (const auto& number : numbers) {
    auto saved = reopened->complaint_by_number(number);
    ASSERT_TRUE(saved) << "complaint " << number << " is not in the store after a restart";
    descriptions.insert(saved->description);
  }
  EXPECT_EQ(descriptions.size(), std::size_t{complaints});
}

TEST_P(npcl_tools, get_complaint_status_reads_back_a_registered_complaint) {
  json registered = call("register_complaint", valid_complaint());
  std::string number = registered.value("complaint_number", "");
  json out = call("get_complaint_status", {{"complaint_number", number}});
  EXPECT_EQ(out["complaint_number"], number);
  EXPECT_EQ(unspoken(out["complaint_number_spoken"]), number);
  EXPECT_EQ(out["status"], "registered");
  EXPECT_EQ(out["category"], "outage");
  EXPECT_EQ(out["priority"], "high");
  EXPECT_EQ(out["area"], "Demo Nagar");
  EXPECT_EQ(out["expected_resolution"], registered["expected_resolution"]);
}

TEST_P(npcl_tools, get_complaint_status_wants_nine_digits_and_reports_unknown_numbers) {
  EXPECT_NE(refused("get_complaint_status", {{"complaint_number", "54321"}}, "complaint_number")
                .find("complaint numbers have 9 digits"),
            std::string::npos);
  refused("get_complaint_status", {{"complaint_number", "0000543210"}}, "complaint_number");
  refused("get_complaint_status", {{"complaint_number", "00005432a"}}, "complaint_number");
  json out = call("get_complaint_status", {{"complaint_number", "999999999"}}, false);
  EXPECT_EQ(out, (json{{"error", "not_found"}, {"message", "no complaint with number 999999999"}}));
}

TEST_P(npcl_tools, get_outage_status_lists_current_and_planned_outages_with_their_eta) {
  auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  auto known = db_->outages_in_area("Demo Nagar", now);
  ASSERT_EQ(known.size(), 1u);
  json out = call("get_outage_status", {{"area", "demo nagar"}});
  ASSERT_EQ(out["outages"].size(), 1u) << out.dump();
  const json& o = out["outages"][0];
  EXPECT_EQ(o["kind"], "unplanned");
  EXPECT_EQ(o["sector"], known[0].sector);
  EXPECT_EQ(o["in_progress"], true);
  EXPECT_TRUE(is_ist_time(o["expected_restoration"])) << o.dump();
  EXPECT_EQ(o["note"], known[0].note);

  json same_sector = call("get_outage_status", {{"area", "Demo Nagar"}, {"sector", "sector 2"}});
  EXPECT_EQ(same_sector["outages"].size(), 1u);
  json other_sector = call("get_outage_status", {{"area", "Demo Nagar"}, {"sector", "Sector 1"}});
  EXPECT_TRUE(other_sector["outages"].empty()) << other_sector.dump();

  json planned = call("get_outage_status", {{"area", "Sample Vihar"}, {"sector", "Sector 3"}});
  ASSERT_EQ(planned["outages"].size(), 1u) << planned.dump();
  EXPECT_EQ(planned["outages"][0]["kind"], "planned");
  EXPECT_EQ(planned["outages"][0]["sector"], "whole area");
  EXPECT_EQ(planned["outages"][0]["in_progress"], false);
}

TEST_P(npcl_tools, get_outage_status_of_an_unknown_area_is_not_found_and_bad_areas_are_refused) {
  json out = call("get_outage_status", {{"area", "Atlantis"}}, false);
  EXPECT_EQ(out["error"], "not_found");
  EXPECT_NE(out.value("message", "").find("Atlantis"), std::string::npos);
  refused("get_outage_status", {{"area", std::string(65, 'x')}}, "area");
  refused("get_outage_status", {{"area", "Demo Nagar"}, {"sector", std::string(65, 'x')}}, "sector");
  refused("get_outage_status", {{"area", 12}}, "area");
  refused("get_outage_status", json::object(), "area");
}

TEST_P(npcl_tools, request_new_connection_returns_a_committed_reference_to_read_out) {
  json out = call("request_new_connection", {{"applicant_name", "Demo Applicant"},
                                             {"mobile", "+919000000009"},
                                             {"area", "Demo Nagar"},
                                             {"address", "Plot 7, Block C"},
                                             {"load_category", "domestic"}});
  std::string reference = out.value("reference", "");
  EXPECT_TRUE(std::regex_match(reference, std::regex("NC-[0-9]{4}-[0-9]{6}"))) << out.dump();
  EXPECT_EQ(unspoken(out["reference_spoken"]), "NC" + reference.substr(3, 4) + reference.substr(8));
  EXPECT_NE(out["reference_spoken"].get<std::string>().find("N C, "), std::string::npos);
  EXPECT_EQ(out["status"], "received");
  EXPECT_TRUE(is_ist_time(out["received_at"]));
}

TEST_P(npcl_tools, request_new_connection_refuses_every_bad_argument_by_name) {
  json good{{"applicant_name", "Demo Applicant"}, {"mobile", "9000000009"}, {"area", "Demo Nagar"},
            {"address", "Plot 7, Block C"}};
  auto with = [&](const char* field, json value) {
    json args = good;
    args[field] = std::move(value);
    return args;
  };
  refused("request_new_connection", with("mobile", "98765"), "mobile");
  refused("request_new_connection", with("load_category", "spaceship"), "load_category");
  refused("request_new_connection", with("applicant_name", std::string(101, 'n')), "applicant_name");
  refused("request_new_connection", with("address", " "), "address");
  json missing = good;
  missing.erase("area");
  EXPECT_EQ(refused("request_new_connection", missing, "area"), "area is required");
}

TEST_P(npcl_tools, check_service_area_knows_the_served_areas) {
  EXPECT_EQ(call("check_service_area", {{"area", "Sample Vihar"}})["served"], true);
  EXPECT_EQ(call("check_service_area", {{"area", " demo nagar "}}), (json{{"area", "demo nagar"}, {"served", true}}));
  EXPECT_EQ(call("check_service_area", {{"area", "Atlantis"}})["served"], false);
  refused("check_service_area", {{"area", ""}}, "area");
  refused("check_service_area", {{"area", std::string(65, 'x')}}, "area");
}

TEST_P(npcl_tools, a_store_that_went_away_gives_the_unavailable_error_from_every_tool) {
  db_->close();
  const json expected{{"error", "unavailable"}, {"message", "records are unavailable right now; offer a human agent"}};
  EXPECT_EQ(call("lookup_consumer", {{"consumer_number", "9990000001"}}, false), expected);
  EXPECT_EQ(call("lookup_consumer", {{"mobile", "9000000001"}}, false), expected);
  EXPECT_EQ(call("get_bill_summary", {{"consumer_number", "9990000001"}}, false), expected);
  EXPECT_EQ(call("register_complaint", valid_complaint(), false), expected);
  EXPECT_EQ(call("get_complaint_status", {{"complaint_number", "000000001"}}, false), expected);
  EXPECT_EQ(call("get_outage_status", {{"area", "Demo Nagar"}}, false), expected);
  EXPECT_EQ(call("request_new_connection", {{"applicant_name", "Demo Applicant"},
                                            {"mobile", "9000000009"},
                                            {"area", "Demo Nagar"},
                                            {"address", "Plot 7"}},
                 false),
            expected);
  EXPECT_EQ(call("check_service_area", {{"area", "Demo Nagar"}}, false), expected);
  EXPECT_EQ(h_.calls("register_complaint", "error"), 1u);
}

INSTANTIATE_TEST_SUITE_P(, npcl_tools, testing::Values(backend_kind::sqlite, backend_kind::postgres),
                         [](const testing::TestParamInfo<backend_kind>& info) { return name_of(info.param); });

}  // namespace
