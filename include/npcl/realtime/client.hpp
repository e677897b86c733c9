#pragma once
#include <memory>

#include "npcl/realtime/client_options.hpp"
#include "npcl/realtime/realtime_link.hpp"
#include "npcl/util/net.hpp"

namespace npcl::obs {
class metrics_registry;
}

namespace npcl::realtime {

/// realtime_link over a WebSocket to an OpenAI or Azure Realtime endpoint
/// (wss with SNI and certificate verification against the system store plus
/// client_options::ca_file, optionally through an HTTPS_PROXY CONNECT tunnel;
/// ws:// for tests). Connect, proxy, TLS and upgrade share one deadline
/// (handshake_timeout); an open socket pings at half idle_timeout and is
/// dropped after idle_timeout without traffic. One write in flight behind a
/// queue: caller audio, batched into appends of append_interval, is dropped
/// oldest-first when audio_queue_max appends wait; control events never are.
/// A refused upgrade (non-101) and the service errors invalid_api_key,
/// insufficient_quota and beta_api_shape_disabled are fatal: on_error with
/// fatal=true, then on_closed. Benign races (response_cancel_not_active,
/// conversation_already_has_active_response) are logged and counted only.
/// A response.create asked for while a response is open waits for its
/// response.done; audio still arriving for a cancelled response is dropped.
/// Metrics: realtime_events_ignored_total, realtime_audio_dropped_total,
/// realtime_errors_total{code}, realtime_tokens_total{kind}.
/// Every method runs on the strand given at construction; no handler runs
/// after close() or destruction.
class client final : public realtime_link {
 public:
  /// `strand` serialises everything of this link (the call's strand).
  client(executor strand, client_options options, obs::metrics_registry& metrics);
  /// Closes as close() does.
  ~client() override;
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  void start(link_config config, link_handlers handlers) override;
  void send_audio(std::span<const std::int16_t> pcm) override;
  void request_response(const std::string& instructions = {}) override;
  void cancel_response() override;
  void truncate(const std::string& item_id, std::chrono::milliseconds heard) override;
  void send_tool_result(const std::string& call_id, const std::string& output_json) override;
  void add_history(const transcript_line& line) override;
  void close() override;

  struct impl;  ///< state shared with pending I/O (defined in client.cpp)

 private:
  std::shared_ptr<impl> impl_;  ///< kept alive by pending I/O until it completes
};

}  // namespace npcl::realtime
