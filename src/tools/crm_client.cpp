#include "tools/crm_client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <openssl/ssl.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>

#include "npcl/obs/log.hpp"
#include "npcl/obs/metrics.hpp"
#include "npcl/util/ids.hpp"
#include "tools/hmac_sha256.hpp"
#include "tools/json_depth.hpp"

namespace npcl::tools {

using nlohmann::json;
using clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

// Replies nested deeper than this are refused unparsed, like the model's arguments.
constexpr std::size_t max_reply_depth = 16;

// The first pause between attempts; it doubles each time. Short: the caller is waiting.
constexpr auto first_backoff = 100ms;

bool is_json_type(const std::string& content_type) {
  auto type = content_type.substr(0, content_type.find(';'));
  type.erase(std::remove(type.begin(), type.end(), ' '), type.end());
  std::transform(type.begin(), type.end(), type.begin(), [](unsigned char c) { return std::tolower(c); });
  return type == "application/json";
}

// Turns a reply into the tool's answer, or says why it cannot be one; returns the result
// label of tool_backend_attempts_total.
const char* judge(crm_attempt& a, crm_outcome& out) {
  if (!a.failure.empty()) {
    out.failure = a.failure;
    if (a.too_large) return "bad_reply";
    if (a.timed_out) return "timeout";
    return a.step == "tls" ? "tls" : "network";
  }
  const std::string status = "HTTP " + std::to_string(a.status);
  if (a.status >= 500 || a.status == 429) {
    // Overloaded or failing for now: a look-up may ask again.
    a.retryable = true;
    out.failure = status;
    return "busy";
  }
  if (a.status < 200 || a.status >= 300) {
    out.failure = status + (a.status == 401 || a.status == 403 ? " (does the CRM know TOOL_BACKEND_SECRET?)" : "");
    return "refused";
  }
  if (!a.content_type.empty() && !is_json_type(a.content_type)) {
    out.failure = status + " with Content-Type " + a.content_type.substr(0, 64) + ", not application/json";
    return "bad_reply";
  }
  if (json_depth(a.body, max_reply_depth) > max_reply_depth) {
    out.failure = status + " with JSON nested deeper than " + std::to_string(max_reply_depth) + " levels";
    return "bad_reply";
  }
  auto reply = json::parse(a.body, nullptr, false);
  if (reply.is_discarded() || !reply.is_object()) {
    out.failure = status + " with a body that is not a JSON object (" + std::to_string(a.body.size()) + " bytes)";
    return "bad_reply";
  }
  out.answered = true;
  out.failure.clear();
  out.reply = std::move(reply);
  return "answered";
}

}  // namespace

crm_client::crm_client(tools_options o, obs::metrics_registry& metrics) : options_(std::move(o)), metrics_(metrics) {
  // Every series exists from the start, so a dashboard shows 0 rather than nothing.
  for (const char* result : attempt_results) attempts_counter(result);
  if (!options_.endpoint.tls) return;
  tls_.emplace(net::ssl::context::tls_client);
  error_code ec;
  tls_->set_default_verify_paths(ec);
  if (!options_.ca_file.empty()) {
    tls_->load_verify_file(options_.ca_file, ec);
    if (ec) throw std::invalid_argument("TOOL_BACKEND_CA_FILE " + options_.ca_file + ": " + ec.message());
  }
  tls_->set_verify_mode(net::ssl::verify_peer);
  // Caller data crosses the network: nothing older than TLS 1.2.
  SSL_CTX_set_min_proto_version(tls_->native_handle(), TLS1_2_VERSION);
}

void crm_client::call(executor ex, std::string tool, std::string call_id, const json& arguments, bool may_retry,
                      std::function<void(crm_outcome)> done) {
  std::string body = json{{"tool", tool}, {"call_id", call_id}, {"arguments", arguments}}.dump(
      -1, ' ', false, json::error_handler_t::replace);
  net::co_spawn(ex, [self = shared_from_this(), tool = std::move(tool), call_id = std::move(call_id),
                     body = std::move(body), may_retry]() mutable {
                  return self->run(std::move(tool), std::move(call_id), std::move(body), may_retry);
                },
                [done = std::move(done)](std::exception_ptr e, crm_outcome out) {
                  if (e) {
                    out = {};
                    try {
                      std::rethrow_exception(e);
                    } catch (const std::exception& ex) {
                      out.failure = std::string("internal error: ") + ex.what();
                    } catch (...) {
                      out.failure = "internal error";
                    }
                  }
                  done(std::move(out));
                });
}

obs::counter& crm_client::attempts_counter(const char* result) {
  return metrics_.get_counter("tool_backend_attempts_total", "Requests to the CRM by how they ended",
                              {{"result", result}});
}

crm_post crm_client::signed_post(const std::string& body, const std::string& request_id, int attempt,
                                 clock::time_point deadline) const {
  const auto timestamp = std::to_string(
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count());
  crm_post p;
  p.to = options_.endpoint;
  p.body = body;
  p.deadline = deadline;
  p.reply_limit = max_reply_bytes;
  // The timestamp is signed with the body so a recorded request cannot be replayed later.
  p.headers = {{"Content-Type", "application/json"},
               {"Accept", "application/json"},
               {"User-Agent", "npcl-assistant"},
               {"X-NPCL-Request-Id", request_id},
               {"X-NPCL-Attempt", std::to_string(attempt)},
               {"X-NPCL-Timestamp", timestamp},
               {"X-NPCL-Signature", "sha256=" + hmac_sha256_hex(options_.secret, timestamp + "." + body)}};
  return p;
}

net::awaitable<crm_outcome> crm_client::run(std::string tool, std::string call_id, std::string body, bool may_retry) {
  const auto deadline = clock::now() + options_.deadline;
  const int allowed = may_retry ? 1 + options_.retries : 1;
  // One id for every attempt, so the CRM can tell a repeat from a new question.
  const std::string request_id = util::make_uuid();
  crm_outcome out;
  auto backoff = first_backoff;
  for (int attempt = 1; attempt <= allowed; ++attempt) {
    const auto now = clock::now();
    if (now >= deadline) break;
    // A record-creating tool has one attempt and gives it the whole deadline: a reply that
    // is slow to come may still carry the number of a record that exists.
    const auto attempt_deadline = may_retry ? std::min(now + options_.attempt_timeout, deadline) : deadline;
    crm_post p = signed_post(body, request_id, attempt, attempt_deadline);
    crm_attempt a = tls_ ? co_await post_over_tls(*tls_, std::move(p)) : co_await post_over_tcp(std::move(p));
    out.attempts = attempt;
    attempts_counter(judge(a, out)).inc();
    if (out.answered) co_return out;
    spdlog::warn("tool {} call {}: CRM {}:{} attempt {}/{} failed: {}", tool, call_id, options_.endpoint.host,
                 options_.endpoint.port, attempt, allowed, out.failure);
    if (!a.retryable || attempt == allowed) break;
    if (clock::now() + backoff >= deadline) break;
    net::steady_timer pause(co_await net::this_coro::executor, backoff);
    co_await pause.async_wait(net::as_tuple(net::use_awaitable));
    backoff *= 2;
  }
  if (out.attempts == 0) out.failure = "no time left for an attempt";
  co_return out;
}

}  // namespace npcl::tools
