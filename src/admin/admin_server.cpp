#include "idemgate/admin/admin_server.hpp"

#include "idemgate/http/types.hpp"
#include "idemgate/log/log.hpp"

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <array>
#include <optional>
#include <string_view>

namespace idemgate::admin {

namespace {

constexpr std::string_view records_prefix = "/admin/v1/records/";

using digest = std::array<unsigned char, 32>;

digest sha256_of(std::string_view text) {
    digest out{};
    unsigned int len = 0;
    if (EVP_Digest(text.data(), text.size(), out.data(), &len, EVP_sha256(), nullptr) != 1) {
        out.fill(0xFF); // never equal to a real digest of the token
        out[0] = 0;
    }
    return out;
}

/// `Authorization: Bearer <token>`, compared in constant time: both sides are hashed first,
/// so neither the length nor a prefix of the token leaks through timing.
bool authorised(request const& req, std::string const& token) {
    auto const it = req.find(http::field::authorization);
    if (it == req.end()) return false;
    std::string_view value = it->value();
    constexpr std::string_view scheme = "bearer ";
    if (value.size() <= scheme.size()) return false;
    for (std::size_t i = 0; i < scheme.size(); ++i) {
        char c = value[i];
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        if (c != scheme[i]) return false;
    }
    value.remove_prefix(scheme.size());
    auto const given = sha256_of(value);
    auto const wanted = sha256_of(token);
    return CRYPTO_memcmp(given.data(), wanted.data(), given.size()) == 0;
}

response json_response(request const& req, unsigned status, std::string body) {
    response res{static_cast<http::status>(status), req.version()};
    res.set(http::field::content_type, "application/json");
    res.set(http::field::cache_control, "no-store");
    res.body() = std::move(body);
    res.body() += '\n';
    res.keep_alive(req.keep_alive());
    res.prepare_payload();
    return res;
}

response json_error(request const& req, unsigned status, std::string_view code,
                    std::string_view message) {
    std::string body = R"({"error":{"type":"admin_error","code":")";
    body.append(code).append(R"(","message":")").append(message).append("\"}}");
    return json_response(req, status, std::move(body));
}

metrics::admin_result result_of(unsigned status) noexcept {
    if (status == 200) return metrics::admin_result::ok;
    if (status == 404) return metrics::admin_result::not_found;
    return metrics::admin_result::error;
}

/// POST /admin/v1/records/{lookup,evict}: token, then method, then the injected handler.
/// Logged (peer, endpoint, result, scope hash) and counted; the body (API key) never is.
task<response> records_route(request const& req, std::string_view path, admin_context& ctx,
                             std::string const& peer) {
    auto const name = path.substr(records_prefix.size());
    std::optional<metrics::admin_endpoint> endpoint;
    if (name == "lookup") endpoint = metrics::admin_endpoint::lookup;
    if (name == "evict") endpoint = metrics::admin_endpoint::evict;
    if (!endpoint || ctx.token.empty() || !ctx.records) {
        co_return json_error(req, 404, "not_found", "not found");
    }
    auto const finish = [&](metrics::admin_result r, unsigned status, std::string const& scope) {
        ctx.stats.admin_request(*endpoint, r);
        log::info("admin records call",
                  {{"peer", peer},
                   {"endpoint", name},
                   {"result", metrics::admin_result_names[static_cast<std::size_t>(r)]},
                   {"status", status},
                   {"scope", scope}});
    };
    if (!authorised(req, ctx.token)) {
        finish(metrics::admin_result::unauthorized, 401, "");
        auto res =
            json_error(req, 401, "unauthorized", "a valid Authorization: Bearer token is required");
        res.set(http::field::www_authenticate, "Bearer");
        co_return res;
    }
    if (req.method() != http::verb::post) {
        finish(metrics::admin_result::error, 405, "");
        auto res = json_error(req, 405, "method_not_allowed", "use POST");
        res.set(http::field::allow, "POST");
        co_return res;
    }
    records_reply reply;
    try {
        reply = co_await ctx.records(*endpoint, req.body());
    } catch (std::exception const& e) {
        log::error("admin records call failed", {{"error", e.what()}});
        reply = records_reply{
            500, R"({"error":{"type":"admin_error","code":"internal","message":"internal error"}})",
            ""};
    }
    finish(result_of(reply.status), reply.status, reply.scope);
    co_return json_response(req, reply.status, std::move(reply.body));
}

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
        auto const target = req.target();
        auto const path = target.substr(0, target.find('?'));
        response res;
        if (path.starts_with(records_prefix)) {
            error_code pec;
            auto const ep = stream.socket().remote_endpoint(pec);
            auto const peer = pec ? std::string("unknown")
                                  : ep.address().to_string() + ":" + std::to_string(ep.port());
            res = co_await records_route(req, path, ctx, peer);
            if (req.method() == http::verb::head) res.body().clear(); // as route() does
        } else {
            res = route(req, ctx);
        }
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
