#include "npcl/realtime/errc.hpp"

#include <string>

namespace npcl::realtime {
namespace {

class realtime_category final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "realtime"; }
  std::string message(int value) const override {
    switch (static_cast<errc>(value)) {
      case errc::bad_configuration: return "realtime configuration cannot form a connection";
      case errc::handshake_refused: return "realtime service refused the WebSocket upgrade";
      case errc::handshake_timeout: return "realtime connection not established in time";
      case errc::proxy_refused: return "HTTPS proxy refused the CONNECT tunnel";
      case errc::fatal_service_error: return "realtime service reported a fatal error";
      case errc::closed_by_client: return "realtime link closed by the call";
    }
    return "unknown realtime error";
  }
};

}  // namespace

const boost::system::error_category& category() noexcept {
  static const realtime_category instance;
  return instance;
}

}  // namespace npcl::realtime
