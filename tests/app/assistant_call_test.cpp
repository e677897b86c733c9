// A caller talking to the assistant, end to end: fake Asterisk (ARI + RTP
// peer) → daemon → fake OpenAI Realtime, all real sockets on loopback.
#include <gtest/gtest.h>

#include <sqlite3.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "app/daemon_harness.hpp"
#include "app/http_get.hpp"
#include "fakes/fake_crm_server.hpp"
#include "fakes/fake_realtime_server.hpp"
#include "fakes/rtp_peer.hpp"
#include "npcl/audio/wav.hpp"
#include "npcl/store/store.hpp"

#include <nlohmann/json.hpp>

namespace npcl::test {
namespace {

using fakes::fake_ari_server;
using fakes::fake_realtime_server;

std::vector<std::int16_t> speech_like(std::chrono::milliseconds speech, std::chrono::milliseconds silence) {
  // Loud enough for the fake's energy VAD, then silence to end the turn.
  std::vector<std::int16_t> out(static_cast<std::size_t>(8 * (speech + silence).count()), 0);
  for (std::size_t i = 0; i < static_cast<std::size_t>(8 * speech.count()); ++i)
    out[i] = static_cast<std::int16_t>(6000 * std::sin(2 * M_PI * 220 * static_cast<double>(i) / 8000) *
                                       (0.6 + 0.4 * std::sin(2 * M_PI * 4 * static_cast<double>(i) / 8000)));
  return out;
}

// A voiced, harmonic-rich signal with a wandering pitch: what the local
// detector accepts as speech (a pure tone it rejects as a tone).
std::vector<std::int16_t> voiced(std::chrono::milliseconds speech, std::chrono::milliseconds silence) {
  std::vector<std::int16_t> out(static_cast<std::size_t>(8 * (speech + silence).count()), 0);
  double phase = 0;
  for (std::size_t i = 0; i < static_cast<std::size_t>(8 * speech.count()); ++i) {
    double t = static_cast<double>(i) / 8000;
    double f0 = 140 + 30 * std::sin(2 * M_PI * 3 * t);
    phase += 2 * M_PI * f0 / 8000;
    double v = 0;
    for (int k = 1; k * f0 < 3400; ++k) v += std::sin(k * phase) / k * (1 + 0.8 * std::sin(2 * M_PI * (k * 0.37 + 5 * t)));
    out[i] = static_cast<std::int16_t>(2500 * v * (0.7 + 0.3 * std::sin(2 * M_PI * 4 * t)));
  }
  return out;
}

// Places a call whose RTP goes to `peer`; returns the caller channel id.
std::string call_to(fake_ari_server& ari, fakes::rtp_peer& peer, const std::string& number = "9876543210") {
  ari.set_unicastrtp_port(peer.port());
  auto before = ari.requests().size();
  auto caller = ari.place_call(number, "Caller");
  EXPECT_TRUE(ari.wait_for_bridged(caller, 5s));
  auto requests = ari.requests();
  for (std::size_t i = before; i < requests.size(); ++i)
    if (requests[i].path == "/channels/externalMedia") {
      const auto& host = requests[i].query.at("external_host");
      peer.set_target(static_cast<std::uint16_t>(std::stoi(host.substr(host.rfind(':') + 1))));
    }
  return caller;
}

// Settings of a daemon whose calls talk to `realtime`.
config::settings assistant_settings(const fake_ari_server& ari, const fake_realtime_server& realtime,
                                    std::uint16_t rtp_first) {
  auto s = settings_for(ari, rtp_first);
  s.session.assistant = true;
  s.realtime.url = realtime.url();
  s.realtime.service.api_key = "sk-test-key";
  return s;
}

class assistant_call : public testing::Test {
 protected:
  config::settings settings(std::uint16_t rtp_first) {
    auto s = assistant_settings(ari_, realtime_, rtp_first);
    s.session.vad_silence = std::chrono::milliseconds(300);
    return s;
  }

  std::string call(fakes::rtp_peer& peer, const std::string& number = "9876543210") {
    return call_to(ari_, peer, number);
  }

  // Once the daemon is connected, places a call to `peer` and waits until its greeting of
  // `greeting_frames` 20 ms frames has been heard; returns the caller channel id.
  std::string call_and_hear_greeting(fakes::rtp_peer& peer, std::size_t greeting_frames) {
    EXPECT_TRUE(ari_.wait_for_events_connection(5s));
    auto caller = call(peer);
    EXPECT_TRUE(peer.wait_for_received(greeting_frames, 5s)) << "greeting not heard";
    return caller;
  }

  // After a 200 ms greeting the caller speaks; the model calls two tools, then answers with
  // 400 ms of audio. True once both outputs reached the model and the answer was heard.
  testing::AssertionResult ask_and_hear_two_tool_answers(fakes::rtp_peer& peer) {
    peer.play(speech_like(500ms, 600ms));
    if (auto r = realtime_.wait_for_function_output(5s, 2); !r) return r << " (the tool outputs)";
    // 200 ms greeting + 400 ms answer = 30 frames of 20 ms.
    if (auto r = peer.wait_for_received(30, 5s); !r) return r << " (the answer was not heard)";
    return testing::AssertionSuccess();
  }

