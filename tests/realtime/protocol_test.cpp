// The Realtime wire protocol against the reference's examples, for each dialect.
#include "npcl/realtime/protocol.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <numbers>

#include "npcl/audio/g711.hpp"
#include "npcl/realtime/connection_request.hpp"
#include "realtime/base64.hpp"

namespace npcl::realtime {
namespace {

using json = nlohmann::json;
using kind = server_event::kind;

constexpr audio::audio_format call_8k{8000, 1, 20};
constexpr audio::audio_format call_16k{16000, 1, 20};

link_config phone_config() {
  link_config c;
  c.call_format = call_8k;
  c.instructions = "You are the NPCL assistant.";
  c.voice = "marin";
  c.transcription_model = "gpt-4o-mini-transcribe";
  c.language = "hi";
  c.tools.push_back({"get_bill", "Latest bill of an account",
                     R"({"type":"object","properties":{"account":{"type":"string"}},"required":["account"]})"});
  c.max_output_tokens = 1024;
  c.temperature = 0.7;
  return c;
}

json tool_json() {
  return {{"type", "function"},
          {"name", "get_bill"},
          {"description", "Latest bill of an account"},
          {"parameters", {{"type", "object"},
                          {"properties", {{"account", {{"type", "string"}}}}},
                          {"required", {"account"}}}}};
}

json server_vad_json() {
  return {{"type", "server_vad"},       {"threshold", 0.5},          {"prefix_padding_ms", 300},
          {"silence_duration_ms", 500}, {"create_response", true}, {"interrupt_response", true}};
}

bool contains_key(const json& j, const std::string& key) {
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it)
      if (it.key() == key || contains_key(it.value(), key)) return true;
  } else if (j.is_array()) {
    for (const auto& v : j)
      if (contains_key(v, key)) return true;
  }
  return false;
}

std::string b64(const std::vector<std::uint8_t>& bytes) { return detail::base64_encode(bytes); }

std::vector<std::uint8_t> unb64(const std::string& text) {
  std::vector<std::uint8_t> out;
  EXPECT_TRUE(detail::base64_decode(text, out)) << text;
  return out;
}

std::string delta_event(const char* type, const std::string& item, const std::vector<std::uint8_t>& bytes) {
  return json{{"type", type}, {"event_id", "event_1"}, {"response_id", "resp_R"}, {"item_id", item},
              {"output_index", 0}, {"content_index", 0}, {"delta", b64(bytes)}}
      .dump();
}

// --- connection -----------------------------------------------------------

client_options options_for(dialect d, std::string url = {}) {
  client_options o;
  o.dialect = d;
  o.url = std::move(url);
  o.service.api_key = "sk-secret";
  o.service.model = d == dialect::ga ? "gpt-realtime" : "my-deployment";
  return o;
}

TEST(connection_request, ga_uses_bearer_and_never_the_beta_header) {
  std::string why;
  auto req = make_connection_request(options_for(dialect::ga), &why);
  ASSERT_TRUE(req) << why;
  EXPECT_TRUE(req->tls);
  EXPECT_EQ(req->host, "api.openai.com");
  EXPECT_EQ(req->port, "443");
  EXPECT_EQ(req->target, "/v1/realtime?model=gpt-realtime");
  ASSERT_EQ(req->headers.size(), 1u);
  EXPECT_EQ(req->headers[0], std::make_pair(std::string("Authorization"), std::string("Bearer sk-secret")));
}

TEST(connection_request, beta_adds_the_beta_header) {
  auto o = options_for(dialect::beta);
  o.service.model = "gpt-4o-realtime-preview";
  auto req = make_connection_request(o);
  ASSERT_TRUE(req);
  EXPECT_EQ(req->target, "/v1/realtime?model=gpt-4o-realtime-preview");
  EXPECT_NE(std::find(req->headers.begin(), req->headers.end(),
                      std::make_pair(std::string("OpenAI-Beta"), std::string("realtime=v1"))),
            req->headers.end());
}

