// One suite, run against SQLite and against a real PostgreSQL server.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "npcl/store/store.hpp"
#include "store/store_backends.hpp"

namespace npcl::store {
namespace {

using namespace std::chrono_literals;
using test::postgres_backend;
using test::sqlite_backend;

timestamp now() { return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()); }

// "YYYY-MM" of the current UTC month.
std::string this_month() {
  std::time_t t = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&t, &utc);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m", &utc);
  return buf;
}

new_complaint sample_complaint(std::string description = "No supply since morning") {
  new_complaint c;
  c.category = complaint_category::no_supply;
  c.area = "Demo Nagar";
  c.address = "House 12, Lane 3";
  c.description = std::move(description);
  c.callback_number = "+91 90000 00001";
  c.priority = complaint_priority::high;
  c.expected_resolution = now() + 4h;
  c.call_id = "call-1";
  return c;
}

template <class Backend>
class store_test : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why = backend_.prepare();
    if (!why.empty()) {
      if (test::in_ci()) FAIL() << Backend::name << " backend unavailable in CI: " << why;
      GTEST_SKIP() << Backend::name << " backend skipped: " << why;
    }
    db_ = open();
  }

  std::unique_ptr<store> open() { return open_store(backend_.url(), backend_.data_dir()); }

  /// Closes and reopens the database, as a daemon restart does.
  void restart() {
    db_.reset();
    db_ = open();
  }

  import_result import(import_kind kind, const std::string& csv) {
    std::istringstream in(csv);
    return db_->import_csv(kind, in);
  }

  Backend backend_;            ///< the database under test
  std::unique_ptr<store> db_;  ///< opened on it
};

using backends = ::testing::Types<sqlite_backend, postgres_backend>;
class backend_names {
 public:
  template <class T>
  static std::string GetName(int) {
    return T::name;
  }
};
TYPED_TEST_SUITE(store_test, backends, backend_names);

template <class F>
store_error_kind error_kind_of(F&& f) {
  try {
    f();
  } catch (const store_error& e) {
    return e.kind();
  }
  ADD_FAILURE() << "no store_error thrown";
  return store_error_kind::unavailable;
}

TYPED_TEST(store_test, demo_data_is_fictional_and_seeded_once) {
  this->db_->seed_demo_data();
  this->db_->seed_demo_data();

  auto c = this->db_->find_consumer_by_number("9990000001");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->masked_name, "Demo Consumer 1");
  EXPECT_EQ(c->area, "Demo Nagar");
  EXPECT_EQ(c->status, consumer_status::active);

  auto by_mobile = this->db_->find_consumers_by_mobile("+91 90000 00001");
  ASSERT_EQ(by_mobile.size(), 1u);
  EXPECT_EQ(by_mobile[0], *c);
  EXPECT_TRUE(this->db_->find_consumers_by_mobile("09000000001").size() == 1);
  EXPECT_FALSE(this->db_->find_consumer_by_number("1234567890"));
  EXPECT_TRUE(this->db_->find_consumers_by_mobile("9876543210").empty());

  auto b = this->db_->latest_bill("9990000001");
  ASSERT_TRUE(b);
  // Demo bills cover the months before this one; the newest is last month's.
  EXPECT_TRUE(std::regex_match(b->period, std::regex("[0-9]{4}-[0-9]{2}"))) << b->period;
  EXPECT_LT(b->period, this_month());
  EXPECT_GT(b->amount_paise, 0);

  auto outages = this->db_->outages_in_area("demo nagar", now());
  ASSERT_EQ(outages.size(), 1u) << "seeding twice must not add a second outage";
  EXPECT_EQ(outages[0].kind, outage_kind::unplanned);
  EXPECT_NE(outages[0].note.find("Demo"), std::string::npos);

  EXPECT_TRUE(this->db_->is_area_served("DEMO  NAGAR"));
  EXPECT_TRUE(this->db_->is_area_served("Sample Vihar"));
  EXPECT_FALSE(this->db_->is_area_served("Atlantis"));
}

