#include "npcl/realtime/connection_request.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>

namespace npcl::realtime {
namespace {

constexpr const char* openai_url = "wss://api.openai.com/v1/realtime";

std::optional<connection_request> refuse(std::string* why, std::string reason) {
  if (why) *why = std::move(reason);
  return std::nullopt;
}

}  // namespace

std::optional<connection_request> make_connection_request(const client_options& options, std::string* why) {
  const dialect d = options.dialect;
  if (options.service.api_key.empty()) return refuse(why, "no API key (OPENAI_API_KEY)");
  if (options.service.model.empty())
    return refuse(why, is_azure(d) ? "no Azure deployment name (OPENAI_MODEL)" : "no model (OPENAI_MODEL)");
  if (is_azure(d) && options.url.empty())
    return refuse(why, "Azure dialects need OPENAI_REALTIME_URL (https://<resource>.openai.azure.com)");

  // parse_uri returns a view: the text must outlive it.
  const std::string text = options.url.empty() ? std::string(openai_url) : options.url;
  auto parsed = boost::urls::parse_uri(text);
  if (!parsed) return refuse(why, "realtime URL is not a URI: " + parsed.error().message());
  boost::urls::url u = *parsed;

  connection_request req;
  const std::string scheme = u.scheme();
  if (scheme == "wss" || scheme == "https") {
    req.tls = true;
  } else if (scheme == "ws" || scheme == "http") {
    req.tls = false;
  } else {
    return refuse(why, "realtime URL scheme must be wss, ws, https or http, not " + scheme);
  }
  req.host = u.host_address();
  if (req.host.empty()) return refuse(why, "realtime URL has no host");
  req.port = u.has_port() ? std::string(u.port()) : (req.tls ? "443" : "80");
  if (u.has_userinfo() || u.has_fragment()) return refuse(why, "realtime URL must not carry user info or a fragment");

  // Azure endpoints are usually configured as the bare resource URL: the
  // dialect fixes the path.
  if (is_azure(d) && (u.encoded_path().empty() || u.encoded_path() == "/"))
    u.set_path(d == dialect::azure_ga ? "/openai/v1/realtime" : "/openai/realtime");
  if (u.encoded_path().empty()) u.set_path("/");

  auto params = u.params();
  if (d == dialect::azure_preview) {
    params.set("api-version", options.azure_api_version);
    params.set("deployment", options.service.model);
  } else {
    params.set("model", options.service.model);
  }
  req.target = std::string(u.encoded_path()) + "?" + std::string(u.encoded_query());

  if (is_azure(d)) {
    req.headers.emplace_back("api-key", options.service.api_key);
  } else {
    req.headers.emplace_back("Authorization", "Bearer " + options.service.api_key);
  }
  if (d == dialect::beta) req.headers.emplace_back("OpenAI-Beta", "realtime=v1");
  return req;
}

}  // namespace npcl::realtime
