#pragma once
#include <system_error>
#include <type_traits>

#include <boost/system/error_code.hpp>

namespace npcl::realtime {

/// Why a Realtime link ended, besides the transport's own error codes.
enum class errc {
  bad_configuration = 1,  ///< the options cannot form a connection (URL, key, model)
  handshake_refused,      ///< the service answered the upgrade with a non-101 status
  handshake_timeout,      ///< connect, proxy, TLS and upgrade did not finish in time
  proxy_refused,          ///< the HTTPS proxy did not open the CONNECT tunnel
  fatal_service_error,    ///< the service sent an error the conversation cannot survive
  closed_by_client,       ///< close() was called (never reported to handlers)
};

/// The category of errc ("realtime").
const boost::system::error_category& category() noexcept;

/// Makes errc usable as boost::system::error_code.
inline boost::system::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), category()};
}

}  // namespace npcl::realtime

template <>
struct boost::system::is_error_code_enum<npcl::realtime::errc> : std::true_type {};