TYPED_TEST(store_test, registered_complaint_is_read_back_by_its_number) {
  this->db_->seed_demo_data();
  new_complaint in = sample_complaint();
  in.consumer_number = "9990000002";
  complaint out = this->db_->register_complaint(in);

  EXPECT_TRUE(std::regex_match(out.number, std::regex("[0-9]{9}"))) << out.number;
  EXPECT_EQ(out.status, complaint_status::registered);
  EXPECT_EQ(out.callback_number, "9000000001");
  EXPECT_LE(std::chrono::abs(out.created_at - now()), 5s);

  auto found = this->db_->complaint_by_number(out.number);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->number, out.number);
  EXPECT_EQ(found->consumer_number, "9990000002");
  EXPECT_EQ(found->category, complaint_category::no_supply);
  EXPECT_EQ(found->area, in.area);
  EXPECT_EQ(found->address, in.address);
  EXPECT_EQ(found->description, in.description);
  EXPECT_EQ(found->callback_number, "9000000001");
  EXPECT_EQ(found->priority, complaint_priority::high);
  EXPECT_EQ(found->expected_resolution, in.expected_resolution);
  EXPECT_EQ(found->call_id, "call-1");
  EXPECT_EQ(found->created_at, out.created_at);

  // Callers drop leading zeros when they read a number back.
  std::string spoken = out.number.substr(out.number.find_first_not_of('0'));
  auto again = this->db_->complaint_by_number(spoken);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->number, out.number);

  EXPECT_FALSE(this->db_->complaint_by_number("999999999"));
  EXPECT_EQ(error_kind_of([&] { this->db_->complaint_by_number("12ab"); }), store_error_kind::invalid);
  EXPECT_EQ(error_kind_of([&] { this->db_->complaint_by_number("0000000000"); }), store_error_kind::invalid);

  complaint second = this->db_->register_complaint(sample_complaint("Voltage low"));
  EXPECT_NE(second.number, out.number);
  EXPECT_TRUE(second.consumer_number.empty());
}

TYPED_TEST(store_test, complaint_with_bad_input_is_rejected_and_not_stored) {
  auto bad = [&](auto change) {
    new_complaint c = sample_complaint();
    change(c);
    return error_kind_of([&] { this->db_->register_complaint(c); });
  };
  EXPECT_EQ(bad([](new_complaint& c) { c.description = "   "; }), store_error_kind::invalid);
  EXPECT_EQ(bad([](new_complaint& c) { c.area.clear(); }), store_error_kind::invalid);
  EXPECT_EQ(bad([](new_complaint& c) { c.callback_number = "call me"; }), store_error_kind::invalid);
  EXPECT_EQ(bad([](new_complaint& c) { c.description = "bad \xC3\x28 utf8"; }), store_error_kind::invalid);
  EXPECT_EQ(bad([](new_complaint& c) { c.description = std::string("nul\0byte", 8); }), store_error_kind::invalid);
  EXPECT_EQ(bad([](new_complaint& c) { c.description = std::string(5000, 'x'); }), store_error_kind::invalid);
  EXPECT_EQ(bad([](new_complaint& c) { c.consumer_number = "1112223334"; }), store_error_kind::not_found);

  // None of them consumed a number: the next complaint is the first one.
  complaint ok = this->db_->register_complaint(sample_complaint());
  EXPECT_EQ(ok.number, "000000001");
  EXPECT_TRUE(this->db_->complaint_by_number(ok.number));
}

