#pragma once
// The one way every fake peer starts listening: loopback only, port 0 for a
// free one, address reuse so a test re-run does not wait for TIME_WAIT.
#include <boost/asio/ip/tcp.hpp>

#include <cstdint>

namespace npcl::fakes {

/// Opens, binds (127.0.0.1:`port`) and listens on `acceptor`; returns the bound
/// port. Throws boost::system::system_error when the port is taken.
std::uint16_t listen_on_loopback(boost::asio::ip::tcp::acceptor& acceptor, std::uint16_t port);

}  // namespace npcl::fakes
