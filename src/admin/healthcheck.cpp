#include "idemgate/admin/healthcheck.hpp"

#include "idemgate/http/types.hpp"
#include "idemgate/net.hpp"
#include "idemgate/server/address.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include <iostream>

namespace idemgate::admin {

int healthcheck(config::admin_config const& cfg, std::string_view path) {
    if (cfg.listen.empty()) {
        std::cerr << "healthcheck: admin.listen is empty\n";
        return 1;
    }
    try {
        auto ep = server::parse_listen(cfg.listen);
        if (ep.address().is_unspecified())
            ep.address(ep.address().is_v6() ? net::ip::address(net::ip::address_v6::loopback())
                                            : net::ip::address(net::ip::address_v4::loopback()));
        net::io_context ioc;
        beast::tcp_stream stream(ioc);
        stream.expires_after(std::chrono::seconds(2));
        stream.connect(ep);
        request req{http::verb::get, path, 11};
        req.set(http::field::host, server::format_endpoint(ep));
        req.set(http::field::connection, "close");
        http::write(stream, req);
        beast::flat_buffer buf;
        response res;
        http::read(stream, buf, res);
        if (res.result() == http::status::ok) return 0;
        std::cerr << "healthcheck: " << path << " answered " << res.result_int() << '\n';
    } catch (std::exception const& e) {
        std::cerr << "healthcheck: " << e.what() << '\n';
    }
    return 1;
}

} // namespace idemgate::admin
