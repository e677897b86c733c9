// The fake Asterisk checked against the real Asterisk captures ($NPCL_FIXTURES/asterisk):
// replies byte for byte, the event sequence of a whole call, and the fault knobs.
#include "fakes/fake_ari_server.hpp"

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <future>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "util/beast.hpp"

namespace npcl::fakes {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::ordered_json;
using tcp = net::ip::tcp;

const std::string k_app = "openai-voice-assistant";

std::string fixtures_dir() {
  const char* dir = std::getenv("NPCL_FIXTURES");
  return dir ? std::string(dir) + "/asterisk" : std::string();
}

json load_json(const std::string& relative) {
  std::ifstream in(fixtures_dir() + "/" + relative);
  if (!in) ADD_FAILURE() << "cannot open fixture " << relative << " (is NPCL_FIXTURES set?)";
  return in ? json::parse(in) : json();
}

std::vector<json> load_jsonl(const std::string& relative) {
  std::ifstream in(fixtures_dir() + "/" + relative);
  if (!in) ADD_FAILURE() << "cannot open fixture " << relative << " (is NPCL_FIXTURES set?)";
  std::vector<json> out;
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(json::parse(line));
  return out;
}

std::string base64(const std::string& in) {
  static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  unsigned buffer = 0;
  int bits = 0;
  for (unsigned char ch : in) {
    buffer = (buffer << 8) | ch;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(alphabet[(buffer >> bits) & 0x3f]);
    }
  }
  if (bits > 0) out.push_back(alphabet[(buffer << (6 - bits)) & 0x3f]);
  while (out.size() % 4) out.push_back('=');
  return out;
}

std::string url_encode(const std::string& in) {
  std::string out;
  for (unsigned char ch : in) {
    if (std::isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~') {
      out.push_back(static_cast<char>(ch));
    } else {
      char hex[4];
      std::snprintf(hex, sizeof hex, "%%%02X", ch);
      out += hex;
    }
  }
  return out;
}

// "/ari/x" plus the fixture's query object as a query string.
std::string target_of(const json& record) {
  std::string target = record["path"].get<std::string>();
  char sep = '?';
  for (const auto& [k, v] : record["query"].items()) {
    target += sep + url_encode(k) + "=" + url_encode(v.get<std::string>());
    sep = '&';
  }
  return target;
}

struct http_reply {
  unsigned status = 0;     // 0 when the exchange failed
  std::string body;
  bhttp::fields headers;
  json parsed() const { return json::parse(body, nullptr, false); }
};

// One keep-alive HTTP/1.1 connection; every exchange has a 10 s deadline.
class http_client {
 public:
  explicit http_client(std::uint16_t port) {
    stream_.expires_after(5s);
    stream_.async_connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port),
                          [this](error_code ec) { error_ = ec; });
    ioc_.run();
  }

  http_reply request(bhttp::verb method, const std::string& target, const std::string& body = {},
                     const std::string& content_type = {}, const std::string& credentials = "asterisk:1234") {
    bhttp::request<bhttp::string_body> req{method, target, 11};
    req.set(bhttp::field::host, "127.0.0.1");
    if (!credentials.empty()) req.set(bhttp::field::authorization, "Basic " + base64(credentials));
    if (!content_type.empty()) req.set(bhttp::field::content_type, content_type);
    req.body() = body;
    req.prepare_payload();
    bhttp::response<bhttp::string_body> res;
    stream_.expires_after(10s);
    bhttp::async_write(stream_, req, [&](error_code ec, std::size_t) {
      if (ec) {
        error_ = ec;
        return;
      }
      bhttp::async_read(stream_, buffer_, res, [&](error_code rec, std::size_t) { error_ = rec; });
    });
    ioc_.restart();
    ioc_.run();
    http_reply out;
    if (error_) {
      ADD_FAILURE() << bhttp::to_string(method) << " " << target << ": " << error_.message();
      return out;
    }
    out.status = res.result_int();
    out.body = res.body();
    out.headers = res.base();
    return out;
  }

 private:
  net::io_context ioc_;
  beast::tcp_stream stream_{ioc_};
  beast::flat_buffer buffer_;
  error_code error_;
};

