// The one translation unit that compiles Asio (and its SSL support); every
// other TU sees BOOST_ASIO_SEPARATE_COMPILATION and only declarations.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
