#include "idemgate/util/endpoint.hpp"

#include "idemgate/config/host_port.hpp"

#include <boost/asio/io_context.hpp>

#include <stdexcept>

namespace idemgate::util {

tcp::endpoint listen_endpoint(std::string_view address) {
    std::string why;
    auto const parsed = config::parse_host_port(address, why);
    if (!parsed) {
        throw std::runtime_error("bad listen address \"" + std::string(address) + "\": " + why);
    }
    net::io_context ioc;
    tcp::resolver resolver(ioc);
    error_code ec;
    auto const results =
        resolver.resolve(parsed->host, std::to_string(parsed->port),
                         tcp::resolver::passive | tcp::resolver::numeric_service, ec);
    if (ec || results.empty())
        throw std::runtime_error("cannot resolve listen address " + std::string(address) + ": " +
                                 ec.message());
    return results.begin()->endpoint();
}

std::string format_endpoint(tcp::endpoint const& ep) {
    auto const addr = ep.address().to_string();
    auto const port = std::to_string(ep.port());
    return ep.address().is_v6() ? "[" + addr + "]:" + port : addr + ":" + port;
}

} // namespace idemgate::util
