#include "npcl/ari/rest_call_control.hpp"

#include <nlohmann/json.hpp>

#include "ari/request_text.hpp"

namespace npcl::ari {
namespace {

control_result to_result(rest_reply r) {
  control_result out;
  out.ec = r.ec;
  out.status = r.status;
  out.message = std::move(r.message);
  return out;
}

std::string join(const std::vector<std::string>& ids) {
  std::string out;
  for (const auto& id : ids) {
    if (!out.empty()) out += ',';
    out += id;
  }
  return out;
}

}  // namespace

rest_call_control::rest_call_control(rest_client& client, std::string app)
    : client_(client), app_(std::move(app)) {}

net::awaitable<control_result> rest_call_control::answer(std::string channel_id) {
  co_return to_result(co_await client_.request("POST", "/channels/" + detail::percent_encode(channel_id) + "/answer"));
}

net::awaitable<control_result> rest_call_control::create_bridge(std::string bridge_id) {
  co_return to_result(co_await client_.request("POST", "/bridges",
                                               {{"type", "mixing"}, {"bridgeId", bridge_id}, {"name", bridge_id}}));
}

net::awaitable<control_result> rest_call_control::create_external_media(external_media_request r) {
  params q{{"app", app_},
           {"channelId", r.channel_id},
           {"format", r.format},
           {"encapsulation", r.encapsulation},
           {"transport", r.transport}};
  if (!r.external_host.empty()) q.emplace_back("external_host", r.external_host);
  if (!r.connection_type.empty()) q.emplace_back("connection_type", r.connection_type);
  if (!r.data.empty()) q.emplace_back("data", r.data);
  auto reply = co_await client_.request("POST", "/channels/externalMedia", std::move(q));
  std::string body = reply.body;
  auto out = to_result(std::move(reply));
  if (out.ok()) {
    // channelvars tell where Asterisk listens (UNICASTRTP_LOCAL_*); values
    // are strings in every capture, anything else is ignored.
    auto j = nlohmann::json::parse(body, nullptr, false);
    if (j.is_object()) {
      if (auto it = j.find("channelvars"); it != j.end() && it->is_object()) {
        for (const auto& [k, v] : it->items())
          if (v.is_string()) out.channel_vars[k] = v.get<std::string>();
      }
    }
  }
  co_return out;
}

net::awaitable<control_result> rest_call_control::add_to_bridge(std::string bridge_id,
                                                                std::vector<std::string> channel_ids) {
  co_return to_result(co_await client_.request(
      "POST", "/bridges/" + detail::percent_encode(bridge_id) + "/addChannel", {{"channel", join(channel_ids)}}));
}

net::awaitable<control_result> rest_call_control::hangup(std::string channel_id, std::string reason) {
  params q;
  if (!reason.empty()) q.emplace_back("reason", reason);
  co_return to_result(co_await client_.request("DELETE", "/channels/" + detail::percent_encode(channel_id), std::move(q)));
}

net::awaitable<control_result> rest_call_control::destroy_bridge(std::string bridge_id) {
  co_return to_result(co_await client_.request("DELETE", "/bridges/" + detail::percent_encode(bridge_id)));
}

net::awaitable<control_result> rest_call_control::continue_in_dialplan(std::string channel_id, std::string context,
                                                                       std::string extension, int priority) {
  params q;
  if (!context.empty()) q.emplace_back("context", context);
  if (!extension.empty()) q.emplace_back("extension", extension);
  if (priority > 0) q.emplace_back("priority", std::to_string(priority));
  co_return to_result(co_await client_.request(
      "POST", "/channels/" + detail::percent_encode(channel_id) + "/continue", std::move(q)));
}

net::awaitable<control_result> rest_call_control::redirect(std::string channel_id, std::string endpoint) {
  co_return to_result(co_await client_.request(
      "POST", "/channels/" + detail::percent_encode(channel_id) + "/redirect", {{"endpoint", std::move(endpoint)}}));
}

net::awaitable<std::optional<std::vector<channel>>> rest_call_control::list_channels() {
  auto reply = co_await client_.request("GET", "/channels");
  if (!reply.ok()) co_return std::nullopt;
  std::string error;
  co_return parse_channel_list(reply.body, error);
}

net::awaitable<std::optional<std::pair<std::vector<std::string>, std::vector<std::string>>>>
rest_call_control::application_resources() {
  auto reply = co_await client_.request("GET", "/applications/" + detail::percent_encode(app_));
  if (!reply.ok()) co_return std::nullopt;
  auto j = nlohmann::json::parse(reply.body, nullptr, false);
  if (!j.is_object()) co_return std::nullopt;
  std::pair<std::vector<std::string>, std::vector<std::string>> out;
  auto collect = [&](const char* key, std::vector<std::string>& into) {
    if (auto it = j.find(key); it != j.end() && it->is_array())
      for (const auto& v : *it)
        if (v.is_string()) into.push_back(v.get<std::string>());
  };
  collect("channel_ids", out.first);
  collect("bridge_ids", out.second);
  co_return out;
}

}  // namespace npcl::ari
