// (Named *_peer.cpp so the fakes library picks it up with the peers.)
#include "fakes/local_listener.hpp"

namespace npcl::fakes {

std::uint16_t listen_on_loopback(boost::asio::ip::tcp::acceptor& acceptor, std::uint16_t port) {
  namespace net = boost::asio;
  const net::ip::tcp::endpoint ep(net::ip::make_address("127.0.0.1"), port);
  acceptor.open(ep.protocol());
  acceptor.set_option(net::socket_base::reuse_address(true));
  acceptor.bind(ep);
  acceptor.listen();
  return acceptor.local_endpoint().port();
}

}  // namespace npcl::fakes
