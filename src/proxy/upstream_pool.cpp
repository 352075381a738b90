#include "idemgate/proxy/upstream_pool.hpp"

#include "idemgate/error.hpp"
#include "idemgate/http/wire.hpp"
#include "idemgate/log/log.hpp"
#include "idemgate/proxy/forward.hpp"
#include "idemgate/proxy/response_reader.hpp"

#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <sys/socket.h>

#include <chrono>
#include <exception>
#include <tuple>
#include <variant>

namespace idemgate::proxy {

using plain_stream = tcp::socket;
using tls_stream = beast::ssl_stream<tcp::socket>;

class upstream_connection {
public:
    upstream_connection(plain_stream s, util::deadline_set& deadlines)
        : stream_(std::move(s)), deadline_(deadlines.add(lowest())) {}
    upstream_connection(plain_stream s, net::ssl::context& ctx, util::deadline_set& deadlines)
        : stream_(std::in_place_type<tls_stream>, std::move(s), ctx),
          deadline_(deadlines.add(lowest())) {}
    // The deadline watches this object's socket by address: it never moves.
    upstream_connection(upstream_connection&&) = delete;
    upstream_connection& operator=(upstream_connection&&) = delete;

    std::variant<plain_stream, tls_stream>& stream() { return stream_; }
    beast::flat_buffer& buffer() { return buffer_; }
    std::string& head() { return head_; }
    util::deadline_set::watch& deadline() { return deadline_; }
    plain_stream& lowest() {
        if (auto* p = std::get_if<plain_stream>(&stream_)) return *p;
        return std::get<tls_stream>(stream_).next_layer();
    }