// An ARI events WebSocket client reading one event at a time with a deadline.
class events_client {
 public:
  explicit events_client(std::uint16_t port,
                         const std::string& target = "/ari/events?app=" + k_app + "&subscribeAll=false",
                         const std::string& credentials = "asterisk:1234") {
    auto& tcp_layer = beast::get_lowest_layer(ws_);
    tcp_layer.expires_after(5s);
    tcp_layer.async_connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port),
                            [this](error_code ec) { error_ = ec; });
    ioc_.run();
    if (error_) return;
    tcp_layer.expires_never();
    ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::client));
    ws_.set_option(websocket::stream_base::decorator([credentials](websocket::request_type& req) {
      if (!credentials.empty()) req.set(bhttp::field::authorization, "Basic " + base64(credentials));
    }));
    bool done = false;
    ws_.async_handshake(response_, "127.0.0.1", target, [&](error_code ec) {
      done = true;
      error_ = ec;
    });
    if (!run_until(done, 10s)) error_ = net::error::timed_out;
  }

  bool open() const { return !error_; }
  unsigned handshake_status() const { return response_.result_int(); }
  error_code last_error() const { return error_; }
  bool timed_out() const { return timed_out_; }

  // The next event's raw text, or nothing on error or after `limit`.
  std::optional<std::string> next_text(std::chrono::milliseconds limit = 5s) {
    if (error_) return std::nullopt;
    std::optional<std::string> text;
    bool done = false;
    ws_.async_read(buffer_, [&](error_code ec, std::size_t) {
      done = true;
      if (ec) {
        error_ = ec;
        return;
      }
      text = beast::buffers_to_string(buffer_.data());
      buffer_.consume(buffer_.size());
    });
    if (!run_until(done, limit)) {
      timed_out_ = true;
      beast::get_lowest_layer(ws_).cancel();
      run_until(done, 5s);
      error_ = net::error::timed_out;
    }
    return text;
  }

  json next(std::chrono::milliseconds limit = 5s) {
    auto text = next_text(limit);
    if (!text) {
      ADD_FAILURE() << "no event: " << error_.message();
      return json();
    }
    return json::parse(*text);
  }

  // Raw texts up to and including the first event of `type`.
  std::vector<std::string> until(const std::string& type) {
    std::vector<std::string> out;
    while (auto text = next_text()) {
      out.push_back(*text);
      if (json::parse(*text)["type"] == type) return out;
    }
    ADD_FAILURE() << "stream ended before " << type << ": " << error_.message();
    return out;
  }

 private:
  // Runs handlers until `done` or `limit`; the stream may keep timers alive after it.
  bool run_until(const bool& done, std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    ioc_.restart();
    while (!done && ioc_.run_one_until(deadline)) {
    }
    return done;
  }

  net::io_context ioc_;
  websocket::stream<beast::tcp_stream> ws_{ioc_};
  websocket::response_type response_;
  beast::flat_buffer buffer_;
  error_code error_;
  bool timed_out_ = false;
};

// Ids, names and times differ between runs; the roles they play do not.
std::map<std::string, std::string> roles_of(const std::vector<json>& events) {
  std::map<std::string, std::string> names;
  for (const auto& e : events) {
    if (e["type"] == "StasisStart" && names.empty()) {
      names[e["channel"]["id"]] = "<caller-id>";
      names[e["channel"]["name"]] = "<caller-name>";
    }
    if (e["type"] == "Dial" && !names.count(e["peer"]["id"])) {
      names[e["peer"]["id"]] = "<media-id>";
      names[e["peer"]["name"]] = "<media-name>";
    }
    if (e.contains("bridge") && !names.count(e["bridge"]["id"])) names[e["bridge"]["id"]] = "<bridge-id>";
  }
  return names;
}

void normalise(json& j, const std::map<std::string, std::string>& names) {
  if (j.is_object()) {
    for (auto item : j.items()) {
      if ((item.key() == "timestamp" || item.key() == "creationtime") && item.value().is_string())
        item.value() = "<time>";
      else
        normalise(item.value(), names);
    }
  } else if (j.is_array()) {
    for (auto& v : j) normalise(v, names);
  } else if (j.is_string()) {
    const auto it = names.find(j.get<std::string>());
    if (it != names.end()) j = it->second;
  }
}