  fake_ari_server ari_;
  fake_realtime_server realtime_;
};

TEST_F(assistant_call, greeting_is_heard_then_the_caller_gets_an_answer) {
  realtime_.script_audio(fake_realtime_server::tone(1000, 440), "Namaste, I am the NPCL assistant.");
  realtime_.script_audio(fake_realtime_server::tone(600, 660), "Your complaint is registered.");
  running_daemon d(settings(44000));
  ASSERT_TRUE(ari_.wait_for_events_connection(5s));
  fakes::rtp_peer peer;
  auto caller = call(peer);

  ASSERT_TRUE(realtime_.wait_for_session_update(5s));
  ASSERT_TRUE(realtime_.wait_for_event("response.create", 5s)) << "no greeting requested";
  auto update = realtime_.last_session_update().value_or("");
  EXPECT_NE(update.find("audio/pcmu"), std::string::npos) << "a μ-law call should pass μ-law through: " << update;
  EXPECT_EQ(update.find("temperature"), std::string::npos) << "GA has no temperature";
  EXPECT_NE(update.find("NPCL"), std::string::npos);
  // 1 s of greeting = 50 frames of 20 ms, paced.
  ASSERT_TRUE(peer.wait_for_received(50, 5s)) << "greeting not heard";

  peer.play(speech_like(800ms, 700ms));
  ASSERT_TRUE(realtime_.wait_for_sent("input_audio_buffer.speech_stopped", 5s));
  ASSERT_TRUE(peer.wait_for_received(50 + 30, 5s)) << "answer not heard";
  ASSERT_TRUE(realtime_.wait_for_audio_ms(1400, 5s)) << "caller audio did not reach the model";

  ari_.caller_hangup(caller);
  EXPECT_TRUE(ari_.wait_for_idle(5s));
  EXPECT_TRUE(realtime_.wait_for_no_connections(5s)) << "the model connection outlived the call";
  auto m = http_get(d->http_port(), "/metrics").body;
  EXPECT_GE(metric_value(m, "assistant_first_audio_seconds_count"), 2);
  EXPECT_GE(metric_value(m, "assistant_first_packet_seconds_count"), 2);
}

TEST_F(assistant_call, a_hindi_call_gets_hindi_instructions_and_greeting) {
  auto s = settings(44850);
  s.session.voice_language = "hi-IN";
  running_daemon d(std::move(s));
  ASSERT_TRUE(ari_.wait_for_events_connection(5s));
  fakes::rtp_peer peer;
  auto caller = call(peer);
  ASSERT_TRUE(realtime_.wait_for_event("response.create", 5s));
  auto update = nlohmann::json::parse(realtime_.last_session_update().value_or("{}"));
  auto instructions = update["session"].value("instructions", std::string());
  EXPECT_NE(instructions.find("Speak Hindi"), std::string::npos) << instructions;
  std::string greeting;
  for (const auto& e : realtime_.received())
    if (e.type == "response.create") greeting = e.raw;
  EXPECT_NE(greeting.find("नमस्ते"), std::string::npos) << greeting;
  ari_.caller_hangup(caller);
  EXPECT_TRUE(ari_.wait_for_idle(5s));
}

TEST_F(assistant_call, caller_talking_over_the_answer_stops_it_and_truncates_to_what_was_heard) {
  realtime_.script_audio(fake_realtime_server::tone(4000, 440), "A very long greeting.");
  auto s = settings(44100);
  s.vad.barge_in_mode = audio::vad_options::barge_in::server;
  running_daemon d(std::move(s));
  ASSERT_TRUE(ari_.wait_for_events_connection(5s));
  fakes::rtp_peer peer;
  auto caller = call(peer);
  ASSERT_TRUE(peer.wait_for_received(25, 5s));  // half a second of the 4 s greeting
  peer.play(speech_like(600ms, 600ms));

  ASSERT_TRUE(realtime_.wait_for_truncation(5s));
  auto heard = peer.received().size();
  auto cut = realtime_.truncations().front();
  // Nothing more reaches the caller once the truncate went out (allow one frame in flight).
  ASSERT_TRUE(realtime_.wait_for_event("response.cancel", 2s));
  EXPECT_FALSE(peer.wait_for_received(heard + 3, 500ms)) << "assistant audio kept playing after barge-in";
  auto received_ms = static_cast<int>(peer.received().size()) * 20;
  EXPECT_NEAR(cut.audio_end_ms, received_ms, 20) << "truncate must say what the caller heard";
  EXPECT_LT(cut.audio_end_ms, 4000);
  auto m = http_get(d->http_port(), "/metrics").body;
  EXPECT_GE(metric_value(m, "barge_ins_total{source=\"server\"}"), 1);
  ari_.caller_hangup(caller);
  EXPECT_TRUE(ari_.wait_for_idle(5s));
}

// How long after the caller starts speaking the assistant's audio stops
// reaching them, measured at the fake Asterisk, for one barge-in mode.
std::chrono::milliseconds barge_in_stop_delay(fake_ari_server& ari, fake_realtime_server& realtime,
                                              config::settings s, audio::vad_options::barge_in mode) {
  s.vad.barge_in_mode = mode;
  realtime.script_audio(fake_realtime_server::tone(4000, 440), "A very long greeting.");
  running_daemon d(std::move(s));
  EXPECT_TRUE(ari.wait_for_events_connection(5s));
  fakes::rtp_peer peer;
  auto caller = call_to(ari, peer);
  EXPECT_TRUE(peer.wait_for_received(25, 5s));
  auto sent_before = peer.sent().size();
  peer.play(voiced(800ms, 400ms));
  EXPECT_TRUE(realtime.wait_for_truncation(5s));
  EXPECT_FALSE(peer.wait_for_received(peer.received().size() + 3, 400ms)) << "audio kept playing";
  auto sent = peer.sent();
  auto received = peer.received();
  EXPECT_TRUE(peer.wait_for_played(3s));  // all 800 ms said, and the pause after it
  ari.caller_hangup(caller);
  EXPECT_TRUE(ari.wait_for_idle(5s));
  // The call's record of the caller: one turn, the 800 ms spoken with at
  // most the segment's 20 ms lead and 120 ms tail, never the 300 ms hangover.
  EXPECT_TRUE(metric_becomes(d->http_port(), "caller_turns_total", 1));
  auto speech_ms = metric_value(http_get(d->http_port(), "/metrics").body, "caller_speech_milliseconds_total");
  EXPECT_GE(speech_ms, 780);
  EXPECT_LE(speech_ms, 960);
  if (sent.size() <= sent_before || received.empty()) return std::chrono::milliseconds::max();
  auto speech_start = sent[sent_before].at;
  return std::chrono::duration_cast<std::chrono::milliseconds>(received.back().arrival - speech_start);
}

TEST(barge_in, local_detection_stops_the_assistant_within_100ms_and_before_the_server_would) {
  std::chrono::milliseconds server_delay{}, local_delay{};
  {
    fake_ari_server ari;
    fake_realtime_server realtime;
    server_delay = barge_in_stop_delay(ari, realtime, assistant_settings(ari, realtime, 44700),
                             audio::vad_options::barge_in::server);
  }
  {
    fake_ari_server ari;
    fake_realtime_server realtime;
    local_delay = barge_in_stop_delay(ari, realtime, assistant_settings(ari, realtime, 44750),
                             audio::vad_options::barge_in::local);
  }
  std::printf("assistant audio stopped %lld ms after the caller's speech began (local), %lld ms (server)\n",
              static_cast<long long>(local_delay.count()), static_cast<long long>(server_delay.count()));
  EXPECT_LE(local_delay.count(), 100);
  EXPECT_LT(local_delay, server_delay);
}

TEST_F(assistant_call, dropped_model_connection_reconnects_and_replays_the_conversation) {
  realtime_.script_user_transcript("My power is out in sector 62.");
  realtime_.script_audio(fake_realtime_server::tone(400, 440), "Hello from NPCL.");
  realtime_.script_audio(fake_realtime_server::tone(400, 550), "Sorry to hear that.");
  running_daemon d(settings(44200));
  ASSERT_TRUE(ari_.wait_for_events_connection(5s));
  fakes::rtp_peer peer;
  auto caller = call(peer);
  ASSERT_TRUE(peer.wait_for_received(20, 5s));
  peer.play(speech_like(600ms, 600ms));
  ASSERT_TRUE(realtime_.wait_for_sent("conversation.item.input_audio_transcription.completed", 5s));
  ASSERT_TRUE(realtime_.wait_for_sent("response.done", 5s, 2));

  realtime_.drop_connections();
  ASSERT_TRUE(realtime_.wait_for_connections(2, 5s)) << "no reconnect";
  ASSERT_TRUE(realtime_.wait_for_history_items(2, 5s)) << "context not replayed";
  auto history = realtime_.history_items();
  bool caller_line = false;
  for (const auto& h : history) caller_line |= h.find("sector 62") != std::string::npos;
  EXPECT_TRUE(caller_line) << "the caller's words were not replayed";
  EXPECT_EQ(ari_.bridges().size(), 1u) << "the call must survive the model's outage";
  ari_.caller_hangup(caller);
  EXPECT_TRUE(ari_.wait_for_idle(5s));
}

TEST_F(assistant_call, an_invalid_key_plays_the_apology_then_hands_the_caller_to_an_agent) {
  // A recorded apology of 500 ms in the call's language.
  auto dir = std::filesystem::temp_directory_path() / ("npcl-sounds-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir / "en-IN");
  ASSERT_TRUE(audio::write_wav(dir / "en-IN" / "apology.wav", 16000, fake_realtime_server::tone(500, 300)));
  // fake_realtime_server::tone() is 24 kHz: written as 16 kHz it lasts 750 ms.
  running_daemon d([&] {
    auto s = settings(44300);
    s.realtime.service.api_key = "sk-wrong";
    s.session.sounds_dir = dir.string();
    return s;
  }());
  ASSERT_TRUE(ari_.wait_for_events_connection(5s));
  fakes::rtp_peer peer;
  auto caller = call(peer);
  ASSERT_TRUE(ari_.wait_for_request("POST", "/channels/" + caller + "/continue", 5s)) << "caller left in silence";
  auto heard = peer.received().size();
  EXPECT_GE(heard, 35u) << "the apology was not played before the transfer";
  for (const auto& r : ari_.requests())
    if (r.path == "/channels/" + caller + "/continue") {
      EXPECT_EQ(r.query.at("context"), "agents");
      EXPECT_EQ(r.query.at("extension"), "queue");
    }
  EXPECT_TRUE(ari_.wait_for_idle(5s));
  EXPECT_TRUE(metric_becomes(d->http_port(), "calls_total{outcome=\"transferred\"}", 1));
  std::filesystem::remove_all(dir);
}

TEST_F(assistant_call, an_invalid_key_with_hangup_configured_ends_the_call) {
  running_daemon d([&] {
    auto s = settings(44350);
    s.realtime.service.api_key = "sk-wrong";
    s.session.on_failure = session::failure_action::hangup;
    return s;
  }());
  ASSERT_TRUE(ari_.wait_for_events_connection(5s));
  auto caller = ari_.place_call();
  ASSERT_FALSE(caller.empty());
  EXPECT_TRUE(ari_.wait_for_idle(5s));
  EXPECT_TRUE(metric_becomes(d->http_port(), "calls_total{outcome=\"assistant_unavailable\"}", 1));
}

TEST_F(assistant_call, end_call_tool_hangs_up_after_the_goodbye_has_played) {
  realtime_.script_audio(fake_realtime_server::tone(300, 440), "Hello from NPCL.");
  realtime_.script_function_call("end_call", R"({"reason":"caller said goodbye"})");
  realtime_.script_audio(fake_realtime_server::tone(600, 550), "Thank you for calling NPCL. Goodbye.");
  running_daemon d(settings(44500));
  ASSERT_TRUE(ari_.wait_for_events_connection(5s));
  fakes::rtp_peer peer;
  auto caller = call(peer);
  ASSERT_TRUE(peer.wait_for_received(15, 5s));
  peer.play(speech_like(500ms, 600ms));
  ASSERT_TRUE(realtime_.wait_for_function_output(5s)) << "the tool's result did not reach the model";
  auto out = realtime_.function_outputs().front().output;
  EXPECT_EQ(out.find("error"), std::string::npos) << out;
  ASSERT_TRUE(ari_.wait_for_request("DELETE", "/channels/" + caller, 5s)) << "the call was not ended";
  // 300 ms greeting + 600 ms goodbye = 45 frames, all heard before the hangup.
  EXPECT_GE(peer.received().size(), 44u) << "hung up before the goodbye had played";
  EXPECT_TRUE(ari_.wait_for_idle(5s));
  EXPECT_TRUE(metric_becomes(d->http_port(), "calls_total{outcome=\"ended_by_assistant\"}", 1));
  EXPECT_TRUE(metric_becomes(d->http_port(), "tool_calls_total{outcome=\"ok\",tool=\"end_call\"}", 1));
}

TEST_F(assistant_call, a_complaint_is_registered_and_its_number_exists_before_the_caller_hears_it) {
  realtime_.script_audio(fake_realtime_server::tone(200, 440), "Hello.");
  realtime_.script_function_call("register_complaint", R"({"category":"outage","area":"Sector 62",
      "address":"C-block near the water tank","description":"No power since morning",
      "callback_number":"9876543210"})");
  realtime_.script_audio(fake_realtime_server::tone(300, 550), "Your complaint number is registered.");
  auto s = settings(44800);
  auto data_dir = s.store.data_dir;
  running_daemon d(std::move(s));
  ASSERT_TRUE(ari_.wait_for_events_connection(5s));
  fakes::rtp_peer peer;
  auto caller = call(peer);
  ASSERT_TRUE(peer.wait_for_received(10, 5s));
  peer.play(speech_like(500ms, 600ms));
  ASSERT_TRUE(realtime_.wait_for_function_output(5s));
  auto out = nlohmann::json::parse(realtime_.function_outputs().front().output);
  ASSERT_TRUE(out.contains("complaint_number")) << out.dump();
  auto number = out["complaint_number"].get<std::string>();
  EXPECT_EQ(number.size(), 9u);
  // The number the model was given is already committed.
  auto db = store::open_store("", data_dir);
  auto saved = db->complaint_by_number(number);
  ASSERT_TRUE(saved.has_value());
  EXPECT_EQ(saved->area, "Sector 62");
  EXPECT_FALSE(saved->call_id.empty()) << "the complaint must name the call it was taken on";
  ari_.caller_hangup(caller);
  EXPECT_TRUE(ari_.wait_for_idle(5s));
}

// "1234.50" for 123450 paise, as the bill tool says amounts.
std::string rupees(std::int64_t paise) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%lld.%02lld", static_cast<long long>(paise / 100), static_cast<long long>(paise % 100));
  return buf;
}

TEST_F(assistant_call, a_bill_is_read_out_from_what_the_tools_returned) {
  realtime_.script_audio(fake_realtime_server::tone(200, 440), "Hello.");
  realtime_.script_function_call("lookup_consumer", R"({"consumer_number":"9990000001"})");
  realtime_.script_function_call("get_bill_summary", R"({"consumer_number":"9990000001"})");
  realtime_.script_audio(fake_realtime_server::tone(400, 550), "Your bill is due on the fifteenth.");
  auto s = settings(45100);
  s.store.seed_demo_data = true;
  auto data_dir = s.store.data_dir;
  running_daemon d(std::move(s));
  fakes::rtp_peer peer;
  auto caller = call_and_hear_greeting(peer, 10);
  ASSERT_TRUE(ask_and_hear_two_tool_answers(peer));

  auto db = store::open_store("", data_dir);
  auto consumer = db->find_consumer_by_number("9990000001");
  auto bill = db->latest_bill("9990000001");
  ASSERT_TRUE(consumer && bill) << "demo data was not seeded";
  auto outputs = realtime_.function_outputs();
  auto found = nlohmann::json::parse(outputs[0].output);
  ASSERT_EQ(found["consumers"].size(), 1u) << found.dump();
  EXPECT_EQ(found["consumers"][0]["consumer_number"], "9990000001");
  EXPECT_EQ(found["consumers"][0]["masked_name"], consumer->masked_name);
  auto summary = nlohmann::json::parse(outputs[1].output);
  EXPECT_EQ(summary["amount_rupees"], rupees(bill->amount_paise)) << summary.dump();
  EXPECT_EQ(summary["due_date"], bill->due_date) << summary.dump();

  // Each tool output is followed by a request for the model's next response, so what the
  // caller hears next is built on it.
  auto events = realtime_.received();
  int outputs_seen = 0, answered = 0;
  for (const auto& e : events) {
    if (e.type == "conversation.item.create" && e.raw.find("function_call_output") != std::string::npos) {
      ++outputs_seen;
    } else if (e.type == "response.create" && answered < outputs_seen) {
      ++answered;
    }
  }
  EXPECT_EQ(outputs_seen, 2);
  EXPECT_EQ(answered, 2) << "a tool output was not followed by response.create";
  ari_.caller_hangup(caller);
  EXPECT_TRUE(ari_.wait_for_idle(5s));
  EXPECT_TRUE(metric_becomes(d->http_port(), "tool_calls_total{outcome=\"ok\",tool=\"get_bill_summary\"}", 1));
}

TEST_F(assistant_call, with_the_crm_back_end_the_caller_hears_what_the_crm_answered) {
  fakes::fake_crm_server crm;
  crm.script({200, "application/json",
              R"({"consumer_number":"1200345678","billing_period":"2026-10","amount_rupees":"2417.30",)"
              R"("amount_spoken":"2417 rupees 30 paise","due_date":"2026-11-20","status":"unpaid"})"});
  crm.script({200, "application/json",
              R"({"complaint_number":"700000123","complaint_number_spoken":"7 0 0 0 0 0 1 2 3","status":"registered"})"});
  realtime_.script_audio(fake_realtime_server::tone(200, 440), "Hello.");
  realtime_.script_function_call("get_bill_summary", R"({"consumer_number":"1200345678"})");
  realtime_.script_function_call("register_complaint", R"({"category":"billing","area":"Sector 62",
      "address":"C-14","description":"Bill seems too high","callback_number":"9876543210"})");
  realtime_.script_audio(fake_realtime_server::tone(400, 550), "Your bill is 2417 rupees 30 paise.");
  auto s = settings(46300);
  s.tools.backend = tools::tool_backend::http;
  s.tools.url = crm.url();
  s.tools.endpoint = {false, "127.0.0.1", crm.port(), "/npcl/tools"};
  s.tools.secret = crm.secret();
  running_daemon d(std::move(s));
  fakes::rtp_peer peer;
  auto caller = call_and_hear_greeting(peer, 10);
  ASSERT_TRUE(ask_and_hear_two_tool_answers(peer));

