#include "idemgate/server/session.hpp"

#include "idemgate/http/error_response.hpp"
#include "idemgate/http/request_id.hpp"
#include "idemgate/http/request_reader.hpp"
#include "idemgate/http/request_rules.hpp"
#include "idemgate/http/wire.hpp"
#include "idemgate/log/log.hpp"

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <chrono>
#include <memory>
#include <optional>

#include <sys/socket.h>

#include <cerrno>

namespace idemgate::server {

using http_server::accept_head;
using http_server::ensure_request_id;
using http_server::head_fields;
using http_server::limit_parser;
using http_server::read_buffer_limit;
using http_server::request_parser;
using http_server::take_request;
using std::chrono::steady_clock;

void session_registry::close_idle() {
    for (auto& e : entries_) {
        if (e.busy) continue;
        error_code ignored;
        e.socket->cancel(ignored); // its pending read ends with operation_aborted
    }
}

namespace {

/// A client connection over TLS; the plain one is the tcp_socket itself.
using tls_stream = beast::ssl_stream<tcp_socket>;

tcp_socket& lowest(tcp_socket& s) {
    return s;
}
tcp_socket& lowest(tls_stream& s) {
    return s.next_layer();
}

/// A read error mapped to what the client is told (conventions.md limits), or ok to close
/// without answering (the client went away, or idled out between requests).
errc answer_for(error_code const& ec) {
    if (ec == http::error::body_limit) return errc::request_too_large;
    if (ec == http::error::header_limit) return errc::header_too_large;
    if (ec == beast::error::timeout) return errc::request_timeout;
    if (ec == http::error::end_of_stream || ec == http::error::partial_message ||
        ec == net::error::eof || ec == net::error::connection_reset ||
        ec == net::error::operation_aborted)
        return errc::ok;
    return errc::bad_request;
}

/// After an error answer the rest of the request is unread: half-close and drain briefly so
/// that the client reads our answer instead of a reset (lingering close, as nginx does).
template <class Stream>
task<void> linger_close(Stream& stream, util::deadline_set::watch& deadline,
                        beast::flat_buffer& buf) {
    auto& socket = lowest(stream);
    error_code ignored;
    socket.shutdown(tcp::socket::shutdown_send, ignored);
    deadline.expires_after(std::chrono::seconds(2)); // nginx lingers up to 5 s
    for (int i = 0; i < 64; ++i) {
        buf.consume(buf.size());
        auto [ec, n] = co_await stream.async_read_some(buf.prepare(16 * 1024), use_nothrow);
        if (ec) break;
        buf.commit(n);
    }
    socket.close(ignored);
}

/// What the access log keeps of a request; taken before the engine consumes it.
struct request_summary {
    std::string method;
    std::string path; // without the query, which may carry secrets
    std::string request_id;
};

request_summary summarise(request const& req, std::string id) {
    auto const target = req.target();
    return {std::string(req.method_string()), std::string(target.substr(0, target.find('?'))),
            std::move(id)};
}

void access_log(request_summary const& r, engine::handled const& h,
                engine::route_table const& routes, std::chrono::microseconds us) {
    nlohmann::json fields{{"method", r.method},
                          {"path", r.path},
                          {"status", h.res.result_int()},
                          {"outcome", name_of(h.result)},
                          {"key", h.key},
                          {"request_id", r.request_id},
                          {"duration_ms", static_cast<double>(us.count()) / 1000.0},
                          {"upstream_ms", static_cast<double>(h.upstream_time.count()) / 1000.0}};
    if (h.unprotected != engine::passthrough_reason::none)
        fields["unprotected"] = engine::name_of(h.unprotected);
    if (h.route != 0) fields["route"] = routes.at(h.route).label; // a routes[] policy applied
    log::info("access", std::move(fields));
}

double seconds_since(steady_clock::time_point t0) {
    return std::chrono::duration<double>(steady_clock::now() - t0).count();
}

/// Reserves a body's Content-Length in the process-wide budget before reading it, so that
/// memory is refused rather than taken. A length over max_request_body is left to its 413;
/// a chunked body is counted once read (run_session), bounded by max_request_body.
errc reserve_body(request_parser const& parser, config::limits_config const& lim,
                  util::held_bytes& held) {
    auto const length = parser.content_length();
    if (!length || *length > lim.max_request_body.bytes) return errc::ok;
    return held.try_hold(*length, lim.max_buffered_bytes.bytes) ? errc::ok : errc::overloaded;
}

/// Reads one request under the limits. On failure `err` says what to answer (ok: close).
/// A timeout cancels the read without closing the socket, so that a 408 can still be written.
template <class Stream>
task<std::optional<request>> read_request(Stream& socket, util::deadline_set::watch& deadline,
                                          beast::flat_buffer& buf, session_context const& ctx,
                                          errc& err, util::held_bytes& held) {
    auto const& cfg = ctx.cfg;
    request_parser parser;
    limit_parser(parser, cfg.limits);
    deadline.expires_after(cfg.timeouts.request_headers);
    auto [hec, hn] = co_await http::async_read_header(socket, buf, parser, use_nothrow);
    if (hec) {
        err = deadline.fired() ? errc::request_timeout : answer_for(hec);
        co_return std::nullopt;
    }
    deadline.expires_never();
    head_fields head;
    if ((err = accept_head(parser, ctx.rules, head)) != errc::ok) co_return std::nullopt;
    if ((err = reserve_body(parser, cfg.limits, held)) != errc::ok) co_return std::nullopt;
    if (beast::iequals(parser.get()[http::field::expect], "100-continue")) {
        http::response<http::empty_body> cont{http::status::continue_, 11};
        deadline.expires_after(cfg.timeouts.idle);
        auto [cec, cn] = co_await http::async_write(socket, cont, use_nothrow);
        if (cec) co_return std::nullopt;
    }
    if (!parser.is_done()) {
        deadline.expires_after(cfg.timeouts.idle);
        auto [bec, bn] = co_await http::async_read(socket, buf, parser, use_nothrow);
        if (bec) {
            err = deadline.fired() ? errc::request_timeout : answer_for(bec);
            co_return std::nullopt;
        }
    }
    deadline.expires_never(); // the engine's time is bounded by its own timeouts
    co_return take_request(parser, head);
}

/// Whether the client closed or reset its connection while its request is handled. Bytes
/// of a pipelined next request mean it is still there. One non-blocking peek. Over TLS the
/// peek sees records, not requests: a close_notify alert reads as "still there" and only the
/// TCP close tells (which follows it from every client we know).
bool peer_gone(tcp_socket& socket) {
    char byte = 0;
    auto const n = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

/// Waits for the first byte of a next request (idle keep-alive). False: close quietly.
template <class Stream>
task<bool> await_next(Stream& socket, util::deadline_set::watch& deadline, beast::flat_buffer& buf,
                      config::config const& cfg) {
    if (buf.size() > 0) co_return true; // pipelined bytes already here
    deadline.expires_after(cfg.timeouts.idle);
    auto [ec, n] = co_await socket.async_read_some(buf.prepare(4096), use_nothrow);
    buf.commit(n);
    co_return !ec && n > 0;
}

/// The server side of the TLS handshake, bounded like a request head (timeouts
/// .request_headers): a client that opens connections and sends nothing, or a ClientHello a
/// byte at a time, holds a connection slot that long at most. Failures are counted, logged at
/// debug (a port scan is not an error), and close the connection.
task<bool> handshake(tls_stream& stream, util::deadline_set::watch& deadline,
                     session_context const& ctx, std::string const& peer) {
    deadline.expires_after(ctx.cfg.timeouts.request_headers);
    // The stream's default token (use_nothrow): with an explicit one this call would pick
    // the buffered-handshake overload, taking the token for a buffer sequence.
    auto [ec] = co_await stream.async_handshake(net::ssl::stream_base::server);
    deadline.expires_never();
    if (!ec) co_return true;
    bool const timeout = deadline.fired();
    // A drain cancels handshakes in progress (close_idle): not the client's failure.
    if (ctx.closing.load(std::memory_order_relaxed) && !timeout) co_return false;
    ctx.stats.tls_handshake_failed(timeout);
    if (log::enabled(spdlog::level::debug))
        log::event(spdlog::level::debug, "tls handshake failed",
                   {{"peer", peer}, {"error", timeout ? std::string("timeout") : ec.message()}});
    co_return false;
}

template <class Stream>
task<void> serve(Stream& stream, session_context& ctx) {
    auto const& cfg = ctx.cfg;
    auto& socket = lowest(stream); // the deadline and a drain cancel its operations
    auto const handle = ctx.registry.add(&socket);
    auto deadline = ctx.deadlines.add(socket);
    error_code ignored;
    socket.non_blocking(true, ignored); // responses are written at once when they fit
    ctx.stats.connection_opened();
    auto const peer = socket.remote_endpoint(ignored).address().to_string();
    if constexpr (std::is_same_v<Stream, tls_stream>) {
        if (!co_await handshake(stream, deadline, ctx, peer)) {
            socket.close(ignored);
            ctx.registry.remove(handle);
            ctx.stats.connection_closed();
            co_return;
        }
    }
    // Bounded, so that a chunk line without its CRLF cannot grow it (request_reader.hpp).
    beast::flat_buffer buf(read_buffer_limit(cfg.limits));
    std::string head; // the response head being written, reused across requests
    for (;;) {
        handle->busy = false;
        if (ctx.closing.load(std::memory_order_relaxed)) break;
        if (!co_await await_next(stream, deadline, buf, cfg)) break;
        handle->busy = true;
        auto const t0 = steady_clock::now();
        errc err = errc::ok;
        util::held_bytes held(ctx.limits); // this request's body, then its response's
        util::inflight_slot slot(ctx.limits);
        auto req = co_await read_request(stream, deadline, buf, ctx, err, held);
        if (req && !slot.enter(cfg.limits.max_inflight)) {
            req.reset(); // read, but not handled: 503 and close, as for the budget
            err = errc::overloaded;
        }
        if (!req) {
            if (err == errc::ok) break;
            auto res = http_errors::make(err, 11, false);
            ctx.stats.http_failure(err);
            // Refused before its path could be read for certain: the global policy's route.
            ctx.stats.request(0, outcome::rejected, seconds_since(t0));
            if (cfg.log.access_log && log::enabled(spdlog::level::info))
                log::info("access", {{"status", res.result_int()},
                                     {"outcome", "rejected"},
                                     {"error", info_of(err).code},
                                     {"duration_ms", seconds_since(t0) * 1000.0}});
            deadline.expires_after(cfg.timeouts.write);
            co_await wire::async_write(stream, res, head);
            handle->busy = false; // lingering owes nothing: a drain may cut it short
            co_await linger_close(stream, deadline, buf);
            break;
        }
        if (req->body().size() > held.held()) held.hold(req->body().size() - held.held());
        auto id = ensure_request_id(*req);
        auto summary = summarise(*req, id);
        auto h =
            co_await ctx.eng.handle(std::move(*req), peer, [&socket] { return peer_gone(socket); });
        bool const keep = h.res.keep_alive() && !ctx.closing.load(std::memory_order_relaxed);
        h.res.keep_alive(keep);
        h.res.set("X-Request-Id", summary.request_id);
        auto const took =
            std::chrono::duration_cast<std::chrono::microseconds>(steady_clock::now() - t0);
        ctx.stats.request(h.route, h.result, static_cast<double>(took.count()) / 1e6);
        if (cfg.log.access_log && log::enabled(spdlog::level::info))
            access_log(summary, h, ctx.eng.routes(), took);
        held.release(); // the request body is gone with the request; the response's is held
        held.hold(h.res.body().size());
        // A client that reads slower than this is cut, and the bytes it held freed.
        deadline.expires_after(cfg.timeouts.write);
        auto [wec, wn] = co_await wire::async_write(stream, h.res, head);
        if (wec || !keep) break;
    }
    // Over TLS too a bare FIN, no close_notify: HTTP/1.1 framing already tells where each
    // response ends, and a TLS shutdown would wait for the peer's alert for nothing.
    socket.shutdown(tcp::socket::shutdown_send, ignored);
    ctx.registry.remove(handle);
    ctx.stats.connection_closed();
}

} // namespace

task<void> run_session(tcp_socket socket, session_context& ctx) {
    if (ctx.tls == nullptr) {
        co_await serve(socket, ctx);
        co_return;
    }
    // Held by this connection for its life: a reload swaps the listener's pointer, not this.
    auto const tls = ctx.tls->current();
    tls_stream stream(std::move(socket), *tls);
    co_await serve(stream, ctx);
}

} // namespace idemgate::server
