#pragma once
#include "npcl/ari/call_control.hpp"
#include "npcl/ari/rest_client.hpp"

namespace npcl::ari {

/// call_control over ARI REST (asterisk-ari.md §4–§6).
class rest_call_control final : public call_control {
 public:
  /// `app` is the Stasis application externalMedia channels are created in.
  rest_call_control(rest_client& client, std::string app);

  net::awaitable<control_result> answer(std::string channel_id) override;
  net::awaitable<control_result> create_bridge(std::string bridge_id) override;
  net::awaitable<control_result> create_external_media(external_media_request request) override;
  net::awaitable<control_result> add_to_bridge(std::string bridge_id, std::vector<std::string> channel_ids) override;
  net::awaitable<control_result> hangup(std::string channel_id, std::string reason) override;
  net::awaitable<control_result> destroy_bridge(std::string bridge_id) override;
  net::awaitable<control_result> continue_in_dialplan(std::string channel_id, std::string context,
                                                      std::string extension, int priority) override;
  net::awaitable<control_result> redirect(std::string channel_id, std::string endpoint) override;
  net::awaitable<std::optional<std::vector<channel>>> list_channels() override;
  net::awaitable<std::optional<std::pair<std::vector<std::string>, std::vector<std::string>>>>
  application_resources() override;

 private:
  rest_client& client_;  ///< shared REST connection pool, outlives this object
  std::string app_;      ///< STASIS_APP
};

}  // namespace npcl::ari