    /// A pooled connection the upstream closed while idle shows as readable with EOF (or
    /// with unexpected bytes); reusing it would turn a clean retry into an unknown outcome.
    /// Bytes that arrived while idle belong to no request: the next one would read them as
    /// its answer (contract §7). The buffer is checked too, though a connection with bytes
    /// left in it is never pooled (response_reader.hpp).
    bool looks_alive() {
        if (buffer_.size() != 0) return false;
        if (auto* t = std::get_if<tls_stream>(&stream_)) {
            // Over TLS, bytes past a response can sit inside OpenSSL (the rest of a record
            // read in part, or records not yet decrypted) where no socket peek sees them.
            SSL* const ssl = t->native_handle();
            if (SSL_has_pending(ssl) != 0 || BIO_ctrl_pending(SSL_get_rbio(ssl)) != 0) return false;
        }
        char c;
        auto const n = ::recv(lowest().native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
        return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
    }

private:
    std::variant<plain_stream, tls_stream> stream_;
    beast::flat_buffer buffer_{max_response_head}; // bounds chunk lines and trailers too
    std::string head_;                             // the request head being written
    util::deadline_set::watch deadline_;
};

namespace {

/// A sent request's failure (contract §3: outcome unknown either way).
errc failure_of(upstream_connection& conn) {
    return conn.deadline().fired() ? errc::upstream_timeout : errc::upstream_failed;
}

std::int64_t steady_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

/// One request/response on an open connection. The caller owns `req` and `conn`.
template <class Stream>
task<upstream_result> exchange(Stream& s, upstream_connection& conn, request const& req,
                               config::upstream_config const& cfg) {
    upstream_result out;
    auto [wec, wn] = co_await wire::async_write(s, req, conn.head());
    if (wec) {
        // Some bytes may have left: the outcome is unknown (contract §3).
        out.cause = wec;
        out.failure = failure_of(conn);
        co_return out;
    }
    auto r = co_await read_response(s, conn.buffer(), req.method() == http::verb::head,
                                    cfg.max_response_body.bytes);
    if (r.ec) {
        // Sent, and no usable answer (malformed, 101, reset): outcome unknown (contract §3).
        out.cause = r.ec;
        out.failure = failure_of(conn);
        co_return out;
    }
    out.res = std::move(r.res);
    drop_connection_fields(out.res); // once, for the client and the store alike
    out.reusable = r.reusable;
    co_return out;
}

} // namespace

upstream_pool::upstream_pool(net::any_io_executor ex, upstream_target target,
                             config::upstream_config const& cfg, net::ssl::context* tls,
                             util::deadline_set& deadlines)
    : ex_(std::move(ex)), target_(std::move(target)), cfg_(cfg), tls_(tls), deadlines_(deadlines) {}

upstream_pool::~upstream_pool() = default;

std::unique_ptr<upstream_connection> upstream_pool::take_idle() {
    while (!idle_.empty()) {
        auto c = std::move(idle_.back());
        idle_.pop_back();
        if (c->looks_alive()) return c;
    }
    return nullptr;
}

task<std::unique_ptr<upstream_connection>> upstream_pool::connect(error_code& ec) {
    tcp::resolver resolver(ex_);
    auto [rec, endpoints] =
        co_await resolver.async_resolve(target_.host, target_.port, use_nothrow);
    if (rec) {
        ec = rec;
        co_return nullptr;
    }
    // The connect deadline covers the TLS handshake too.
    auto conn = tls_ ? std::make_unique<upstream_connection>(plain_stream(ex_), *tls_, deadlines_)
                     : std::make_unique<upstream_connection>(plain_stream(ex_), deadlines_);
    conn->deadline().expires_after(cfg_.connect_timeout);
    error_code cec = net::error::host_not_found;
    for (auto const& e : endpoints) { // in turn, all under the one deadline
        if (conn->deadline().fired()) break;
        error_code ignored;
        conn->lowest().close(ignored);
        std::tie(cec) = co_await conn->lowest().async_connect(e.endpoint(), use_nothrow);
        if (!cec) break;
    }
    if (cec) {
        ec = conn->deadline().fired() ? make_error_code(net::error::timed_out) : cec;
        co_return nullptr;
    }
    conn->lowest().set_option(tcp::no_delay(true), ec);
    if (!tls_) {
        conn->lowest().non_blocking(true, ec); // requests are written at once when they fit
        co_return conn;
    }

    auto& tls = std::get<tls_stream>(conn->stream());
    if (!SSL_set_tlsext_host_name(tls.native_handle(), target_.host.c_str())) {
        ec = error_code(static_cast<int>(::ERR_get_error()), net::error::get_ssl_category());
        co_return nullptr;
    }
    tls.set_verify_callback(net::ssl::host_name_verification(target_.host));
    auto [hec] = co_await tls.async_handshake(net::ssl::stream_base::client, use_nothrow);
    if (hec) {
        ec = conn->deadline().fired() ? make_error_code(net::error::timed_out) : hec;
        co_return nullptr;
    }
    co_return conn;
}

task<upstream_result> upstream_pool::send(request const& req) {
    auto conn = take_idle();
    if (!conn) {
        error_code ec;
        try {
            conn = co_await connect(ec);
        } catch (std::exception const& e) { // e.g. a TLS setup call that throws
            log::error("upstream connect failed", {{"error", e.what()}});
            ec = errc::upstream_unavailable;
            conn = nullptr;
        }
        if (!conn) {
            last_down_ms_.store(steady_ms(), std::memory_order_relaxed);
            upstream_result out; // nothing was sent (contract §3)
            out.cause = ec;
            out.failure = errc::upstream_unavailable;
            co_return out;
        }
    }
    conn->deadline().expires_after(cfg_.timeout);
    upstream_result out;
    try {
        if (auto* p = std::get_if<plain_stream>(&conn->stream()))
            out = co_await exchange(*p, *conn, req, cfg_);
        else
            out = co_await exchange(std::get<tls_stream>(conn->stream()), *conn, req, cfg_);
    } catch (std::exception const& e) {
        // Inputs are bounded so that nothing the upstream sends throws; should something
        // still reach this frame, fail this exchange (sent: outcome unknown) and drop its
        // connection rather than end the process (contract §7).
        log::error("upstream exchange failed", {{"error", e.what()}});
        out = upstream_result{};
        out.failure = errc::upstream_failed;
    }
    if (out.ok()) last_ok_ms_.store(steady_ms(), std::memory_order_relaxed);
    // Only a connection whose response ended exactly at the last byte read goes back. No
    // peek here: bytes still on their way would show no better now than when the
    // connection is taken again, and take_idle() peeks then (one recv per reuse).
    if (out.ok() && out.reusable && idle_.size() < cfg_.pool_size) {
        conn->deadline().expires_never();
        idle_.push_back(std::move(conn));
    }
    co_return out;
}

bool upstream_pool::usable() const noexcept {
    auto const down = last_down_ms_.load(std::memory_order_relaxed);
    if (down == 0 || down <= last_ok_ms_.load(std::memory_order_relaxed)) return true;
    // A connect attempt takes up to connect_timeout: one more after that long may succeed.
    auto const hold = std::chrono::duration_cast<std::chrono::milliseconds>(cfg_.connect_timeout);
    return steady_ms() - down > hold.count();
}

} // namespace idemgate::proxy