TEST(connection_request, azure_ga_uses_v1_path_model_and_api_key) {
  auto req = make_connection_request(options_for(dialect::azure_ga, "https://res.openai.azure.com"));
  ASSERT_TRUE(req);
  EXPECT_TRUE(req->tls);
  EXPECT_EQ(req->host, "res.openai.azure.com");
  EXPECT_EQ(req->target, "/openai/v1/realtime?model=my-deployment");
  ASSERT_EQ(req->headers.size(), 1u);
  EXPECT_EQ(req->headers[0].first, "api-key");
  EXPECT_EQ(req->headers[0].second, "sk-secret");
}

TEST(connection_request, azure_preview_uses_api_version_and_deployment) {
  auto req = make_connection_request(options_for(dialect::azure_preview, "wss://res.openai.azure.com/"));
  ASSERT_TRUE(req);
  EXPECT_EQ(req->target, "/openai/realtime?api-version=2025-04-01-preview&deployment=my-deployment");
  ASSERT_EQ(req->headers.size(), 1u);
  EXPECT_EQ(req->headers[0].first, "api-key");
}

TEST(connection_request, url_override_keeps_path_port_and_scheme_and_encodes_the_model) {
  auto o = options_for(dialect::ga, "ws://127.0.0.1:8081/v1/realtime");
  o.service.model = "model with space&x";
  auto req = make_connection_request(o);
  ASSERT_TRUE(req);
  EXPECT_FALSE(req->tls);
  EXPECT_EQ(req->host, "127.0.0.1");
  EXPECT_EQ(req->port, "8081");
  EXPECT_EQ(req->target.rfind("/v1/realtime?model=model", 0), 0u);
  EXPECT_EQ(req->target.find(' '), std::string::npos);
  EXPECT_EQ(req->target.find("&x"), std::string::npos);
}

TEST(connection_request, unusable_settings_are_refused_with_a_reason) {
  std::string why;
  auto no_key = options_for(dialect::ga);
  no_key.service.api_key.clear();
  EXPECT_FALSE(make_connection_request(no_key, &why));
  EXPECT_NE(why.find("API key"), std::string::npos);
  EXPECT_FALSE(make_connection_request(options_for(dialect::ga, "ftp://example.com/x"), &why));
  EXPECT_NE(why.find("scheme"), std::string::npos);
  EXPECT_FALSE(make_connection_request(options_for(dialect::azure_ga), &why));
  EXPECT_NE(why.find("Azure"), std::string::npos);
  EXPECT_FALSE(make_connection_request(options_for(dialect::ga, "not a url"), &why));
}

TEST(dialect, names_round_trip) {
  for (dialect d : {dialect::ga, dialect::beta, dialect::azure_ga, dialect::azure_preview})
    EXPECT_EQ(parse_dialect(to_string(d)), d);
  EXPECT_FALSE(parse_dialect("GA2"));
}

// --- session.update -------------------------------------------------------

TEST(session_update, ga_has_the_nested_shape_with_pcmu_for_an_8k_call) {
  protocol p(dialect::ga, call_8k);
  json expected = {
      {"type", "session.update"},
      {"session",
       {{"type", "realtime"},
        {"instructions", "You are the NPCL assistant."},
        {"output_modalities", {"audio"}},
        {"audio",
         {{"input",
           {{"format", {{"type", "audio/pcmu"}}},
            {"transcription", {{"model", "gpt-4o-mini-transcribe"}, {"language", "hi"}}},
            {"turn_detection", server_vad_json()}}},
          {"output", {{"format", {{"type", "audio/pcmu"}}}, {"voice", "marin"}}}}},
        {"tools", {tool_json()}},
        {"tool_choice", "auto"},
        {"max_output_tokens", 1024}}}};
  EXPECT_EQ(json::parse(p.session_update(phone_config())), expected);
}

TEST(session_update, ga_and_azure_ga_never_send_temperature_or_flat_fields) {
  for (dialect d : {dialect::ga, dialect::azure_ga}) {
    protocol p(d, call_16k);
    json j = json::parse(p.session_update(phone_config()));
    EXPECT_FALSE(contains_key(j, "temperature"));
    for (const char* beta_field : {"modalities", "input_audio_format", "output_audio_format", "voice",
                                   "input_audio_transcription", "max_response_output_tokens"})
      EXPECT_FALSE(j["session"].contains(beta_field)) << beta_field;
  }
}