std::vector<std::string> normalised(std::vector<json> events) {
  const auto names = roles_of(events);
  std::vector<std::string> out;
  for (auto& e : events) {
    normalise(e, names);
    out.push_back(e.dump());
  }
  return out;
}

class fake_ari_test : public ::testing::Test {
 protected:
  fake_ari_server fake_;
  http_client http_{fake_.port()};

  http_reply post(const std::string& target) { return http_.request(bhttp::verb::post, target); }
  http_reply get(const std::string& target) { return http_.request(bhttp::verb::get, target); }
  http_reply del(const std::string& target) { return http_.request(bhttp::verb::delete_, target); }
};

TEST_F(fake_ari_test, missing_or_wrong_credentials_get_the_captured_401) {
  const json fixture = load_json("rest/error-unauthorized-401.json");
  const auto none = http_.request(bhttp::verb::get, "/ari/asterisk/info", {}, {}, "");
  EXPECT_EQ(none.status, fixture["status"]);
  EXPECT_EQ(none.body, fixture["body"].dump());
  EXPECT_EQ(none.headers["WWW-Authenticate"], "Basic realm=\"Asterisk REST Interface\"");
  EXPECT_EQ(http_.request(bhttp::verb::get, "/ari/asterisk/info", {}, {}, "asterisk:wrong").status, 401u);

  const auto by_key = http_.request(bhttp::verb::get, "/ari/asterisk/info?api_key=asterisk:1234", {}, {}, "");
  EXPECT_EQ(by_key.status, 200u);
  EXPECT_EQ(by_key.parsed()["system"]["version"], "23.4.1");

  events_client refused(fake_.port(), "/ari/events?app=" + k_app, "");
  EXPECT_FALSE(refused.open());
  EXPECT_EQ(refused.handshake_status(), 401u);
  EXPECT_EQ(fake_.events_connections(), 0);
}

TEST_F(fake_ari_test, unknown_path_and_wrong_method_answer_like_asterisk) {
  for (const char* name : {"rest/error-unknown-path-404.json", "rest/error-wrong-method-405.json"}) {
    const json fixture = load_json(name);
    const auto reply = http_.request(bhttp::string_to_verb(fixture["method"].get<std::string>()),
                                     target_of(fixture));
    EXPECT_EQ(reply.status, fixture["status"]) << name;
    EXPECT_EQ(reply.body, fixture["body"].dump()) << name;
    EXPECT_EQ(reply.headers["Content-type"], "application/json") << name;
    EXPECT_EQ(reply.headers["Cache-Control"], "no-cache, no-store") << name;
    EXPECT_EQ(reply.headers["Server"], "Asterisk/23.4.1") << name;
  }
}

TEST_F(fake_ari_test, error_replies_equal_the_captured_bodies) {
  const json unknown_channel = load_json("rest/error-addChannel-unknown-channel-400.json");
  // That capture targets an existing bridge: create it under the captured id.
  const std::string bridge_path = unknown_channel["path"].get<std::string>();
  const std::string bridge_id = bridge_path.substr(std::string("/ari/bridges/").size(),
                                                   bridge_path.rfind('/') - std::string("/ari/bridges/").size());
  ASSERT_EQ(post("/ari/bridges?type=mixing&bridgeId=" + bridge_id).status, 200u);

  for (const char* name :
       {"error-addChannel-unknown-bridge-404.json", "error-addChannel-unknown-channel-400.json",
        "error-answer-unknown-channel-404.json", "error-bridges-bad-type-500.json",
        "error-delete-unknown-channel-404.json", "error-externalMedia-bad-format-500.json",
        "error-externalMedia-bad-host-400.json", "error-externalMedia-missing-app-400.json",
        "error-externalMedia-missing-format-400.json", "error-get-unknown-channel-404.json"}) {
    const json fixture = load_json(std::string("rest/") + name);
    const auto reply = http_.request(bhttp::string_to_verb(fixture["method"].get<std::string>()), target_of(fixture));
    EXPECT_EQ(reply.status, fixture["status"]) << name;
    EXPECT_EQ(reply.body, fixture["body"].dump()) << name;
  }
  EXPECT_TRUE(fake_.channels().empty()) << "a rejected externalMedia must create nothing";
}