TYPED_TEST(store_test, connection_requests_get_distinct_year_references) {
  new_connection_request r;
  r.applicant_name = "Demo Applicant";
  r.mobile = "9000000009";
  r.area = "Demo Nagar";
  r.address = "Plot 7, Demo Nagar";
  r.load_category = "domestic";
  connection_request a = this->db_->create_connection_request(r);
  connection_request b = this->db_->create_connection_request(r);

  int year = static_cast<int>(std::chrono::year_month_day{std::chrono::floor<std::chrono::days>(now())}.year());
  std::regex shape("NC-" + std::to_string(year) + "-[0-9]{6}");
  EXPECT_TRUE(std::regex_match(a.reference, shape)) << a.reference;
  EXPECT_TRUE(std::regex_match(b.reference, shape)) << b.reference;
  EXPECT_NE(a.reference, b.reference);
  EXPECT_EQ(a.status, "received");
  EXPECT_EQ(a.applicant_name, r.applicant_name);

  r.address.clear();
  EXPECT_EQ(error_kind_of([&] { this->db_->create_connection_request(r); }), store_error_kind::invalid);
  r.address = "Plot 8";
  r.mobile = "";
  EXPECT_EQ(error_kind_of([&] { this->db_->create_connection_request(r); }), store_error_kind::invalid);
}

TYPED_TEST(store_test, call_record_is_saved_and_replaced_by_call_id) {
  call_record r;
  r.call_id = "6f1c2b1e-0d4e-4a57-9a55-3f2f1e0c9a11";
  r.caller_number = "+919000000001";
  r.started = now() - 90s;
  r.language = "hi";
  r.outcome = "in_progress";
  r.transcript_json = R"([{"role":"user","text":"बिजली नहीं है"}])";
  r.tool_calls_json = "[]";
  this->db_->save_call_record(r);
  auto read = this->db_->call_record_by_id(r.call_id);
  ASSERT_TRUE(read);
  EXPECT_EQ(*read, r);

  r.ended = now();
  r.outcome = "resolved";
  r.input_tokens = 1200;
  r.output_tokens = 3400;
  r.tool_calls_json = R"([{"name":"register_complaint"}])";
  this->db_->save_call_record(r);
  read = this->db_->call_record_by_id(r.call_id);
  ASSERT_TRUE(read);
  EXPECT_EQ(*read, r);

  EXPECT_FALSE(this->db_->call_record_by_id("no-such-call"));
  r.call_id.clear();
  EXPECT_EQ(error_kind_of([&] { this->db_->save_call_record(r); }), store_error_kind::invalid);
}

TYPED_TEST(store_test, outages_over_are_not_reported) {
  auto t = [](std::chrono::seconds offset) {
    return std::to_string((now() + offset).time_since_epoch().count());
  };
  std::string csv = "area,sector,kind,start,eta,note\n"
                    "Old Town,,unplanned," + t(-10h) + "," + t(-8h) + ",restored already\n"
                    "Old Town,Sector 4,unplanned," + t(-1h) + ",,cause unknown\n"
                    "Old Town,Sector 2,planned," + t(2h) + "," + t(5h) + ",line maintenance\n"
                    "Old Town,,planned,2030-01-02 04:00,2030-01-02T07:30:00,dated in UTC\n";
  auto result = this->import(import_kind::outages, csv);
  EXPECT_EQ(result.imported, 4u);
  EXPECT_TRUE(result.errors.empty());

  auto outages = this->db_->outages_in_area("old town", now());
  ASSERT_EQ(outages.size(), 3u);
  EXPECT_EQ(outages[0].note, "cause unknown");
  EXPECT_FALSE(outages[0].eta);
  EXPECT_EQ(outages[1].kind, outage_kind::planned);
  EXPECT_EQ(outages[1].sector, "Sector 2");
  using namespace std::chrono;
  EXPECT_EQ(outages[2].start, sys_days{2030y / January / 2} + 4h);
  EXPECT_EQ(outages[2].eta, std::optional<timestamp>(sys_days{2030y / January / 2} + 7h + 30min));
  EXPECT_TRUE(this->db_->is_area_served("Old Town"));
  EXPECT_TRUE(this->db_->outages_in_area("New Town", now()).empty());
}

