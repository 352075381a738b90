#include "idemgate/admin/admin_server.hpp"

#include "idemgate/http/types.hpp"
#include "idemgate/log/log.hpp"

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

namespace idemgate::admin {

namespace {

response route(request const& req, admin_context& ctx) {
    response res{http::status::ok, req.version()};
    res.set(http::field::content_type, "text/plain; charset=utf-8");
    auto const target = req.target();
    auto const path = target.substr(0, target.find('?'));
    if (req.method() != http::verb::get && req.method() != http::verb::head) {
        res.result(http::status::method_not_allowed);
        res.body() = "method not allowed\n";
    } else if (path == "/metrics") {
        if (ctx.before_scrape) ctx.before_scrape();
        res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
        res.body() = ctx.stats.serialize();
    } else if (path == "/livez" || path == "/healthz") {
        res.body() = "ok\n";
    } else if (path == "/readyz") {
        bool const ready = ctx.ready();
        res.result(ready ? http::status::ok : http::status::service_unavailable);
        res.body() = ready ? "ready\n" : "not ready\n";
    } else {
        res.result(http::status::not_found);
        res.body() = "not found\n";
    }
    res.keep_alive(req.keep_alive());
    res.prepare_payload();
    if (req.method() == http::verb::head) res.body().clear();
    return res;
}

task<void> serve(tcp_stream stream, admin_context& ctx) {
    // Bounded as the client listener's: a chunk line without its end fails the read instead
    // of growing the buffer (the head limit below is 16 KiB).
    beast::flat_buffer buf(32 * 1024);
    for (;;) {
        http::request_parser<http::string_body> parser;
        parser.header_limit(16 * 1024);
        parser.body_limit(4096);
        stream.expires_after(std::chrono::seconds(10));
        auto [ec, n] = co_await http::async_read(stream, buf, parser);
        if (ec) break;
        auto req = parser.release();
        auto res = route(req, ctx);
        auto [wec, wn] = co_await http::async_write(stream, res);
        if (wec || !res.keep_alive()) break;
    }
    error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

} // namespace

task<void> run_admin(tcp_acceptor& acceptor, admin_context& ctx) {
    for (;;) {
        auto [ec, sock] = co_await acceptor.async_accept();
        if (ec == net::error::operation_aborted || !acceptor.is_open()) co_return;
        if (ec) {
            // EMFILE, ENFILE, ENOBUFS: the pending connection stays queued, so accepting again
            // at once fails again; pause instead of spinning (issue 9: 100 % CPU).
            steady_timer pause(acceptor.get_executor());
            pause.expires_after(std::chrono::milliseconds(20));
            co_await pause.async_wait();
            continue;
        }
        net::co_spawn(acceptor.get_executor(), serve(tcp_stream(std::move(sock)), ctx),
                      log::on_failure{"admin session"});
    }
}

} // namespace idemgate::admin