TEST(session_update, beta_has_the_flat_shape_with_temperature) {
  protocol p(dialect::beta, call_8k);
  json expected = {{"type", "session.update"},
                   {"session",
                    {{"modalities", {"text", "audio"}},
                     {"instructions", "You are the NPCL assistant."},
                     {"voice", "marin"},
                     {"input_audio_format", "g711_ulaw"},
                     {"output_audio_format", "g711_ulaw"},
                     {"input_audio_transcription", {{"model", "gpt-4o-mini-transcribe"}, {"language", "hi"}}},
                     {"turn_detection", server_vad_json()},
                     {"tools", {tool_json()}},
                     {"tool_choice", "auto"},
                     {"temperature", 0.7},
                     {"max_response_output_tokens", 1024}}}};
  EXPECT_EQ(json::parse(p.session_update(phone_config())), expected);
  protocol azure(dialect::azure_preview, call_8k);
  EXPECT_EQ(json::parse(azure.session_update(phone_config())), expected);
}

TEST(session_update, wideband_call_uses_pcm16_at_24k_in_each_dialect) {
  auto ga = json::parse(protocol(dialect::ga, call_16k).session_update(phone_config()));
  json pcm = {{"type", "audio/pcm"}, {"rate", 24000}};
  EXPECT_EQ(ga["session"]["audio"]["input"]["format"], pcm);
  EXPECT_EQ(ga["session"]["audio"]["output"]["format"], pcm);
  auto beta = json::parse(protocol(dialect::beta, call_16k).session_update(phone_config()));
  EXPECT_EQ(beta["session"]["input_audio_format"], "pcm16");
  EXPECT_EQ(beta["session"]["output_audio_format"], "pcm16");
}

TEST(session_update, options_off_and_semantic_vad) {
  auto c = phone_config();
  c.transcription_model.clear();
  c.max_output_tokens = 0;
  c.turns.type = turn_detection::kind::semantic_vad;
  c.turns.eagerness = "low";
  c.turns.interrupt_response = false;
  c.tools.push_back({"broken", "bad schema", "[1,2"});
  std::string why;
  auto j = json::parse(protocol(dialect::ga, call_8k).session_update(c, &why));
  const auto& in = j["session"]["audio"]["input"];
  EXPECT_TRUE(in["transcription"].is_null());
  EXPECT_EQ(in["turn_detection"], (json{{"type", "semantic_vad"}, {"eagerness", "low"},
                                        {"create_response", true}, {"interrupt_response", false}}));
  EXPECT_EQ(j["session"]["max_output_tokens"], "inf");
  EXPECT_EQ(j["session"]["tools"].size(), 1u);
  EXPECT_NE(why.find("broken"), std::string::npos);

  c.turns.type = turn_detection::kind::none;
  auto beta = json::parse(protocol(dialect::beta, call_8k).session_update(c));
  EXPECT_TRUE(beta["session"]["turn_detection"].is_null());
  EXPECT_TRUE(beta["session"]["input_audio_transcription"].is_null());
}

// --- other client events --------------------------------------------------

TEST(client_events, response_cancel_truncate_and_tool_output) {
  protocol p(dialect::ga, call_8k);
  EXPECT_EQ(json::parse(p.response_create()), (json{{"type", "response.create"}}));
  EXPECT_EQ(json::parse(p.response_create("Greet the caller in Hindi.")),
            (json{{"type", "response.create"}, {"response", {{"instructions", "Greet the caller in Hindi."}}}}));
  EXPECT_EQ(json::parse(p.response_cancel()), (json{{"type", "response.cancel"}}));
  EXPECT_EQ(json::parse(p.truncate("item_A", std::chrono::milliseconds(1520))),
            (json{{"type", "conversation.item.truncate"}, {"item_id", "item_A"}, {"content_index", 0},
                  {"audio_end_ms", 1520}}));
  EXPECT_EQ(json::parse(p.tool_output("call_X", R"({"amount":1234})")),
            (json{{"type", "conversation.item.create"},
                  {"item", {{"type", "function_call_output"}, {"call_id", "call_X"}, {"output", R"({"amount":1234})"}}}}));
}

