#pragma once
// Namespace aliases shared by every module. Beast is deliberately absent: it is
// only included from src/ so public headers stay cheap to compile.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <boost/system/error_code.hpp>

namespace npcl {
namespace net = boost::asio;
using error_code = boost::system::error_code;
using executor = net::any_io_executor;
}  // namespace npcl