TYPED_TEST(store_test, csv_import_reports_bad_rows_by_line_and_keeps_good_ones) {
  std::string consumers =
      "Number,Name,Mobile,Area,Sector,Status\r\n"       // 1
      "1000000001,A**** S****,+91 98000 00001,Lake Town,S1,active\r\n"  // 2
      "1000000002,B**** K****,9800000002,Lake Town,S1,sleeping\r\n"     // 3: unknown status
      "1000000003,C**** D****,9800000003,Lake Town\r\n"                 // 4: too few columns
      "1000000004,\"D****, \"\"Jr\"\"\nSecond\",9800000004,Lake Town,S2,disconnected\r\n"  // 5-6
      "1000000005,E**** F****,12345,Lake Town,S2,active\r\n"            // 7: bad mobile
      "\r\n"                                                             // 8: blank, skipped
      "1000000006,F**** G****,,Hill View,,temporarily_disconnected\r\n"; // 9
  auto result = this->import(import_kind::consumers, consumers);
  EXPECT_EQ(result.imported, 3u);
  ASSERT_EQ(result.errors.size(), 3u);
  EXPECT_EQ(result.errors[0].line, 3u);
  EXPECT_NE(result.errors[0].reason.find("status"), std::string::npos) << result.errors[0].reason;
  EXPECT_EQ(result.errors[1].line, 4u);
  EXPECT_EQ(result.errors[2].line, 7u);
  EXPECT_NE(result.errors[2].reason.find("mobile"), std::string::npos) << result.errors[2].reason;

  auto quoted = this->db_->find_consumer_by_number("1000000004");
  ASSERT_TRUE(quoted);
  // The quoted cell "D****, \"Jr\"\nSecond" parsed whole, then masked word by word.
  EXPECT_EQ(quoted->masked_name, "D***** \"**********");
  EXPECT_EQ(quoted->status, consumer_status::disconnected);
  EXPECT_FALSE(this->db_->find_consumer_by_number("1000000002"));
  EXPECT_EQ(this->db_->find_consumers_by_mobile("9800000001").size(), 1u);
  EXPECT_TRUE(this->db_->is_area_served("hill view"));

  std::string bills =
      "consumer,period,amount_paise,due_date,status\n"  // 1
      "1000000001,2026-01,123456,2026-02-15,paid\n"      // 2
      "1000000001,2026-02,98700,2026-03-15,unpaid\n"     // 3
      "1999999999,2026-02,100,2026-03-15,unpaid\n"       // 4: unknown consumer
      "1000000001,2026-13,100,2026-03-15,unpaid\n"       // 5: bad period
      "1000000001,2026-03,-5,2026-04-15,unpaid\n"        // 6: negative amount
      "1000000001,2026-03,12.5,2026-04-15,unpaid\n";     // 7: not paise
  result = this->import(import_kind::bills, bills);
  EXPECT_EQ(result.imported, 2u);
  ASSERT_EQ(result.errors.size(), 4u);
  EXPECT_EQ(result.errors[0].line, 4u);
  EXPECT_EQ(result.errors[1].line, 5u);
  EXPECT_EQ(result.errors[2].line, 6u);
  EXPECT_EQ(result.errors[3].line, 7u);
  auto latest = this->db_->latest_bill("1000000001");
  ASSERT_TRUE(latest);
  EXPECT_EQ(latest->period, "2026-02");
  EXPECT_EQ(latest->amount_paise, 98700);
  EXPECT_EQ(latest->status, bill_status::unpaid);

  // Importing again updates rows in place.
  result = this->import(import_kind::bills, "consumer,period,amount_paise,due_date,status\n"
                                            "1000000001,2026-02,98700,2026-03-15,paid\n");
  EXPECT_EQ(result.imported, 1u);
  EXPECT_EQ(this->db_->latest_bill("1000000001")->status, bill_status::paid);
}

TYPED_TEST(store_test, csv_without_a_required_column_imports_nothing) {
  EXPECT_EQ(error_kind_of([&] {
              this->import(import_kind::consumers, "number,name,area,sector,status\n1,X,Y,,active\n");
            }),
            store_error_kind::invalid);
  EXPECT_EQ(error_kind_of([&] { this->import(import_kind::bills, ""); }), store_error_kind::invalid);
  EXPECT_FALSE(this->db_->find_consumer_by_number("1"));
}