  auto outputs = realtime_.function_outputs();
  auto bill = nlohmann::json::parse(outputs[0].output);
  EXPECT_EQ(bill["amount_rupees"], "2417.30") << bill.dump();
  EXPECT_EQ(bill["due_date"], "2026-11-20") << bill.dump();
  EXPECT_EQ(nlohmann::json::parse(outputs[1].output)["complaint_number"], "700000123");
  auto seen = crm.requests();
  ASSERT_EQ(seen.size(), 2u);
  auto first = nlohmann::json::parse(seen[0].body);
  auto second = nlohmann::json::parse(seen[1].body);
  EXPECT_EQ(first["tool"], "get_bill_summary");
  EXPECT_EQ(second["tool"], "register_complaint");
  EXPECT_EQ(first["call_id"].get<std::string>().size(), 36u) << "the CRM is told which call asks";
  EXPECT_EQ(first["call_id"], second["call_id"]);
  EXPECT_TRUE(seen[0].signature_valid && seen[1].signature_valid);
  ari_.caller_hangup(caller);
  EXPECT_TRUE(ari_.wait_for_idle(5s));
  EXPECT_TRUE(metric_becomes(d->http_port(), "tool_calls_total{outcome=\"ok\",tool=\"get_bill_summary\"}", 1));
}