TEST(client_events, history_replay_uses_each_dialects_content_type) {
  transcript_line caller{transcript_line::speaker::caller, "item_1", "My bill is wrong"};
  transcript_line assistant{transcript_line::speaker::assistant, "item_2", "Let me check"};
  auto item = [](const std::string& role, const std::string& type, const std::string& text) {
    return json{{"type", "conversation.item.create"},
                {"item", {{"type", "message"}, {"role", role}, {"content", {{{"type", type}, {"text", text}}}}}}};
  };
  protocol ga(dialect::ga, call_8k);
  protocol beta(dialect::beta, call_8k);
  EXPECT_EQ(json::parse(ga.history_item(caller)), item("user", "input_text", "My bill is wrong"));
  EXPECT_EQ(json::parse(ga.history_item(assistant)), item("assistant", "output_text", "Let me check"));
  EXPECT_EQ(json::parse(beta.history_item(caller)), item("user", "input_text", "My bill is wrong"));
  EXPECT_EQ(json::parse(beta.history_item(assistant)), item("assistant", "text", "Let me check"));
}

// --- audio ----------------------------------------------------------------

std::vector<std::int16_t> sine(int rate, int samples, double hz, double amplitude) {
  std::vector<std::int16_t> out(static_cast<std::size_t>(samples));
  for (int i = 0; i < samples; ++i)
    out[static_cast<std::size_t>(i)] =
        static_cast<std::int16_t>(amplitude * std::sin(2 * std::numbers::pi * hz * i / rate));
  return out;
}

TEST(audio, ulaw_append_is_bit_exact_g711_of_the_call_audio) {
  protocol p(dialect::ga, call_8k);
  ASSERT_EQ(p.audio(), protocol::wire_audio::pcmu);
  auto pcm = sine(8000, 320, 440, 12000);
  pcm[0] = 0;
  pcm[1] = 32767;
  pcm[2] = -32768;
  auto j = json::parse(p.audio_append(pcm));
  EXPECT_EQ(j["type"], "input_audio_buffer.append");
  EXPECT_EQ(j.size(), 2u);
  auto bytes = unb64(j["audio"]);
  ASSERT_EQ(bytes.size(), pcm.size());
  for (std::size_t i = 0; i < pcm.size(); ++i) EXPECT_EQ(bytes[i], audio::ulaw_encode(pcm[i])) << i;
}

TEST(audio, ulaw_delta_decodes_bit_exact_at_8k) {
  protocol p(dialect::ga, call_8k);
  std::vector<std::uint8_t> bytes(256);
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<std::uint8_t>(i);
  auto ev = p.decode(delta_event("response.output_audio.delta", "item_A", bytes));
  ASSERT_TRUE(ev);
  EXPECT_EQ(ev->type, kind::audio_delta);
  EXPECT_EQ(ev->item_id, "item_A");
  EXPECT_EQ(ev->response_id, "resp_R");
  ASSERT_EQ(ev->pcm.size(), bytes.size());
  for (std::size_t i = 0; i < bytes.size(); ++i) EXPECT_EQ(ev->pcm[i], audio::ulaw_decode(bytes[i]));
  EXPECT_EQ(p.audio_received("item_A"), std::chrono::milliseconds(32));
}

TEST(audio, known_base64_vector) {
  EXPECT_EQ(b64({0xFF, 0x7F, 0x00}), "/38A");
  EXPECT_EQ(unb64("/38A"), (std::vector<std::uint8_t>{0xFF, 0x7F, 0x00}));
}