TEST_F(fake_ari_test, external_media_replies_have_the_captured_shape) {
  events_client events(fake_.port());
  ASSERT_TRUE(fake_.wait_for_events_connection(5s));
  for (const char* name : {"rest/post-externalMedia-rtp-ulaw.json", "rest/post-externalMedia-rtp-slin16.json",
                           "rest/post-externalMedia-rtp-ulaw-json-body.json"}) {
    const json fixture = load_json(name);
    const json& want = fixture["body"];
    const bool in_body = fixture["request_body"].is_object();
    const auto reply = in_body ? http_.request(bhttp::verb::post, target_of(fixture), fixture["request_body"].dump(),
                                               "application/json")
                               : post(target_of(fixture));
    ASSERT_EQ(reply.status, 200u) << name << ": " << reply.body;
    const json got = reply.parsed();
    std::vector<std::string> want_keys, got_keys, want_vars, got_vars;
    for (const auto& item : want.items()) want_keys.push_back(item.key());
    for (const auto& item : got.items()) got_keys.push_back(item.key());
    for (const auto& item : want["channelvars"].items()) want_vars.push_back(item.key());
    for (const auto& item : got["channelvars"].items()) got_vars.push_back(item.key());
    EXPECT_EQ(got_keys, want_keys) << name;
    EXPECT_EQ(got_vars, want_vars) << name;
    const std::string want_name = want["name"];
    EXPECT_EQ(got["name"].get<std::string>().substr(0, want_name.find("-0x7f") + 5),
              want_name.substr(0, want_name.find("-0x7f") + 5))
        << name;
    EXPECT_EQ(got["state"], "Down") << name;
    EXPECT_EQ(got["dialplan"], want["dialplan"]) << name;
    EXPECT_EQ(got["channelvars"]["UNICASTRTP_LOCAL_ADDRESS"], "127.0.0.1") << name;

    const std::string id = got["id"];
    const auto port = get("/ari/channels/" + id + "/variable?variable=UNICASTRTP_LOCAL_PORT");
    EXPECT_EQ(port.status, 200u);
    EXPECT_EQ(port.parsed()["value"], got["channelvars"]["UNICASTRTP_LOCAL_PORT"]) << "port must be a string";
    // The dial completes after the reply: the channel reaches Stasis, Up.
    const auto texts = events.until("StasisStart");
    ASSERT_FALSE(texts.empty());
    EXPECT_EQ(json::parse(texts.back())["channel"]["id"], id);
    EXPECT_EQ(get("/ari/channels/" + id).parsed()["state"], "Up");
  }
  const json unset = load_json("rest/get-variable-unset-404.json");
  const auto missing = get("/ari/channels/" + fake_.channels().front().id + "/variable?variable=NO_SUCH_VARIABLE");
  EXPECT_EQ(missing.status, unset["status"]);
  EXPECT_EQ(missing.body, unset["body"].dump());
}