// Another connection holding the write lock of the daemon's SQLite database until released
// (or destroyed): the store's writes wait for it, as behind a long transaction elsewhere.
class database_writer {
 public:
  explicit database_writer(const std::filesystem::path& db_file) {
    if (sqlite3_open_v2(db_file.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK ||
        sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK)
      error_ = db_ ? sqlite3_errmsg(db_) : "cannot open";
  }
  ~database_writer() { sqlite3_close(db_); }  // an open transaction is rolled back
  const std::string& error() const { return error_; }
  void release() { sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr); }

 private:
  sqlite3* db_ = nullptr;  ///< the other connection
  std::string error_;      ///< why the lock was not taken; empty when held
};

TEST_F(assistant_call, a_slow_tool_has_the_caller_hear_the_filler_before_the_answer) {
  // A recorded filler of 600 ms (a 24 kHz tone written as 16 kHz lasts 1.5 times as long).
  auto dir = std::filesystem::temp_directory_path() / ("npcl-filler-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir / "en-IN");
  ASSERT_TRUE(audio::write_wav(dir / "en-IN" / "filler.wav", 16000, fake_realtime_server::tone(400, 300)));
  realtime_.script_audio(fake_realtime_server::tone(200, 440), "Hello.");
  realtime_.script_function_call("register_complaint", R"({"category":"voltage","area":"Demo Nagar",
      "address":"House 4, Sector 2","description":"Lights flicker every evening","callback_number":"9876543210"})");
  realtime_.script_audio(fake_realtime_server::tone(300, 550), "Your complaint is registered.");
  auto s = settings(45300);
  s.session.sounds_dir = dir.string();
  s.session.tool_filler_after = 100ms;
  auto data_dir = s.store.data_dir;
  running_daemon d(std::move(s));
  fakes::rtp_peer peer;
  auto caller = call_and_hear_greeting(peer, 10);

  database_writer busy(std::filesystem::path(data_dir) / "npcl.db");
  ASSERT_EQ(busy.error(), "");
  peer.play(speech_like(500ms, 600ms));
  // 200 ms greeting + 600 ms filler = 40 frames, heard while register_complaint still waits.
  ASSERT_TRUE(peer.wait_for_received(40, 5s)) << "the caller heard nothing while the tool was busy";
  EXPECT_TRUE(realtime_.function_outputs().empty()) << "the tool answered before the filler was heard";
  busy.release();

  ASSERT_TRUE(realtime_.wait_for_function_output(5s));
  auto out = nlohmann::json::parse(realtime_.function_outputs().front().output);
  EXPECT_TRUE(out.contains("complaint_number")) << out.dump();
  // Then the answer: 300 ms more.
  EXPECT_TRUE(peer.wait_for_received(55, 5s)) << "the answer was not heard after the filler";
  ari_.caller_hangup(caller);
  EXPECT_TRUE(ari_.wait_for_idle(5s));
  std::filesystem::remove_all(dir);
}