TEST(audio, wideband_append_is_pcm16_le_at_24k) {
  protocol p(dialect::beta, call_16k);
  ASSERT_EQ(p.audio(), protocol::wire_audio::pcm16_24k);
  std::size_t total = 0;
  double energy = 0;
  for (int frame = 0; frame < 10; ++frame) {
    auto j = json::parse(p.audio_append(sine(16000, 320, 500, 10000)));
    auto bytes = unb64(j["audio"]);
    EXPECT_EQ(bytes.size(), 960u);  // 20 ms at 24 kHz, 2 bytes a sample
    total += bytes.size();
    for (std::size_t i = 0; i + 1 < bytes.size(); i += 2) {
      auto s = static_cast<std::int16_t>(bytes[i] | (bytes[i + 1] << 8));
      energy += double(s) * s;
    }
  }
  // A 10 000-peak sine has RMS ≈ 7071: the resampled stream carries it.
  double rms = std::sqrt(energy / double(total / 2));
  EXPECT_GT(rms, 5500);
  EXPECT_LT(rms, 8000);
}

TEST(audio, wideband_deltas_resample_to_the_call_rate_across_odd_splits) {
  protocol p(dialect::ga, call_16k);
  auto tone = sine(24000, 4800, 440, 10000);  // 200 ms
  std::vector<std::uint8_t> bytes;
  for (auto s : tone) {
    bytes.push_back(static_cast<std::uint8_t>(static_cast<std::uint16_t>(s) & 0xFF));
    bytes.push_back(static_cast<std::uint8_t>(static_cast<std::uint16_t>(s) >> 8));
  }
  // Split at an odd byte: half a sample must carry over to the next delta.
  std::vector<std::uint8_t> first(bytes.begin(), bytes.begin() + 2401);
  std::vector<std::uint8_t> second(bytes.begin() + 2401, bytes.end());
  auto a = p.decode(delta_event("response.output_audio.delta", "item_A", first));
  auto b = p.decode(delta_event("response.output_audio.delta", "item_A", second));
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->pcm.size() + b->pcm.size(), 3200u);  // 200 ms at 16 kHz
  EXPECT_EQ(p.audio_received("item_A"), std::chrono::milliseconds(200));
  double peak = 0;
  for (auto s : b->pcm) peak = std::max(peak, std::abs(double(s)));
  EXPECT_GT(peak, 8500);
  EXPECT_LT(peak, 11500);
}

// --- server events ---------------------------------------------------------

TEST(server_events, audio_events_of_both_dialects_map_to_one_kind) {
  protocol p(dialect::beta, call_8k);
  auto beta = p.decode(delta_event("response.audio.delta", "item_B", {0xFF, 0xFF}));
  ASSERT_TRUE(beta);
  EXPECT_EQ(beta->type, kind::audio_delta);
  EXPECT_EQ(beta->pcm, (std::vector<std::int16_t>{0, 0}));
  for (const char* type : {"response.output_audio.done", "response.audio.done"}) {
    auto ev = p.decode(json{{"type", type}, {"item_id", "item_B"}, {"response_id", "resp_R"}}.dump());
    ASSERT_TRUE(ev);
    EXPECT_EQ(ev->type, kind::audio_done);
    EXPECT_EQ(ev->item_id, "item_B");
  }
  for (const char* type : {"response.output_audio_transcript.done", "response.audio_transcript.done"}) {
    auto ev = p.decode(json{{"type", type}, {"item_id", "item_B"}, {"transcript", "Namaste"}}.dump());
    ASSERT_TRUE(ev);
    EXPECT_EQ(ev->type, kind::assistant_transcript);
    EXPECT_EQ(ev->text, "Namaste");
  }
}

