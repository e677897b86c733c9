#include <sys/stat.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <string>

#include "config/temp_dir.hpp"
#include "npcl/config/loader.hpp"

namespace {

using namespace std::chrono_literals;
using npcl::config::config_error;
using npcl::config::describe;
using npcl::config::env_map;
using npcl::config::load;
using npcl::config::parse;
using npcl::config::parse_env_file;
using npcl::config::test::temp_dir;

bool any_contains(const std::vector<std::string>& lines, const std::string& part) {
  return std::any_of(lines.begin(), lines.end(),
                     [&](const std::string& l) { return l.find(part) != std::string::npos; });
}

TEST(config_defaults, nothing_set_gives_the_documented_defaults) {
  const auto s = parse({});
  EXPECT_EQ(s.realtime.service.api_key, "");
  EXPECT_EQ(s.realtime.service.model, "gpt-realtime");
  EXPECT_EQ(s.realtime.service.voice, "alloy");
  EXPECT_EQ(s.realtime.service.max_tokens, 4096);
  EXPECT_DOUBLE_EQ(s.realtime.service.temperature, 0.8);
  EXPECT_EQ(s.media.format, "ulaw");
  EXPECT_EQ(s.media.sample_rate, 8000);
  EXPECT_EQ(s.media.chunk_size, 160);
  EXPECT_DOUBLE_EQ(s.vad.energy_threshold, 0.01);
  EXPECT_EQ(s.session.assistant_name, "NPCL Assistant");
  EXPECT_EQ(s.session.voice_language, "en-IN");
  EXPECT_EQ(s.session.listen_timeout, 30s);
  EXPECT_EQ(s.session.max_call_duration, 1800s);
  EXPECT_EQ(s.app.shutdown_grace, 30s);
  EXPECT_EQ(s.ari.base_url, "http://localhost:8088/ari");
  EXPECT_EQ(s.ari.host, "localhost");
  EXPECT_EQ(s.ari.port, 8088);
  EXPECT_EQ(s.ari.path_prefix, "/ari");
  EXPECT_EQ(s.ari.username, "asterisk");
  EXPECT_EQ(s.ari.password, "");
  EXPECT_EQ(s.ari.app, "openai-voice-assistant");
  EXPECT_EQ(s.ari.request_timeout, 5s);
  EXPECT_EQ(s.ari.connect_timeout, 5s);
  EXPECT_EQ(s.ari.reconnect_min, 500ms);
  EXPECT_EQ(s.ari.reconnect_max, 10s);
  EXPECT_EQ(s.ari.ping_interval, 10s);
  EXPECT_EQ(s.media.bind_host, "127.0.0.1");
  EXPECT_EQ(s.media.advertise_host, "");
  EXPECT_EQ(s.media.listen_port, 8090);
  EXPECT_EQ(s.media.transport, npcl::media::transport_kind::rtp);
  EXPECT_EQ(s.media.rtp_port_min, 40000);
  EXPECT_EQ(s.media.rtp_port_max, 40999);
  EXPECT_TRUE(s.session.interruption_handling);
  EXPECT_TRUE(s.session.auto_answer);
  EXPECT_TRUE(s.session.language_detection);
  EXPECT_TRUE(s.session.rate_limiting);
  EXPECT_TRUE(s.session.input_sanitization);
  EXPECT_TRUE(s.session.audit_logging);
  EXPECT_TRUE(s.session.performance_monitoring);
  EXPECT_EQ(s.log.level, "info");
  EXPECT_EQ(s.log.format, npcl::obs::log_format::text);
  EXPECT_EQ(s.app.worker_threads, 0u);
  EXPECT_EQ(s.http.host, "127.0.0.1");
  EXPECT_EQ(s.http.port, 8000);
  EXPECT_EQ(s.http.read_timeout, 10s);
  EXPECT_EQ(s.session.draining_action, npcl::session::new_call_action::continue_dialplan);
}

TEST(config_load, environment_beats_env_file_beats_defaults) {
  temp_dir dir;
  const auto file = dir.write("npcl.env",
                              "ARI_USERNAME=from-file\n"
                              "OPENAI_MODEL=file-model\n"
                              "ARI_PASSWORD=file-secret\n");
  const auto r = load({{"ARI_USERNAME", "from-env"}, {"ARI_PASSWORD", ""}}, file);
  EXPECT_EQ(r.env_file, file);
  EXPECT_EQ(r.values.ari.username, "from-env");
  EXPECT_EQ(r.values.realtime.service.model, "file-model");
  EXPECT_EQ(r.values.realtime.service.voice, "alloy");
  // An empty value in the environment clears the file's value.
  EXPECT_EQ(r.values.ari.password, "");
  EXPECT_TRUE(any_contains(r.warnings, "ARI_PASSWORD"));
}

TEST(config_load, an_explicit_env_file_must_be_readable) {
  temp_dir dir;
  const auto missing = dir.path("missing.env");
  try {
    load({}, missing, {});
    FAIL() << "a missing --env-file was accepted";
  } catch (const config_error& e) {
    EXPECT_EQ(e.variable(), missing);
  }
}

TEST(config_load, uses_the_first_default_env_file_that_exists) {
  temp_dir dir;
  const auto second = dir.write("second.env", "OPENAI_VOICE=sage\n");
  const auto third = dir.write("third.env", "OPENAI_VOICE=coral\n");
  const auto r = load({}, std::nullopt, {dir.path("absent.env"), second, third});
  EXPECT_EQ(r.env_file, second);
  EXPECT_EQ(r.values.realtime.service.voice, "sage");
}

TEST(config_load, no_env_file_at_all_is_fine) {
  temp_dir dir;
  const auto r = load({{"OPENAI_VOICE", "verse"}}, std::nullopt, {dir.path("absent.env")});
  EXPECT_EQ(r.env_file, "");
  EXPECT_EQ(r.values.realtime.service.voice, "verse");
}

TEST(config_load, a_bad_value_in_the_env_file_names_the_variable) {
  temp_dir dir;
  const auto file = dir.write("npcl.env", "HTTP_PORT=eighty\n");
  try {
    load({}, file);
    FAIL() << "accepted HTTP_PORT=eighty";
  } catch (const config_error& e) {
    EXPECT_EQ(e.variable(), "HTTP_PORT");
    EXPECT_EQ(e.value(), "eighty");
  }
}

TEST(config_load, warns_about_mistyped_and_unknown_settings_but_not_foreign_variables) {
  temp_dir dir;
  const auto file = dir.write("npcl.env", "ARI_PASWORD=x\nOPENAI_ORGANISATION=y\n");
  const auto r = load({{"HTTP_PROXY", "http://proxy:3128"},
                       {"PATH", "/usr/bin"},
                       {"EXTERNAL_MEDIA_HOSTNAME", "x"}},
                      file);
  EXPECT_TRUE(any_contains(r.warnings, "ARI_PASWORD ignored (did you mean ARI_PASSWORD?)"));
  EXPECT_TRUE(any_contains(r.warnings, "OPENAI_ORGANISATION"));
  EXPECT_TRUE(any_contains(r.warnings, "EXTERNAL_MEDIA_HOSTNAME"));
  EXPECT_FALSE(any_contains(r.warnings, "HTTP_PROXY"));
  EXPECT_FALSE(any_contains(r.warnings, "PATH"));
}

TEST(config_load, warns_when_media_binds_to_any_address_without_an_advertised_one) {
  const auto r = load({{"EXTERNAL_MEDIA_HOST", "0.0.0.0"}}, std::nullopt, {});
  EXPECT_TRUE(any_contains(r.warnings, "EXTERNAL_MEDIA_ADVERTISE_HOST"));
  const auto fixed = load({{"EXTERNAL_MEDIA_HOST", "0.0.0.0"},
                           {"EXTERNAL_MEDIA_ADVERTISE_HOST", "10.0.0.5"}},
                          std::nullopt, {});
  EXPECT_FALSE(any_contains(fixed.warnings, "EXTERNAL_MEDIA_ADVERTISE_HOST"));
}

TEST(config_load, warns_when_an_env_file_with_secrets_is_world_readable) {
  temp_dir dir;
  const auto file = dir.write("npcl.env", "OPENAI_API_KEY=sk-test\n");
  ASSERT_EQ(::chmod(file.c_str(), 0644), 0);
  EXPECT_TRUE(any_contains(load({}, file).warnings, "readable by every user"));
  ASSERT_EQ(::chmod(file.c_str(), 0640), 0);
  EXPECT_FALSE(any_contains(load({}, file).warnings, "readable by every user"));
}

struct bad_case {
  const char* variable;
  const char* value;
  env_map others;  // other settings needed to provoke the error
};

std::ostream& operator<<(std::ostream& out, const bad_case& c) {
  return out << c.variable << "=" << c.value;
}

class config_rejects : public testing::TestWithParam<bad_case> {};

TEST_P(config_rejects, the_error_names_the_variable_and_quotes_its_value) {
  env_map merged = GetParam().others;
  merged[GetParam().variable] = GetParam().value;
  try {
    parse(merged);
    FAIL() << "accepted " << GetParam();
  } catch (const config_error& e) {
    EXPECT_EQ(e.variable(), GetParam().variable);
    const std::string prefix =
        std::string(GetParam().variable) + "=\"" + GetParam().value + "\": ";
    EXPECT_EQ(std::string(e.what()).rfind(prefix, 0), 0u) << e.what();
  }
}

INSTANTIATE_TEST_SUITE_P(
    values, config_rejects,
    testing::Values(
        bad_case{"AUTO_ANSWER_CALLS", "maybe", {}},
        bad_case{"ENABLE_AUDIT_LOGGING", "", {}},
        bad_case{"MAX_TOKENS", "many", {}},
        bad_case{"MAX_TOKENS", "0", {}},
        bad_case{"MAX_TOKENS", "4097", {}},
        bad_case{"MAX_TOKENS", "99999999999999999999999", {}},
        bad_case{"TEMPERATURE", "2.5", {}},
        bad_case{"TEMPERATURE", "nan", {}},
        bad_case{"VAD_ENERGY_THRESHOLD", "-0.1", {}},
        bad_case{"WORKER_THREADS", "65", {}},
        bad_case{"WORKER_THREADS", "-1", {}},
        bad_case{"HTTP_PORT", "65536", {}},
        bad_case{"EXTERNAL_MEDIA_PORT", "0", {}},
        bad_case{"RTP_PORT_MIN", "80", {}},
        bad_case{"LISTEN_TIMEOUT", "soon", {}},
        bad_case{"LISTEN_TIMEOUT", "0", {}},
        bad_case{"LISTEN_TIMEOUT", "1500ms", {}},
        bad_case{"ARI_REQUEST_TIMEOUT", "5 days", {}},
        bad_case{"ARI_REQUEST_TIMEOUT", "0ms", {}},
        bad_case{"ARI_CONNECT_TIMEOUT", "-5s", {}},
        bad_case{"MAX_CALL_DURATION", "5s", {}},
        bad_case{"MAX_CALL_DURATION", "25h", {}},
        bad_case{"SHUTDOWN_GRACE", "99999999999999h", {}},
        bad_case{"ARI_BASE_URL", "notaurl", {}},
        bad_case{"ARI_BASE_URL", "https://pbx.example.com:8089/ari", {}},
        bad_case{"ARI_BASE_URL", "ws://localhost:8088/ari", {}},
        bad_case{"ARI_BASE_URL", "http://localhost:99999/ari", {}},
        bad_case{"ARI_BASE_URL", "http:///ari", {}},
        bad_case{"ARI_BASE_URL", "http://localhost:8088/ari?x=1", {}},
        bad_case{"AUDIO_SAMPLE_RATE", "16000", {}},
        bad_case{"AUDIO_SAMPLE_RATE", "8000", {{"AUDIO_FORMAT", "slin16"}}},
        bad_case{"AUDIO_CHUNK_SIZE", "100", {}},
        bad_case{"AUDIO_CHUNK_SIZE", "400", {}},
        bad_case{"ARI_RECONNECT_MAX", "100ms", {}},
        bad_case{"ARI_RECONNECT_MIN", "20s", {}},
        bad_case{"RTP_PORT_MAX", "39999", {}},
        bad_case{"RTP_PORT_MIN", "41000", {}},
        bad_case{"RTP_PORT_MAX", "40000", {{"RTP_PORT_MIN", "40001"}}},
        bad_case{"AUDIO_FORMAT", "mp3", {}},
        bad_case{"EXTERNAL_MEDIA_TRANSPORT", "sip", {}},
        bad_case{"LOG_LEVEL", "verbose", {}},
        bad_case{"LOG_FORMAT", "xml", {}},
        bad_case{"VOICE_LANGUAGE", "fr-FR", {}},
        bad_case{"SHUTDOWN_NEW_CALL_ACTION", "queue", {}},
        bad_case{"OPENAI_VOICE", "", {}},
        bad_case{"OPENAI_VOICE", "Alloy Two", {}},
        bad_case{"OPENAI_MODEL", "", {}},
        bad_case{"ASSISTANT_NAME", "", {}},
        bad_case{"ASSISTANT_NAME",
                 "An assistant name that goes on and on, well past sixty-four characters", {}},
        bad_case{"ARI_USERNAME", "", {}},
        bad_case{"ARI_USERNAME", "user:name", {}},
        bad_case{"STASIS_APP", "my app", {}},
        bad_case{"EXTERNAL_MEDIA_HOST", "media.example.com", {}},
        bad_case{"EXTERNAL_MEDIA_ADVERTISE_HOST", "bad host!", {}},
        bad_case{"HTTP_HOST", "999.1.1.1", {}},
        bad_case{"HTTP_READ_TIMEOUT", "10x", {}},
        bad_case{"AGENT_ENDPOINT", "agents", {}},
        bad_case{"AGENT_ENDPOINT", "/agents", {}},
        bad_case{"AGENT_ENDPOINT", "PJSIP/", {}},
        bad_case{"AGENT_ENDPOINT", "PJ SIP/agents", {}},
        bad_case{"AGENT_ENDPOINT", "PJSIP/agent 100", {}},
        bad_case{"AGENT_ENDPOINT", "PJSIP/agents\t", {}},
        bad_case{"AGENT_ENDPOINT", "PJSIP/a&endpoint=PJSIP/b", {}},
        bad_case{"AGENT_REDIRECT_TIMEOUT", "100ms", {}},
        bad_case{"AGENT_REDIRECT_TIMEOUT", "2m", {}},
        bad_case{"TOOL_BACKEND", "soap", {}},
        bad_case{"TOOL_BACKEND_URL", "crm.example.com/tools", {}},
        bad_case{"TOOL_BACKEND_URL", "ftp://crm.example.com/tools", {}},
        bad_case{"TOOL_BACKEND_URL", "https://crm.example.com:0/tools", {}},
        bad_case{"TOOL_BACKEND_URL", "https://crm.example.com/tools#part", {}},
        bad_case{"TOOL_BACKEND_URL", "", {{"TOOL_BACKEND", "http"}}},
        bad_case{"TOOL_BACKEND_CA_FILE", "/nonexistent/ca.pem", {}},
        bad_case{"TOOL_BACKEND_TIMEOUT", "50ms", {}},
        bad_case{"TOOL_BACKEND_TIMEOUT", "31s", {}},
        bad_case{"TOOL_BACKEND_DEADLINE", "1s", {}},
        bad_case{"TOOL_BACKEND_TIMEOUT", "6s", {}},
        bad_case{"TOOL_BACKEND_RETRIES", "6", {}},
        bad_case{"TOOL_BACKEND_RETRIES", "-1", {}}));

TEST(config_parse, tool_backend_is_the_store_unless_http_is_chosen) {
  EXPECT_EQ(parse({}).tools.backend, npcl::tools::tool_backend::store);
  const auto s = parse({{"TOOL_BACKEND", "http"},
                        {"TOOL_BACKEND_URL", "https://crm.npcl.example/api/v1/tools?site=noida"},
                        {"TOOL_BACKEND_SECRET", "0123456789abcdef0123"},
                        {"TOOL_BACKEND_TIMEOUT", "800ms"},
                        {"TOOL_BACKEND_DEADLINE", "3s"},
                        {"TOOL_BACKEND_RETRIES", "1"}});
  EXPECT_EQ(s.tools.backend, npcl::tools::tool_backend::http);
  EXPECT_TRUE(s.tools.endpoint.tls);
  EXPECT_EQ(s.tools.endpoint.host, "crm.npcl.example");
  EXPECT_EQ(s.tools.endpoint.port, 443);
  EXPECT_EQ(s.tools.endpoint.target, "/api/v1/tools?site=noida");
  EXPECT_EQ(s.tools.attempt_timeout, 800ms);
  EXPECT_EQ(s.tools.deadline, 3s);
  EXPECT_EQ(s.tools.retries, 1);
  const auto plain = parse({{"TOOL_BACKEND_URL", "http://[::1]:8081"}});
  EXPECT_FALSE(plain.tools.endpoint.tls);
  EXPECT_EQ(plain.tools.endpoint.host, "::1");
  EXPECT_EQ(plain.tools.endpoint.port, 8081);
  EXPECT_EQ(plain.tools.endpoint.target, "/");
}

TEST(config_rejects, http_tool_backend_without_a_secret_names_the_secret) {
  try {
    parse({{"TOOL_BACKEND", "http"}, {"TOOL_BACKEND_URL", "https://crm.example/tools"}});
    FAIL();
  } catch (const config_error& e) {
    EXPECT_EQ(e.variable(), "TOOL_BACKEND_SECRET");
  }
}

TEST(config_load, warns_when_the_crm_is_reached_without_tls_or_not_used) {
  const env_map crm{{"TOOL_BACKEND", "http"},
                    {"TOOL_BACKEND_URL", "http://crm.example/tools"},
                    {"TOOL_BACKEND_SECRET", "0123456789abcdef"}};
  EXPECT_TRUE(any_contains(load(crm, std::nullopt, {}).warnings, "unencrypted"));
  env_map local = crm;
  local["TOOL_BACKEND_URL"] = "http://127.0.0.1:8081/tools";
  EXPECT_FALSE(any_contains(load(local, std::nullopt, {}).warnings, "unencrypted"));
  EXPECT_TRUE(any_contains(load({{"TOOL_BACKEND_URL", "https://crm.example/tools"}}, std::nullopt, {}).warnings,
                           "the CRM is not used"));
  local["TOOL_BACKEND_SECRET"] = "short";
  EXPECT_TRUE(any_contains(load(local, std::nullopt, {}).warnings, "shorter than 16 characters"));
}

TEST(config_parse, agent_endpoint_takes_tech_slash_resource_and_is_off_by_default) {
  EXPECT_EQ(parse({}).session.agent_endpoint, "");
  EXPECT_EQ(parse({{"AGENT_ENDPOINT", "PJSIP/agents"}}).session.agent_endpoint, "PJSIP/agents");
  EXPECT_EQ(parse({{"AGENT_ENDPOINT", "Local/100@agents"}}).session.agent_endpoint, "Local/100@agents");
}

TEST(config_rejects, https_ari_url_explains_that_ari_is_plain_http) {
  try {
    parse({{"ARI_BASE_URL", "https://pbx:8089/ari"}});
    FAIL();
  } catch (const config_error& e) {
    EXPECT_NE(std::string(e.what()).find("plain HTTP"), std::string::npos) << e.what();
  }
}

TEST(config_rejects, secrets_are_never_echoed_in_errors) {
  const std::vector<env_map> cases = {
      {{"OPENAI_API_KEY", "sk-abc def"}},
      {{"OPENAI_API_KEY", "sk-abcdef\n"}},
      {{"ARI_PASSWORD", "hunter2\r"}},
      {{"ARI_BASE_URL", "http://asterisk:hunter2@pbx:8088/ari"}},
      {{"TOOL_BACKEND_SECRET", "hunter2\n"}},
      {{"TOOL_BACKEND_URL", "https://npcl:hunter2@crm.example/tools"}},
  };
  for (const auto& merged : cases) {
    try {
      parse(merged);
      ADD_FAILURE() << "accepted " << merged.begin()->first;
    } catch (const config_error& e) {
      const std::string what = e.what();
      EXPECT_EQ(e.variable(), merged.begin()->first);
      EXPECT_EQ(what.find("sk-abc"), std::string::npos) << what;
      EXPECT_EQ(what.find("hunter2"), std::string::npos) << what;
      EXPECT_EQ(e.value().find("hunter2"), std::string::npos) << e.value();
    }
  }
}

TEST(config_parse, accepts_the_documented_spellings) {
  const auto s = parse({{"AUTO_ANSWER_CALLS", "No"},
                        {"ENABLE_RATE_LIMITING", "OFF"},
                        {"ENABLE_AUDIT_LOGGING", "0"},
                        {"ENABLE_LANGUAGE_DETECTION", "yes"},
                        {"MAX_TOKENS", "INF"},
                        {"LISTEN_TIMEOUT", "45"},
                        {"MAX_CALL_DURATION", "1h"},
                        {"SHUTDOWN_GRACE", "0"},
                        {"ARI_PING_INTERVAL", "2m"},
                        {"ARI_RECONNECT_MIN", "250ms"},
                        {"VOICE_LANGUAGE", "hi"},
                        {"LOG_LEVEL", "WARNING"},
                        {"LOG_FORMAT", "JSON"},
                        {"EXTERNAL_MEDIA_TRANSPORT", "AudioSocket"},
                        {"SHUTDOWN_NEW_CALL_ACTION", "hangup"},
                        {"EXTERNAL_MEDIA_HOST", "::"},
                        {"EXTERNAL_MEDIA_ADVERTISE_HOST", "media.example.com"},
                        {"OPENAI_API_KEY", "sk-proj-abc_123"},
                        {"HTTP_PORT", "0"}});
  EXPECT_FALSE(s.session.auto_answer);
  EXPECT_FALSE(s.session.rate_limiting);
  EXPECT_FALSE(s.session.audit_logging);
  EXPECT_TRUE(s.session.language_detection);
  EXPECT_EQ(s.realtime.service.max_tokens, 4096);
  EXPECT_EQ(s.session.listen_timeout, 45s);
  EXPECT_EQ(s.session.max_call_duration, 3600s);
  EXPECT_EQ(s.app.shutdown_grace, 0s);
  EXPECT_EQ(s.ari.ping_interval, 120s);
  EXPECT_EQ(s.ari.reconnect_min, 250ms);
  EXPECT_EQ(s.session.voice_language, "hi-IN");
  EXPECT_EQ(s.log.level, "warn");
  EXPECT_EQ(s.log.format, npcl::obs::log_format::json);
  EXPECT_EQ(s.media.transport, npcl::media::transport_kind::audiosocket);
  EXPECT_EQ(s.session.draining_action, npcl::session::new_call_action::hangup);
  EXPECT_EQ(s.media.bind_host, "::");
  EXPECT_EQ(s.media.advertise_host, "media.example.com");
  EXPECT_EQ(s.realtime.service.api_key, "sk-proj-abc_123");
  EXPECT_EQ(s.http.port, 0);
}

TEST(config_parse, audio_format_sets_rate_and_a_20ms_chunk_unless_chunk_is_given) {
  const auto wide = parse({{"AUDIO_FORMAT", "slin16"}});
  EXPECT_EQ(wide.media.sample_rate, 16000);
  EXPECT_EQ(wide.media.chunk_size, 320);
  const auto explicit_rate =
      parse({{"AUDIO_FORMAT", "slin24"}, {"AUDIO_SAMPLE_RATE", "24000"}, {"AUDIO_CHUNK_SIZE", "720"}});
  EXPECT_EQ(explicit_rate.media.sample_rate, 24000);
  EXPECT_EQ(explicit_rate.media.chunk_size, 720);
  EXPECT_EQ(parse({{"AUDIO_CHUNK_SIZE", "80"}}).media.chunk_size, 80);
  EXPECT_EQ(parse({{"AUDIO_CHUNK_SIZE", "320"}}).media.chunk_size, 320);
}

TEST(config_parse, ari_url_fills_host_port_and_path) {
  const auto a = parse({{"ARI_BASE_URL", "http://10.1.2.3:8080/asterisk/ari/"}});
  EXPECT_EQ(a.ari.host, "10.1.2.3");
  EXPECT_EQ(a.ari.port, 8080);
  EXPECT_EQ(a.ari.path_prefix, "/asterisk/ari");
  const auto b = parse({{"ARI_BASE_URL", "http://pbx.example.com"}});
  EXPECT_EQ(b.ari.host, "pbx.example.com");
  EXPECT_EQ(b.ari.port, 80);
  EXPECT_EQ(b.ari.path_prefix, "");
  const auto c = parse({{"ARI_BASE_URL", "http://[::1]:8088/ari"}});
  EXPECT_EQ(c.ari.host, "::1");
  EXPECT_EQ(c.ari.port, 8088);
}

TEST(config_describe, never_shows_the_api_key_ari_password_or_crm_secret) {
  const auto s = parse({{"OPENAI_API_KEY", "sk-live-1234567890"},
                        {"ARI_PASSWORD", "pbx-pass-42"},
                        {"TOOL_BACKEND_SECRET", "crm-signing-key-77"}});
  const auto text = describe(s);
  EXPECT_EQ(text.find("crm-signing-key-77"), std::string::npos) << text;
  EXPECT_NE(text.find("TOOL_BACKEND_SECRET=***\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("sk-live-1234567890"), std::string::npos) << text;
  EXPECT_EQ(text.find("pbx-pass-42"), std::string::npos) << text;
  EXPECT_NE(text.find("OPENAI_API_KEY=***\n"), std::string::npos) << text;
  EXPECT_NE(text.find("ARI_PASSWORD=***\n"), std::string::npos) << text;
  const auto unset = describe(parse({}));
  EXPECT_NE(unset.find("OPENAI_API_KEY=(unset)\n"), std::string::npos) << unset;
}

TEST(config_describe, output_reads_back_as_an_env_file_with_the_same_values) {
  const auto s = parse({{"ASSISTANT_NAME", "Bijli # \"Mitra\""},
                        {"OPENAI_API_KEY", "sk-test"},
                        {"ARI_PASSWORD", "pbx-pass"},
                        {"TOOL_BACKEND_SECRET", "crm-signing-key"},
                        {"ARI_BASE_URL", "http://pbx:8088/ari"},
                        {"ARI_RECONNECT_MIN", "750ms"},
                        {"TEMPERATURE", "1.25"},
                        {"AUDIO_FORMAT", "alaw"},
                        {"VOICE_LANGUAGE", "bn"},
                        {"EXTERNAL_MEDIA_TRANSPORT", "websocket"}});
  const auto text = describe(s);
  temp_dir dir;
  const auto again = parse(parse_env_file(dir.write("described.env", text)));
  EXPECT_EQ(again.session.assistant_name, "Bijli # \"Mitra\"");
  EXPECT_EQ(describe(again), text);
}

}  // namespace