TEST_F(assistant_call, invalid_tool_arguments_return_an_error_the_model_can_act_on) {
  realtime_.script_audio(fake_realtime_server::tone(200, 440), "Hello.");
  realtime_.script_function_call("set_language", R"({"language":"fr-FR"})");
  realtime_.script_audio(fake_realtime_server::tone(200, 550), "I can speak English, Hindi, Bhojpuri or Bengali.");
  running_daemon d(settings(44550));
  ASSERT_TRUE(ari_.wait_for_events_connection(5s));
  fakes::rtp_peer peer;
  auto caller = call(peer);
  ASSERT_TRUE(peer.wait_for_received(10, 5s));
  peer.play(speech_like(500ms, 600ms));
  ASSERT_TRUE(realtime_.wait_for_function_output(5s));
  auto out = realtime_.function_outputs().front().output;
  EXPECT_NE(out.find("invalid_arguments"), std::string::npos) << out;
  EXPECT_NE(out.find("language"), std::string::npos) << out;
  EXPECT_EQ(ari_.bridges().size(), 1u) << "a bad tool call must not end the call";
  ari_.caller_hangup(caller);
  EXPECT_TRUE(ari_.wait_for_idle(5s));
}

TEST_F(assistant_call, keypad_digits_reach_the_model_as_the_callers_entry) {
  realtime_.set_default_response({fake_realtime_server::tone(200, 440), "Hello.", {}, {}});
  running_daemon d(settings(44600));
  ASSERT_TRUE(ari_.wait_for_events_connection(5s));
  fakes::rtp_peer peer;
  auto caller = call(peer);
  ASSERT_TRUE(realtime_.wait_for_sent("response.done", 5s));
  for (char c : std::string("000054321#")) ari_.send_dtmf(caller, c);
  ASSERT_TRUE(realtime_.wait_for_history_items(1, 5s));
  EXPECT_NE(realtime_.history_items().front().find("000054321"), std::string::npos)
      << realtime_.history_items().front();
  EXPECT_TRUE(realtime_.wait_for_event("response.create", 5s, 2)) << "no answer asked for the keypad entry";
  EXPECT_EQ(ari_.bridges().size(), 1u) << "zeros inside a number must not transfer the call";
  ari_.caller_hangup(caller);
  EXPECT_TRUE(ari_.wait_for_idle(5s));
}

