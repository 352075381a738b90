#pragma once
// A connected loopback TCP pair for in-process tests of code that reads or writes a socket.
#include "idemgate/net.hpp"

namespace idemgate::test {

/// `a` connected to `b` over 127.0.0.1, both on `ioc` (blocking connect and accept).
struct socket_pair {
    explicit socket_pair(net::io_context& ioc) : a(ioc), b(ioc) {
        tcp::acceptor acc(ioc, {net::ip::make_address("127.0.0.1"), 0});
        a.connect(acc.local_endpoint());
        acc.accept(b);
    }
    tcp::socket a;
    tcp::socket b;
};

} // namespace idemgate::test