TEST(server_events, session_turn_and_item_events) {
  protocol p(dialect::ga, call_8k);
  EXPECT_EQ(p.decode(R"({"type":"session.created","event_id":"e","session":{"id":"sess_1","type":"realtime"}})")->type,
            kind::session_created);
  EXPECT_EQ(p.decode(R"({"type":"session.updated","session":{}})")->type, kind::session_updated);
  auto started = p.decode(R"({"type":"input_audio_buffer.speech_started","audio_start_ms":1200,"item_id":"item_U"})");
  EXPECT_EQ(started->type, kind::speech_started);
  EXPECT_EQ(started->audio_ms, 1200);
  EXPECT_EQ(started->item_id, "item_U");
  auto stopped = p.decode(R"({"type":"input_audio_buffer.speech_stopped","audio_end_ms":2500,"item_id":"item_U"})");
  EXPECT_EQ(stopped->type, kind::speech_stopped);
  EXPECT_EQ(stopped->audio_ms, 2500);
  EXPECT_EQ(p.decode(R"({"type":"input_audio_buffer.committed","item_id":"item_U","previous_item_id":null})")->type,
            kind::committed);
  for (const char* type : {"conversation.item.added", "conversation.item.created"}) {
    auto ev = p.decode(json{{"type", type}, {"item", {{"id", "item_U"}, {"type", "message"}, {"role", "user"}}}}.dump());
    EXPECT_EQ(ev->type, kind::item_added);
    EXPECT_EQ(ev->role, "user");
  }
  EXPECT_EQ(p.decode(R"({"type":"conversation.item.done","item":{"id":"item_U","role":"user"}})")->type, kind::item_done);
  auto transcript = p.decode(
      R"({"type":"conversation.item.input_audio_transcription.completed","item_id":"item_U","content_index":0,"transcript":"bijli nahi hai"})");
  EXPECT_EQ(transcript->type, kind::caller_transcript);
  EXPECT_EQ(transcript->text, "bijli nahi hai");
  auto created = p.decode(R"({"type":"response.created","response":{"id":"resp_R","status":"in_progress","output":[]}})");
  EXPECT_EQ(created->type, kind::response_created);
  EXPECT_EQ(created->response_id, "resp_R");
}

TEST(server_events, response_done_carries_status_reason_and_usage) {
  protocol p(dialect::ga, call_8k);
  auto ev = p.decode(R"({"type":"response.done","response":{"id":"resp_R","status":"cancelled",
      "status_details":{"type":"cancelled","reason":"turn_detected"},
      "usage":{"total_tokens":300,"input_tokens":200,"output_tokens":100,
               "input_token_details":{"cached_tokens":0,"text_tokens":50,"audio_tokens":150},
               "output_token_details":{"text_tokens":20,"audio_tokens":80}}}})");
  ASSERT_TRUE(ev);
  EXPECT_EQ(ev->type, kind::response_done);
  EXPECT_EQ(ev->status, "cancelled");
  EXPECT_EQ(ev->reason, "turn_detected");
  EXPECT_EQ(ev->tokens.input_tokens, 200u);
  EXPECT_EQ(ev->tokens.output_tokens, 100u);
  EXPECT_EQ(ev->tokens.input_audio_tokens, 150u);
  EXPECT_EQ(ev->tokens.output_audio_tokens, 80u);
  auto failed = p.decode(R"({"type":"response.done","response":{"id":"r","status":"failed",
      "status_details":{"type":"failed","error":{"type":"server_error","code":"server_error"}}}})");
  EXPECT_EQ(failed->status, "failed");
  EXPECT_EQ(failed->error.code, "server_error");
}

TEST(server_events, ga_function_call_is_reported_once) {
  protocol p(dialect::ga, call_8k);
  auto args = p.decode(R"({"type":"response.function_call_arguments.done","response_id":"resp_R","item_id":"item_F",
      "output_index":0,"call_id":"call_X","name":"get_bill","arguments":"{\"account\":\"123\"}"})");
  ASSERT_TRUE(args);
  EXPECT_EQ(args->type, kind::tool_call);
  EXPECT_EQ(args->call_id, "call_X");
  EXPECT_EQ(args->name, "get_bill");
  EXPECT_EQ(args->arguments, R"({"account":"123"})");
  auto done = p.decode(R"({"type":"response.output_item.done","response_id":"resp_R","output_index":0,
      "item":{"id":"item_F","type":"function_call","call_id":"call_X","name":"get_bill","arguments":"{\"account\":\"123\"}","status":"completed"}})");
  ASSERT_TRUE(done);
  EXPECT_EQ(done->type, kind::known_unused);
}

