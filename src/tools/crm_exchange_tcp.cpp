// The only translation unit that instantiates the CRM exchange over plain TCP.
#include "tools/crm_exchange_impl.hpp"

namespace npcl::tools {

net::awaitable<crm_attempt> post_over_tcp(crm_post p) {
  beast::tcp_stream stream(co_await net::this_coro::executor);
  co_return co_await detail::exchange(stream, p,
                                      [](beast::tcp_stream&) -> net::awaitable<detail::secure_result> { co_return detail::secure_result{}; });
}

}  // namespace npcl::tools