// A whole call as the capture script ran it, compared event by event with the capture
// after replacing ids, names and times by their roles.
TEST_F(fake_ari_test, full_call_produces_the_captured_events_byte_for_byte) {
  const auto captured = load_jsonl("call-rtp-ulaw/events.jsonl");
  ASSERT_FALSE(captured.empty());
  events_client events(fake_.port());
  ASSERT_TRUE(fake_.wait_for_events_connection(5s));

  const std::string caller = fake_.place_call();
  ASSERT_FALSE(caller.empty());
  std::vector<std::string> texts = events.until("StasisStart");
  EXPECT_EQ(post("/ari/channels/" + caller + "/answer").status, 204u);
  const auto bridge = post("/ari/bridges?type=mixing&name=held-rtp-ulaw");
  ASSERT_EQ(bridge.status, 200u);
  const std::string bridge_id = bridge.parsed()["id"];
  const auto media = post("/ari/channels/externalMedia?app=" + k_app +
                          "&external_host=127.0.0.1%3A41000&format=ulaw&encapsulation=rtp&transport=udp&direction=both");
  ASSERT_EQ(media.status, 200u);
  const std::string media_id = media.parsed()["id"];
  for (auto& t : events.until("StasisStart")) texts.push_back(std::move(t));

  EXPECT_EQ(post("/ari/bridges/" + bridge_id + "/addChannel?channel=" + caller + "," + media_id).status, 204u);
  EXPECT_TRUE(fake_.wait_for_bridged(caller, 1s));
  fake_.send_dtmf(caller, '1');
  fake_.send_dtmf(caller, '2');
  EXPECT_EQ(post("/ari/channels/" + caller + "/dtmf?dtmf=5&duration=200").status, 204u);
  EXPECT_EQ(post("/ari/channels/" + media_id + "/dtmf?dtmf=7&duration=200").status, 204u);
  EXPECT_EQ(del("/ari/channels/" + caller + "?reason_code=16").status, 204u);
  EXPECT_EQ(del("/ari/channels/" + media_id).status, 204u);
  EXPECT_EQ(del("/ari/bridges/" + bridge_id).status, 204u);
  for (auto& t : events.until("BridgeDestroyed")) texts.push_back(std::move(t));

  std::vector<json> ours;
  for (const auto& t : texts) {
    ours.push_back(json::parse(t));
    EXPECT_EQ(t, ours.back().dump()) << "events are compact JSON";
  }
  std::vector<std::string> want_types, got_types;
  for (const auto& e : captured) want_types.push_back(e["type"]);
  for (const auto& e : ours) got_types.push_back(e["type"]);
  ASSERT_EQ(got_types, want_types);
  const auto want = normalised(captured);
  const auto got = normalised(ours);
  for (std::size_t i = 0; i < want.size(); ++i) EXPECT_EQ(got[i], want[i]) << "event " << i;
  EXPECT_TRUE(fake_.wait_for_idle(1s));
  EXPECT_TRUE(fake_.channels().empty()) << "the Local;1 half goes with ;2";
}

TEST_F(fake_ari_test, caller_hangup_is_a_far_end_hangup_without_channel_destroyed) {
  events_client events(fake_.port());
  ASSERT_TRUE(fake_.wait_for_events_connection(5s));
  const std::string caller = fake_.place_call("5550123", "Someone");
  ASSERT_FALSE(caller.empty());
  EXPECT_EQ(events.next()["channel"]["caller"]["number"], "5550123");
  const std::string bridge_id = post("/ari/bridges?type=mixing").parsed()["id"];
  ASSERT_EQ(post("/ari/bridges/" + bridge_id + "/addChannel?channel=" + caller).status, 204u);
  EXPECT_EQ(events.next()["type"], "ChannelEnteredBridge");

  fake_.caller_hangup(caller);
  const json request = events.next();
  EXPECT_EQ(request["type"], "ChannelHangupRequest");
  EXPECT_EQ(request["cause"], 16);
  EXPECT_FALSE(request.contains("soft"));
  EXPECT_EQ(events.next()["type"], "ChannelLeftBridge");
  EXPECT_EQ(events.next()["type"], "StasisEnd");
  EXPECT_TRUE(fake_.channels().empty());
  EXPECT_EQ(del("/ari/bridges/" + bridge_id).status, 204u);
  EXPECT_EQ(events.next()["type"], "BridgeDestroyed") << "no ChannelDestroyed for a dialplan channel";
}

TEST_F(fake_ari_test, place_call_fails_without_an_events_socket) {
  EXPECT_EQ(fake_.place_call(), "");
  EXPECT_TRUE(fake_.channels().empty());
  EXPECT_EQ(get("/ari/applications/" + k_app).status, 404u);
}

TEST_F(fake_ari_test, drop_events_socket_closes_it_and_events_are_lost_until_reconnect) {
  events_client events(fake_.port());
  ASSERT_TRUE(fake_.wait_for_events_connection(5s));
  const std::string survivor = fake_.place_call();
  ASSERT_FALSE(survivor.empty());
  EXPECT_EQ(events.next()["type"], "StasisStart");

  fake_.drop_events_socket();
  EXPECT_EQ(fake_.events_connections(), 0);
  EXPECT_FALSE(events.next_text());
  EXPECT_FALSE(events.timed_out()) << "the socket must be closed, not silent";
  EXPECT_EQ(fake_.place_call(), "");
  fake_.send_dtmf(survivor, '9');  // lost: nobody listens

  // The channel survives the gap and stays controllable; events resume after reconnecting.
  EXPECT_EQ(post("/ari/channels/" + survivor + "/answer").status, 204u);
  events_client again(fake_.port());
  ASSERT_TRUE(fake_.wait_for_events_connection(5s));
  fake_.send_dtmf(survivor, '4');
  const json dtmf = again.next();
  EXPECT_EQ(dtmf["type"], "ChannelDtmfReceived");
  EXPECT_EQ(dtmf["digit"], "4") << "events from the gap are never replayed";
}