TYPED_TEST(store_test, sql_injection_attempts_are_stored_verbatim) {
  this->db_->seed_demo_data();
  const std::string evil = "'); DROP TABLE complaints; --";
  const std::string quote = "Robert'); DELETE FROM consumers WHERE ('1'='1";
  new_complaint c = sample_complaint(evil);
  c.address = quote;
  c.area = "Demo Nagar\" OR \"1\"=\"1";
  complaint out = this->db_->register_complaint(c);

  auto found = this->db_->complaint_by_number(out.number);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->description, evil);
  EXPECT_EQ(found->address, quote);
  EXPECT_EQ(found->area, c.area);

  EXPECT_FALSE(this->db_->find_consumer_by_number("' OR '1'='1"));
  EXPECT_TRUE(this->db_->find_consumers_by_mobile("' OR 1=1 --").empty());
  EXPECT_FALSE(this->db_->latest_bill("9990000001' OR '1'='1"));
  EXPECT_TRUE(this->db_->outages_in_area("x' OR '1'='1", now()).empty());
  EXPECT_FALSE(this->db_->is_area_served("' OR 1=1 --"));
  EXPECT_FALSE(this->db_->call_record_by_id("'; DROP TABLE call_records; --"));
  EXPECT_EQ(error_kind_of([&] { this->db_->complaint_by_number("1 OR 1=1"); }), store_error_kind::invalid);

  // Everything is still there.
  EXPECT_TRUE(this->db_->find_consumer_by_number("9990000001"));
  EXPECT_TRUE(this->db_->complaint_by_number(out.number));
}

TYPED_TEST(store_test, migrations_are_idempotent_across_restarts) {
  int version = this->db_->schema_version();
  EXPECT_GE(version, 1);
  complaint out = this->db_->register_complaint(sample_complaint());

  this->restart();
  EXPECT_EQ(this->db_->schema_version(), version);
  this->restart();
  EXPECT_EQ(this->db_->schema_version(), version);
  auto found = this->db_->complaint_by_number(out.number);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->description, out.description);
  complaint next = this->db_->register_complaint(sample_complaint());
  EXPECT_NE(next.number, out.number);
}

TYPED_TEST(store_test, daemons_starting_together_migrate_once) {
  this->db_.reset();
  // A fresh database for the race: the fixture's one is already migrated.
  TypeParam fresh;
  std::string why = fresh.prepare();
  ASSERT_EQ(why, "");
  constexpr int starters = 4;
  std::vector<std::unique_ptr<store>> opened(starters);
  std::vector<std::string> failures(starters);
  {
    std::vector<std::jthread> workers;
    for (int i = 0; i < starters; ++i) {
      workers.emplace_back([&, i] {
        try {
          opened[i] = open_store(fresh.url(), fresh.data_dir());
        } catch (const std::exception& e) {
          failures[i] = e.what();
        }
      });
    }
  }
  for (int i = 0; i < starters; ++i) {
    EXPECT_EQ(failures[i], "") << "starter " << i;
    if (opened[i]) EXPECT_GE(opened[i]->schema_version(), 1);
  }
  ASSERT_TRUE(opened[0]);
  complaint c = opened[0]->register_complaint(sample_complaint());
  ASSERT_TRUE(opened[starters - 1]);
  EXPECT_TRUE(opened[starters - 1]->complaint_by_number(c.number));
}

TYPED_TEST(store_test, concurrent_complaints_get_distinct_numbers_that_survive_restart) {
  constexpr int threads = 8, per_thread = 25;
  std::vector<std::vector<std::string>> numbers(threads);
  std::vector<std::string> failures(threads);
  {
    std::vector<std::jthread> workers;
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back([&, t] {
        try {
          for (int i = 0; i < per_thread; ++i) {
            auto c = this->db_->register_complaint(
                sample_complaint("thread " + std::to_string(t) + " complaint " + std::to_string(i)));
            numbers[t].push_back(c.number);
          }
        } catch (const std::exception& e) {
          failures[t] = e.what();
        }
      });
    }
  }
  std::set<std::string> distinct;
  for (int t = 0; t < threads; ++t) {
    EXPECT_EQ(failures[t], "") << "thread " << t;
    distinct.insert(numbers[t].begin(), numbers[t].end());
  }
  EXPECT_EQ(distinct.size(), std::size_t{threads * per_thread});

  this->restart();
  for (int t = 0; t < threads; ++t) {
    for (int i = 0; i < static_cast<int>(numbers[t].size()); ++i) {
      auto c = this->db_->complaint_by_number(numbers[t][i]);
      ASSERT_TRUE(c) << numbers[t][i];
      EXPECT_EQ(c->description, "thread " + std::to_string(t) + " complaint " + std::to_string(i));
    }
  }
}