TEST_F(assistant_call, pressing_zero_reaches_an_agent) {
  realtime_.set_default_response({fake_realtime_server::tone(200, 440), "Hello.", {}, {}});
  auto s = settings(44650);
  s.session.dtmf_inter_digit = 300ms;
  running_daemon d(std::move(s));
  ASSERT_TRUE(ari_.wait_for_events_connection(5s));
  fakes::rtp_peer peer;
  auto caller = call(peer);
  ASSERT_TRUE(realtime_.wait_for_sent("response.done", 5s));
  ari_.send_dtmf(caller, '0');
  ASSERT_TRUE(ari_.wait_for_request("POST", "/channels/" + caller + "/continue", 5s));
  EXPECT_TRUE(ari_.wait_for_idle(5s));
  EXPECT_TRUE(metric_becomes(d->http_port(), "calls_total{outcome=\"transferred\"}", 1));
}

// The requests the fake received for `path`, in order.
std::vector<fakes::recorded_request> requests_to(const fake_ari_server& ari, const std::string& path) {
  std::vector<fakes::recorded_request> out;
  for (const auto& r : ari.requests())
    if (r.path == path) out.push_back(r);
  return out;
}

class agent_redirect : public assistant_call {
 protected:
  // A daemon that transfers to `endpoint`, with the keypad entry ending 300 ms after a key.
  config::settings redirecting(std::uint16_t rtp_first, std::string endpoint) {
    auto s = settings(rtp_first);
    s.session.dtmf_inter_digit = 300ms;
    s.session.agent_endpoint = std::move(endpoint);
    return s;
  }