TEST(server_events, beta_function_call_takes_its_name_from_the_added_item) {
  protocol p(dialect::beta, call_8k);
  EXPECT_EQ(p.decode(R"({"type":"response.output_item.added","response_id":"resp_R","output_index":0,
      "item":{"id":"item_F","type":"function_call","call_id":"call_Y","name":"report_outage","arguments":"","status":"in_progress"}})")
                ->type,
            kind::known_unused);
  auto args = p.decode(R"({"type":"response.function_call_arguments.done","response_id":"resp_R","item_id":"item_F",
      "output_index":0,"call_id":"call_Y","arguments":"{}"})");
  ASSERT_TRUE(args);
  EXPECT_EQ(args->type, kind::tool_call);
  EXPECT_EQ(args->name, "report_outage");
}

TEST(server_events, function_call_seen_only_in_output_item_done_is_reported) {
  protocol p(dialect::beta, call_8k);
  auto done = p.decode(R"({"type":"response.output_item.done","response_id":"resp_R",
      "item":{"id":"item_F","type":"function_call","call_id":"call_Z","name":"end_call","arguments":"{}"}})");
  ASSERT_TRUE(done);
  EXPECT_EQ(done->type, kind::tool_call);
  EXPECT_EQ(done->name, "end_call");
}

TEST(server_events, error_and_rate_limits) {
  protocol p(dialect::ga, call_8k);
  auto err = p.decode(R"({"type":"error","event_id":"event_1","error":{"type":"invalid_request_error",
      "code":"response_cancel_not_active","message":"Cancellation failed: no active response found","param":null,"event_id":null}})");
  ASSERT_TRUE(err);
  EXPECT_EQ(err->type, kind::error);
  EXPECT_EQ(err->error.type, "invalid_request_error");
  EXPECT_EQ(err->error.code, "response_cancel_not_active");
  EXPECT_EQ(err->error.message, "Cancellation failed: no active response found");
  auto null_code = p.decode(R"({"type":"error","error":{"type":"invalid_request_error","code":null,"message":"x"}})");
  EXPECT_EQ(null_code->error.code, "");
  auto limits = p.decode(R"({"type":"rate_limits.updated","rate_limits":[
      {"name":"requests","limit":1000,"remaining":999,"reset_seconds":0.06},
      {"name":"tokens","limit":50000,"remaining":49000,"reset_seconds":1.2}]})");
  ASSERT_TRUE(limits);
  ASSERT_EQ(limits->limits.size(), 2u);
  EXPECT_EQ(limits->limits[1].name, "tokens");
  EXPECT_EQ(limits->limits[1].remaining, 49000);
  EXPECT_DOUBLE_EQ(limits->limits[1].reset_seconds, 1.2);
}

TEST(server_events, unknown_types_are_told_apart_from_known_unused_ones) {
  protocol p(dialect::ga, call_8k);
  EXPECT_EQ(p.decode(R"({"type":"response.mcp_call.in_progress"})")->type, kind::unknown);
  EXPECT_EQ(p.decode(R"({"type":"response.content_part.added","part":{"type":"audio"}})")->type, kind::known_unused);
  EXPECT_EQ(p.decode(R"({"type":"conversation.created","conversation":{"id":"conv_1"}})")->type, kind::known_unused);
}

TEST(server_events, malformed_messages_are_rejected_with_a_reason) {
  protocol p(dialect::ga, call_8k);
  const char* bad[] = {
      "not json",
      "[1,2]",
      R"({"event_id":"e"})",
      R"({"type":42})",
      R"({"type":"response.output_audio.delta","item_id":"i","delta":17})",
      R"({"type":"response.output_audio.delta","item_id":"i","delta":"ab!d"})",
      R"({"type":"response.output_audio.delta","item_id":"i","delta":"abc"})",
      R"({"type":"response.output_audio.delta","item_id":"i","delta":"=AAA"})",
      R"({"type":"error","error":"boom"})",
      R"({"type":"response.done"})",
      R"({"type":"conversation.item.added","item":[]})",
      R"({"type":"response.function_call_arguments.done","call_id":"c","name":"n"})",
  };
  for (const char* text : bad) {
    std::string why;
    EXPECT_FALSE(p.decode(text, &why)) << text;
    EXPECT_FALSE(why.empty()) << text;
  }
}

}  // namespace
}  // namespace npcl::realtime