TEST_F(fake_ari_test, second_events_socket_replaces_the_first) {
  events_client first(fake_.port());
  ASSERT_TRUE(fake_.wait_for_events_connection(5s));
  events_client second(fake_.port());
  ASSERT_TRUE(fake_.wait_for_events_connection(5s, 2));
  const json replaced = first.next();
  EXPECT_EQ(replaced["type"], "ApplicationReplaced");
  EXPECT_EQ(replaced["application"], k_app);
  ASSERT_FALSE(fake_.place_call().empty());
  EXPECT_EQ(second.next()["type"], "StasisStart");
  EXPECT_FALSE(first.next_text(300ms)) << "a replaced socket gets nothing more";
  EXPECT_TRUE(first.timed_out()) << "and it is not closed";
}

TEST_F(fake_ari_test, events_upgrade_needs_app_and_honours_refusal) {
  events_client no_app(fake_.port(), "/ari/events?subscribeAll=false");
  EXPECT_EQ(no_app.handshake_status(), 400u);
  fake_.refuse_events(true);
  events_client refused(fake_.port());
  EXPECT_EQ(refused.handshake_status(), 503u);
  fake_.refuse_events(false);
  events_client accepted(fake_.port());
  EXPECT_TRUE(accepted.open());
  EXPECT_TRUE(fake_.wait_for_events_connection(5s));
}

TEST_F(fake_ari_test, fault_fires_on_the_nth_matching_request_only_and_has_no_effect) {
  fake_.add_fault({"GET", "/asterisk/info", 2, 503, "Service Unavailable"});
  EXPECT_EQ(get("/ari/asterisk/info").status, 200u);
  EXPECT_EQ(get("/ari/channels").status, 200u);  // does not match: not counted
  const auto failed = get("/ari/asterisk/info");
  EXPECT_EQ(failed.status, 503u);
  EXPECT_EQ(failed.body, R"({"message":"Service Unavailable"})");
  EXPECT_EQ(get("/ari/asterisk/info").status, 200u);

  fake_.add_fault({"POST", "/bridges", 1, 500, "Internal Server Error"});
  EXPECT_EQ(post("/ari/bridges?type=mixing&bridgeId=b1").status, 500u);
  EXPECT_TRUE(fake_.bridges().empty());
  EXPECT_EQ(post("/ari/bridges?type=mixing&bridgeId=b1").status, 200u);
  ASSERT_EQ(fake_.bridges().size(), 1u);
  EXPECT_EQ(post("/ari/bridges?type=mixing&bridgeId=b1").status, 409u);
}

TEST_F(fake_ari_test, delayed_reply_arrives_late_but_its_effect_is_immediate) {
  constexpr auto delay = 1500ms;
  fake_.delay_replies("POST", "/bridges", delay);
  const auto start = std::chrono::steady_clock::now();
  auto pending = std::async(std::launch::async, [this] { return post("/ari/bridges?type=mixing"); });
  ASSERT_TRUE(fake_.wait_for_request("POST", "/bridges", 5s));
  EXPECT_EQ(fake_.bridges().size(), 1u);
  EXPECT_EQ(pending.wait_for(0ms), std::future_status::timeout) << "reply came early";
  EXPECT_EQ(pending.get().status, 200u);
  EXPECT_GE(std::chrono::steady_clock::now() - start, delay);
}

