#include "idemgate/admin/healthcheck.hpp"

#include "idemgate/http/types.hpp"
#include "idemgate/net.hpp"
#include "idemgate/util/endpoint.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include <iostream>

namespace idemgate::admin {

namespace {

/// GET `path` with one 2 s deadline over connect, write and read (asynchronous: a listener
/// that accepts and never answers must not hang the probe). The status, or 0 and `failure`.
task<unsigned> probe(tcp::endpoint ep, std::string path, error_code& failure) {
    tcp_stream stream(co_await net::this_coro::executor);
    stream.expires_after(std::chrono::seconds(2));
    if (auto [ec] = co_await stream.async_connect(ep); ec) {
        failure = ec;
        co_return 0;
    }
    request req{http::verb::get, path, 11};
    req.set(http::field::host, util::format_endpoint(ep));
    req.set(http::field::connection, "close");
    if (auto [ec, n] = co_await http::async_write(stream, req); ec) {
        failure = ec;
        co_return 0;
    }
    beast::flat_buffer buf;
    response res;
    if (auto [ec, n] = co_await http::async_read(stream, buf, res); ec) {
        failure = ec;
        co_return 0;
    }
    co_return res.result_int();
}

} // namespace

int healthcheck(config::admin_config const& cfg, std::string_view path) {
    if (cfg.listen.empty()) {
        std::cerr << "healthcheck: admin.listen is empty\n";
        return 1;
    }
    tcp::endpoint ep;
    try {
        ep = util::listen_endpoint(cfg.listen);
    } catch (std::exception const& e) {
        std::cerr << "healthcheck: admin.listen: " << e.what() << '\n';
        return 1;
    }
    if (ep.address().is_unspecified())
        ep.address(ep.address().is_v6() ? net::ip::address(net::ip::address_v6::loopback())
                                        : net::ip::address(net::ip::address_v4::loopback()));
    net::io_context ioc;
    error_code failure;
    unsigned status = 0;
    net::co_spawn(ioc, probe(ep, std::string(path), failure),
                  [&status](std::exception_ptr const& e, unsigned s) {
                      if (!e) status = s;
                  });
    ioc.run();
    if (status == 200) return 0;
    auto const where = util::format_endpoint(ep) + std::string(path);
    if (status != 0) {
        std::cerr << "healthcheck: " << where << " answered " << status << '\n';
    } else {
        std::cerr << "healthcheck: " << where << ": "
                  << (failure ? failure.message() : std::string("no answer")) << '\n';
    }
    return 1;
}

} // namespace idemgate::admin