  // The caller is gone to the agents: nothing of the call is left, the model connection
  // is closed and the call counts as transferred.
  void expect_transferred(running_daemon& d) {
    EXPECT_TRUE(ari_.wait_for_idle(5s));
    EXPECT_TRUE(realtime_.wait_for_no_connections(5s)) << "the model connection outlived the transfer";
    EXPECT_TRUE(metric_becomes(d->http_port(), "calls_total{outcome=\"transferred\"}", 1));
  }

  // The single continue the caller got, to the agents' dialplan.
  void expect_continued_to_the_agents(const std::string& caller) {
    const auto continues = requests_to(ari_, "/channels/" + caller + "/continue");
    ASSERT_EQ(continues.size(), 1u);
    EXPECT_EQ(continues[0].query.at("context"), "agents");
    EXPECT_EQ(continues[0].query.at("extension"), "queue");
    EXPECT_EQ(continues[0].status, 204u);
  }
};

TEST_F(agent_redirect, pressing_zero_redirects_after_the_sentence_has_played) {
  // 1 s greeting = 50 frames of 20 ms; the key is pressed early in it.
  realtime_.set_default_response({fake_realtime_server::tone(1000, 440), "Hello, this is NPCL.", {}, {}});
  running_daemon d(redirecting(45500, "Local/100@agents"));
  fakes::rtp_peer peer;
  auto caller = call_and_hear_greeting(peer, 10);
  ari_.send_dtmf(caller, '0');
  ASSERT_TRUE(ari_.wait_for_request("POST", "/channels/" + caller + "/redirect", 5s)) << "no redirect";
  EXPECT_GE(peer.received().size(), 48u) << "redirected before the sentence had played";
  const auto redirects = requests_to(ari_, "/channels/" + caller + "/redirect");
  ASSERT_EQ(redirects.size(), 1u);
  EXPECT_EQ(redirects[0].query.at("endpoint"), "Local/100@agents");
  EXPECT_EQ(redirects[0].status, 204u);
  expect_transferred(d);
  EXPECT_TRUE(requests_to(ari_, "/channels/" + caller + "/continue").empty()) << "redirected and continued";
  // The redirected caller is the agents' now: the daemon does not hang it up.
  EXPECT_TRUE(requests_to(ari_, "/channels/" + caller).empty()) << "the transferred caller was hung up";
}

TEST_F(agent_redirect, the_transfer_to_agent_tool_redirects_once_the_announcement_has_played) {
  realtime_.script_audio(fake_realtime_server::tone(200, 440), "Hello.");
  realtime_.script_function_call("transfer_to_agent", R"({"reason":"wire down on the street"})");
  realtime_.script_audio(fake_realtime_server::tone(400, 550), "I am transferring you to an agent.");
  running_daemon d(redirecting(45700, "Local/100@agents"));
  fakes::rtp_peer peer;
  auto caller = call_and_hear_greeting(peer, 8);
  peer.play(speech_like(500ms, 600ms));
  ASSERT_TRUE(ari_.wait_for_request("POST", "/channels/" + caller + "/redirect", 5s)) << "no redirect";
  // 200 ms greeting + 400 ms announcement = 30 frames, heard before the caller leaves.
  EXPECT_GE(peer.received().size(), 29u) << "redirected before the announcement had played";
  const auto redirects = requests_to(ari_, "/channels/" + caller + "/redirect");
  ASSERT_EQ(redirects.size(), 1u);
  EXPECT_EQ(redirects[0].query.at("endpoint"), "Local/100@agents");
  expect_transferred(d);
}

