#include "idemgate/server/address.hpp"

#include <boost/asio/io_context.hpp>

#include <stdexcept>

namespace idemgate::server {

tcp::endpoint parse_listen(std::string_view address) {
    auto const colon = address.rfind(':');
    if (colon == std::string_view::npos)
        throw std::runtime_error("listen address without port: " + std::string(address));
    auto host = std::string(address.substr(0, colon));
    auto const port = std::string(address.substr(colon + 1));
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
        host = host.substr(1, host.size() - 2);
    net::io_context ioc;
    tcp::resolver resolver(ioc);
    error_code ec;
    auto const results = resolver.resolve(host.empty() ? "0.0.0.0" : host, port,
                                          tcp::resolver::passive, ec);
    if (ec || results.empty())
        throw std::runtime_error("cannot resolve listen address " + std::string(address) +
                                 ": " + ec.message());
    return results.begin()->endpoint();
}

std::string format_endpoint(tcp::endpoint const& ep) {
    auto const addr = ep.address().to_string();
    auto const port = std::to_string(ep.port());
    return ep.address().is_v6() ? "[" + addr + "]:" + port : addr + ":" + port;
}

} // namespace idemgate::server
