// demo-upstream: a tiny stand-in for the ChronaPilot events API, for the quick start.
// POST /v1/events -> 201 {"id":"evt_N",...}; GET /v1/events/evt_N -> 200; else 404.
// Every call is counted and printed, so a replay visibly does not reach it.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdlib>
#include <iostream>
#include <string>

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

namespace {

std::atomic<unsigned long> calls{0};

http::response<http::string_body> answer(http::request<http::string_body> const& req) {
    auto const n = ++calls;
    std::cout << "demo-upstream: call " << n << ": " << req.method_string() << ' ' << req.target()
              << std::endl;
    http::response<http::string_body> res{http::status::not_found, req.version()};
    res.set(http::field::content_type, "application/json");
    res.set("X-Demo-Call", std::to_string(n));
    nlohmann::json body;
    if (req.method() == http::verb::post && req.target().starts_with("/v1/events")) {
        auto parsed = nlohmann::json::parse(req.body(), nullptr, false);
        res.result(http::status::created);
        body = {{"id", "evt_" + std::to_string(n)},
                {"object", "event"},
                {"request", parsed.is_discarded() ? nlohmann::json(req.body()) : parsed}};
    } else if (req.method() == http::verb::get && req.target().starts_with("/v1/events/")) {
        res.result(http::status::ok);
        body = {{"id", std::string(req.target().substr(11))}, {"object", "event"}};
    } else {
        body = {{"error", {{"type", "invalid_request_error"}, {"code", "not_found"}}}};
    }
    res.body() = body.dump();
    res.keep_alive(req.keep_alive());
    res.prepare_payload();
    return res;
}

net::awaitable<void> serve(tcp::socket sock) {
    beast::tcp_stream stream(std::move(sock));
    beast::flat_buffer buf;
    try {
        for (;;) {
            http::request<http::string_body> req;
            co_await http::async_read(stream, buf, req, net::use_awaitable);
            auto res = answer(req);
            co_await http::async_write(stream, res, net::use_awaitable);
            if (!res.keep_alive()) break;
        }
    } catch (std::exception const&) {
        // the client closed; nothing to do
    }
}

net::awaitable<void> listen(tcp::acceptor acceptor) {
    for (;;) {
        auto sock = co_await acceptor.async_accept(net::use_awaitable);
        net::co_spawn(acceptor.get_executor(), serve(std::move(sock)), net::detached);
    }
}

} // namespace

int main(int argc, char** argv) {
    std::string const address = argc > 1 ? argv[1] : "127.0.0.1";
    auto const port = static_cast<unsigned short>(argc > 2 ? std::atoi(argv[2]) : 9000);
    net::io_context ioc{1};
    tcp::acceptor acceptor(ioc, {net::ip::make_address(address), port});
    std::cout << "demo-upstream: listening on " << address << ':'
              << acceptor.local_endpoint().port() << std::endl;
    net::signal_set signals(ioc, SIGTERM, SIGINT);
    signals.async_wait([&](auto, int) { ioc.stop(); });
    net::co_spawn(ioc, listen(std::move(acceptor)), net::detached);
    ioc.run();
    return 0;
}
