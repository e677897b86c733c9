// The only translation unit that instantiates the CRM exchange over TLS.
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/beast/ssl.hpp>

#include "tools/crm_exchange_impl.hpp"

namespace npcl::tools {

net::awaitable<crm_attempt> post_over_tls(net::ssl::context& tls, crm_post p) {
  using stream_type = beast::ssl_stream<beast::tcp_stream>;
  stream_type stream(co_await net::this_coro::executor, tls);
  const std::string host = p.to.host;
  co_return co_await detail::exchange(stream, p, [&host](stream_type& s) -> net::awaitable<detail::secure_result> {
    error_code not_ip;
    net::ip::make_address(host, not_ip);
    // SNI carries names only; an address literal is checked against the certificate's IP
    // entries by the verification callback.
    if (not_ip && !SSL_set_tlsext_host_name(s.native_handle(), host.c_str())) {
      co_return detail::secure_result{"tls", error_code(static_cast<int>(::ERR_get_error()), net::error::get_ssl_category()),
                                      false};
    }
    s.set_verify_callback(net::ssl::host_name_verification(host));
    auto [ec] = co_await s.async_handshake(net::ssl::stream_base::client, detail::use_tuple);
    // A certificate that does not verify will not verify on a retry either; a handshake cut
    // short by the network might.
    const bool certificate = ec.category() == net::error::get_ssl_category();
    co_return detail::secure_result{"tls", ec, ec && !certificate};
  });
}

}  // namespace npcl::tools