TEST_F(agent_redirect, a_redirect_asterisk_refuses_falls_back_to_the_agents_dialplan) {
  realtime_.set_default_response({fake_realtime_server::tone(200, 440), "Hello.", {}, {}});
  // The fake's callers are Local channels: Asterisk refuses another technology with 422.
  running_daemon d(redirecting(45900, "PJSIP/agents"));
  fakes::rtp_peer peer;
  auto caller = call_and_hear_greeting(peer, 10);
  ASSERT_TRUE(realtime_.wait_for_sent("response.done", 5s));
  ari_.send_dtmf(caller, '0');
  ASSERT_TRUE(ari_.wait_for_request("POST", "/channels/" + caller + "/continue", 5s)) << "caller left in silence";
  const auto redirects = requests_to(ari_, "/channels/" + caller + "/redirect");
  ASSERT_EQ(redirects.size(), 1u);
  EXPECT_EQ(redirects[0].status, 422u);
  expect_continued_to_the_agents(caller);
  expect_transferred(d);
}

TEST_F(agent_redirect, a_caller_still_here_after_an_accepted_redirect_goes_the_dialplan_way) {
  realtime_.set_default_response({fake_realtime_server::tone(200, 440), "Hello.", {}, {}});
  auto s = redirecting(46100, "Local/100@agents");
  s.session.agent_redirect_timeout = 1500ms;
  running_daemon d(std::move(s));
  fakes::rtp_peer peer;
  auto caller = call_and_hear_greeting(peer, 10);
  ASSERT_TRUE(realtime_.wait_for_sent("response.done", 5s));
  // Accepted, but the far end never takes the call: the caller stays in the application.
  ari_.add_fault({"POST", "/channels/" + caller + "/redirect", 1, 204, ""});
  ari_.send_dtmf(caller, '0');
  ASSERT_TRUE(ari_.wait_for_request("POST", "/channels/" + caller + "/redirect", 5s)) << "no redirect";
  const auto asked = std::chrono::steady_clock::now();
  ASSERT_TRUE(ari_.wait_for_request("POST", "/channels/" + caller + "/continue", 10s)) << "caller left in silence";
  EXPECT_GE(std::chrono::steady_clock::now() - asked, 1500ms) << "did not give the redirect AGENT_REDIRECT_TIMEOUT";
  expect_continued_to_the_agents(caller);
  expect_transferred(d);
}

TEST_F(assistant_call, a_failed_setup_with_the_model_connecting_still_lets_the_daemon_exit) {
  auto s = settings(44900);
  running_daemon d(std::move(s));
  ASSERT_TRUE(ari_.wait_for_events_connection(5s));
  ari_.add_fault({"POST", "/channels/externalMedia", 1, 500, "Internal Server Error"});
  auto caller = ari_.place_call();
  ASSERT_FALSE(caller.empty());
  EXPECT_TRUE(ari_.wait_for_idle(5s));
  EXPECT_TRUE(metric_becomes(d->http_port(), "calls_total{outcome=\"setup_failed\"}", 1));
  d->request_shutdown();
  EXPECT_EQ(d.wait_exit(5s), 0) << "the daemon did not exit after SIGTERM";
}

TEST_F(assistant_call, twenty_concurrent_calls_each_keep_their_own_conversation) {
  realtime_.set_default_response({fake_realtime_server::tone(300, 440), "Hello.", {}, {}});
  running_daemon d(settings(44400));
  ASSERT_TRUE(ari_.wait_for_events_connection(5s));
  std::vector<std::unique_ptr<fakes::rtp_peer>> peers;
  std::vector<std::string> callers;
  for (int i = 0; i < 20; ++i) {
    fakes::rtp_peer_options o;
    o.seed = static_cast<std::uint32_t>(100 + i);
    peers.push_back(std::make_unique<fakes::rtp_peer>(o));
    callers.push_back(call(*peers.back(), "98100000" + std::to_string(10 + i)));
  }
  ASSERT_TRUE(realtime_.wait_for_connections(20, 10s));
  for (auto& p : peers) ASSERT_TRUE(p->wait_for_received(15, 10s)) << "a caller heard no greeting";
  // Each connection got its own session.update and greeting request.
  std::map<int, int> creates;
  for (const auto& e : realtime_.received())
    if (e.type == "response.create") ++creates[e.connection];
  EXPECT_EQ(creates.size(), 20u);
  for (auto& c : callers) ari_.caller_hangup(c);
  EXPECT_TRUE(ari_.wait_for_idle(10s));
  EXPECT_TRUE(realtime_.wait_for_no_connections(10s));
}

}  // namespace
}  // namespace npcl::test