TEST_F(fake_ari_test, unknown_parameter_is_rejected_in_query_and_body) {
  const auto typo = post("/ari/bridges?type=mixing&bridgeID=x");
  EXPECT_EQ(typo.status, 400u);
  EXPECT_EQ(typo.body, R"({"message":"unknown parameter bridgeID"})");
  const auto in_body = http_.request(bhttp::verb::post, "/ari/channels/externalMedia",
                                     R"({"app":"a","external_host":"127.0.0.1:1","format":"ulaw","formats":"x"})",
                                     "application/json");
  EXPECT_EQ(in_body.status, 400u);
  EXPECT_EQ(in_body.body, R"({"message":"unknown parameter formats"})");
  EXPECT_TRUE(fake_.bridges().empty());
  EXPECT_TRUE(fake_.channels().empty());
}

TEST_F(fake_ari_test, continue_hands_the_caller_back_to_the_dialplan) {
  events_client events(fake_.port());
  ASSERT_TRUE(fake_.wait_for_events_connection(5s));
  const std::string caller = fake_.place_call();
  ASSERT_FALSE(caller.empty());
  events.next();
  const std::string bridge_id = post("/ari/bridges?type=mixing").parsed()["id"];
  ASSERT_EQ(post("/ari/bridges/" + bridge_id + "/addChannel?channel=" + caller).status, 204u);
  events.next();

  const auto wrong_tech = post("/ari/channels/" + caller + "/redirect?endpoint=PJSIP/agent");
  EXPECT_EQ(wrong_tech.status, 422u);
  EXPECT_EQ(wrong_tech.parsed()["message"], "Endpoint technology 'PJSIP' does not match channel technology 'Local'");
  EXPECT_EQ(post("/ari/channels/" + caller + "/continue?context=agents&extension=queue&priority=1").status, 204u);
  EXPECT_EQ(events.next()["type"], "ChannelLeftBridge");
  EXPECT_EQ(events.next()["type"], "StasisEnd");
  EXPECT_EQ(get("/ari/channels/" + caller).parsed()["dialplan"]["context"], "agents");
  EXPECT_EQ(get("/ari/applications/" + k_app).parsed()["channel_ids"], json::array());
  const auto outside = post("/ari/channels/" + caller + "/answer");
  EXPECT_EQ(outside.status, 409u);
  EXPECT_EQ(outside.parsed()["message"], "Channel not in Stasis application");

  EXPECT_FALSE(fake_.wait_for_idle(0ms)) << "the bridge is still there";
  EXPECT_EQ(del("/ari/bridges/" + bridge_id).status, 204u);
  EXPECT_TRUE(fake_.wait_for_idle(1s));
  fake_.caller_hangup(caller);
  EXPECT_TRUE(fake_.wait_for_channel_gone(caller, 1s));
}

TEST_F(fake_ari_test, deleting_a_bridge_makes_its_members_leave_first) {
  events_client events(fake_.port());
  ASSERT_TRUE(fake_.wait_for_events_connection(5s));
  const std::string caller = fake_.place_call();
  events.next();
  const std::string bridge_id = post("/ari/bridges?type=mixing&bridgeId=b-7").parsed()["id"];
  EXPECT_EQ(bridge_id, "b-7");
  ASSERT_EQ(post("/ari/bridges/b-7/addChannel?channel=" + caller).status, 204u);
  events.next();
  EXPECT_EQ(post("/ari/bridges/b-7/removeChannel?channel=nope").status, 400u);
  EXPECT_EQ(del("/ari/bridges/b-7").status, 204u);
  const json left = events.next();
  EXPECT_EQ(left["type"], "ChannelLeftBridge");
  EXPECT_EQ(left["bridge"]["channels"], json::array());
  EXPECT_EQ(events.next()["type"], "BridgeDestroyed");
  ASSERT_EQ(fake_.channels().size(), 2u);
  EXPECT_TRUE(fake_.channels()[1].in_stasis) << "the caller stays in Stasis";
  EXPECT_TRUE(fake_.channels()[1].bridge_id.empty());
}

TEST_F(fake_ari_test, requests_are_recorded_with_path_below_ari_and_status) {
  EXPECT_EQ(get("/ari/channels/nope").status, 404u);
  const auto log = fake_.requests();
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].method, "GET");
  EXPECT_EQ(log[0].path, "/channels/nope");
  EXPECT_EQ(log[0].status, 404u);
}

}  // namespace
}  // namespace npcl::fakes
