#pragma once
// Private to src/: Beast aliases for the transport translation units.
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include "npcl/util/net.hpp"

namespace npcl {
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace websocket = boost::beast::websocket;
}  // namespace npcl
