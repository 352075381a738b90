#pragma once
// The only place completion tokens are spelled (Boost 1.81 has no default token).
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <type_traits>

namespace idemgate {

namespace net = boost::asio;
namespace beast = boost::beast;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;

template <class T>
using task = net::awaitable<T>;
template <class T>
using result = boost::system::result<T>;

/// `auto [ec, n] = co_await op(use_nothrow);` never throws on I/O errors.
inline constexpr auto use_nothrow = net::as_tuple(net::use_awaitable);
using nothrow_t = std::remove_cv_t<decltype(use_nothrow)>;

using tcp_stream = nothrow_t::as_default_on_t<beast::tcp_stream>;
using tcp_acceptor = nothrow_t::as_default_on_t<tcp::acceptor>;
using tcp_socket = nothrow_t::as_default_on_t<tcp::socket>;
using steady_timer = nothrow_t::as_default_on_t<net::steady_timer>;

} // namespace idemgate