TEST(postgres_store, lost_connections_are_replaced) {
  postgres_backend backend;
  std::string why = backend.prepare();
  if (!why.empty()) {
    if (test::in_ci()) FAIL() << why;
    GTEST_SKIP() << why;
  }
  auto db = open_store(backend.url(), "");
  db->seed_demo_data();
  ASSERT_EQ(backend.drop_connections(), "");

  // The call that meets the dead connection may fail, as unavailable; the store must then
  // open a new one instead of failing for good.
  try {
    db->find_consumer_by_number("9990000001");
  } catch (const store_error& e) {
    EXPECT_EQ(e.kind(), store_error_kind::unavailable) << e.what();
  }
  auto c = db->find_consumer_by_number("9990000001");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->masked_name, "Demo Consumer 1");
  complaint registered = db->register_complaint(sample_complaint());
  EXPECT_TRUE(db->complaint_by_number(registered.number));
}

TEST(open_store, unknown_scheme_is_rejected) {
  try {
    open_store("mysql://localhost/npcl", "");
    FAIL() << "opened a mysql URL";
  } catch (const store_error& e) {
    EXPECT_EQ(e.kind(), store_error_kind::invalid);
    EXPECT_NE(std::string(e.what()).find("DATABASE_URL"), std::string::npos);
  }
}

TEST(open_store, unreachable_postgres_is_unavailable_without_leaking_the_password) {
  // Port 1 on loopback: nothing listens, so the connection is refused at once.
  try {
    open_store("postgres://npcl:s3cret-word@127.0.0.1:1/npcl", "");
    FAIL() << "connected to nothing";
  } catch (const store_error& e) {
    EXPECT_EQ(e.kind(), store_error_kind::unavailable);
    EXPECT_EQ(std::string(e.what()).find("s3cret-word"), std::string::npos) << e.what();
  }
}

TEST(open_store, sqlite_default_is_a_wal_file_in_data_dir) {
  sqlite_backend backend;
  auto dir = std::filesystem::path(backend.data_dir()) / "nested";
  open_store("", dir.string()).reset();
  ASSERT_TRUE(std::filesystem::exists(dir / "npcl.db"));

  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir / "npcl.db").c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &stmt, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)), "wal");
  sqlite3_finalize(stmt);
  sqlite3_close(db);

  auto again = open_store("sqlite://" + (dir / "npcl.db").string(), "");
  EXPECT_GE(again->schema_version(), 1);
  EXPECT_FALSE(again->find_consumer_by_number("9990000001")) << "demo data only when asked for";
  again.reset();

  store_options options;
  options.data_dir = dir.string();
  options.seed_demo_data = true;
  auto seeded = open_store(options);
  EXPECT_TRUE(seeded->find_consumer_by_number("9990000001"));
}

TEST(open_store, sqlite_newer_schema_than_build_is_refused) {
  sqlite_backend backend;
  open_store("", backend.data_dir()).reset();
  auto path = std::filesystem::path(backend.data_dir()) / "npcl.db";
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "INSERT INTO schema_migrations VALUES (999, 'future', 0)", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  try {
    open_store("", backend.data_dir());
    FAIL() << "opened a database from a newer build";
  } catch (const store_error& e) {
    EXPECT_EQ(e.kind(), store_error_kind::unavailable);
    EXPECT_NE(std::string(e.what()).find("999"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace npcl::store
