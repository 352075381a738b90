#include "idemgate/redis/connection.hpp"
#include "idemgate/log/log.hpp"
#include "idemgate/util/deadlines.hpp"

#include "idemgate/error.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <exception>
#include <openssl/ssl.h>

namespace idemgate::redis {

namespace {

constexpr std::size_t read_chunk = 64 * 1024;

error_code unavailable() noexcept {
    return make_error_code(errc::store_unavailable);
}

error_code protocol_error() noexcept {
    return make_error_code(boost::system::errc::protocol_error);
}

void log_spawn_failure(std::exception_ptr const& e) {
    if (!e) return;
    try {
        std::rethrow_exception(e);
    } catch (std::exception const& ex) {
        log::error("redis connection loop ended", {{"error", ex.what()}});
    } catch (...) {
        log::error("redis connection loop ended by an unknown exception");
    }
}

} // namespace

/// One caller of execute(): the pipeline settles it, which wakes the caller. The wake is a
/// timer that never expires on its own: Asio keeps such timers out of its timer heap, so
/// waiting on one arms no kernel timer.
class connection::call final : public pipeline::waiter {
public:
    call(net::any_io_executor const& ex, pipeline& pipe)
        : wake(ex, time_point::max()), pipe_(&pipe) {}
    call(call const&) = delete;
    call& operator=(call const&) = delete;
    /// A caller's frame destroyed while waiting (its io_context shut down) must not stay
    /// known to the pipeline.
    ~call() {
        if (!outcome) pipe_->withdraw(*this);
    }

    void settle(pipeline::outcome r) noexcept override {
        outcome.emplace(std::move(r));
        wake.cancel();
    }

    steady_timer wake; // cancelled when the outcome is set
    std::optional<pipeline::outcome> outcome;

private:
    pipeline* pipe_;
};

connection::connection(net::any_io_executor const& ex, std::shared_ptr<connection_config const> cfg)
    : ex_(ex), cfg_(std::move(cfg)), port_(std::to_string(cfg_->url.port)), resolver_(ex),
      writer_wake_(ex), backoff_timer_(ex), expiry_timer_(ex), read_buf_(read_chunk) {}

void connection::start() {
    if (started_) return;
    started_ = true;
    net::co_spawn(ex_, run(), log_spawn_failure);
}

void connection::stop() {
    if (stopped_) return;
    stopped_ = true;
    session_open_ = false;
    link_.store(link_state::down, std::memory_order_relaxed);
    resolver_.cancel();
    close_stream();
    writer_wake_.cancel();
    backoff_timer_.cancel();
    expiry_timer_.cancel();
    pipe_.fail_all(unavailable());
}

task<result<reply>> connection::execute(command cmd, time_point deadline) {
    if (!cmd.valid() || stopped_ || link() == link_state::down) co_return unavailable();
    auto const self = shared_from_this();
    auto const now = std::chrono::steady_clock::now();
    call c(ex_, pipe_);
    pipe_.push(std::move(cmd), now, deadline, c);
    writer_wake_.cancel();
    // Coarse deadlines, like the HTTP sockets': one timer per connection, not one per command,
    // sees them at most a tick late (an eighth of the shortest timeout, 5-100 ms).
    tick_ =
        std::min(tick_, util::deadline_set::tick_for(
                            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now)));
    if (!expiring_) {
        expiring_ = true;
        net::co_spawn(ex_, expiry_loop(), log_spawn_failure);
    } else if (deadline < expiry_at_ - tick_) {
        expiry_timer_.cancel(); // set for later than this deadline allows
    }
    co_await c.wake.async_wait();
    if (!c.outcome) {
        pipe_.withdraw(c); // the wait was cancelled from outside (e.g. a parallel group)
        co_return unavailable();
    }
    if (!*c.outcome) co_return unavailable();
    co_return std::move(**c.outcome);
}

task<void> connection::expiry_loop() {
    auto const self = shared_from_this();
    while (!stopped_) {
        auto const now = std::chrono::steady_clock::now();
        expire(now);
        // Deadlines less than a tick apart are seen together.
        auto const next = pipe_.next_deadline();
        expiry_at_ = next == time_point::max() ? next : std::max(next, now + tick_);
        expiry_timer_.expires_at(expiry_at_);
        co_await expiry_timer_.async_wait(); // cancelled by an earlier deadline, or stop()
    }
    expiring_ = false;
}

void connection::expire(time_point now) {
    // A peer gone without a reset (host lost, a firewall or a stale NAT entry dropping the
    // packets) leaves the socket open for TCP's whole retransmission timeout, ~15 minutes, and
    // every call on it would time out meanwhile. A late reply is fine (it is read and
    // dropped), but when the pipeline calls the peer silent the connection is made again; its
    // unanswered commands fail and are never resent.
    if (pipe_.expire(now).peer_silent)
        close_session(make_error_code(boost::system::errc::timed_out));
}

task<void> connection::run() {
    using namespace net::experimental::awaitable_operators;
    auto const self = shared_from_this();
    auto backoff = cfg_->backoff_min;
    while (!stopped_) {
        auto const ec = co_await open();
        if (stopped_) break;
        if (!ec) {
            if (warned_) log::info("redis connected again", {{"endpoint", endpoint_of(cfg_->url)}});
            warned_ = false;
            backoff = cfg_->backoff_min;
            session_open_ = true;
            link_.store(link_state::up, std::memory_order_relaxed);
            co_await (read_loop() && write_loop());
        } else {
            link_.store(link_state::down, std::memory_order_relaxed);
            close_stream(); // e.g. AUTH refused: do not hold the socket through the backoff
            pipe_.fail_all(unavailable());
            if (!warned_) {
                log::warn("redis cannot connect; retrying in the background",
                          {{"endpoint", endpoint_of(cfg_->url)}, {"error", ec.message()}});
            }
            warned_ = true;
        }
        if (stopped_) break;
        backoff_timer_.expires_after(backoff);
        co_await backoff_timer_.async_wait();
        backoff = std::min(backoff * 2, cfg_->backoff_max);
    }
    close_stream();
}

task<error_code> connection::open() {
    close_stream();
    tls_.reset();
    tcp_.reset();
    pipe_.reset_stream();
    auto [rec, endpoints] = co_await resolver_.async_resolve(cfg_->url.host, port_, use_nothrow);
    if (rec || stopped_) co_return rec ? rec : unavailable();
    if (cfg_->url.tls) {
        tls_.emplace(ex_, *cfg_->tls);
    } else {
        tcp_.emplace(ex_);
    }
    auto& low = lowest();
    low.expires_after(cfg_->connect_timeout);
    auto [cec, ep] = co_await low.async_connect(endpoints, use_nothrow);
    if (cec) co_return cec;
    error_code ignored;
    low.socket().set_option(tcp::no_delay(true), ignored); // pipelined small writes
    low.socket().non_blocking(true, ignored);              // write_all writes at once what fits
    if (tls_) {
        prepare_tls();
        auto [hec] = co_await tls_->async_handshake(net::ssl::stream_base::client, use_nothrow);
        if (hec) co_return hec;
    }
    auto const hec = co_await handshake();
    low.expires_never();
    co_return hec;
}

void connection::prepare_tls() {
    auto const& host = cfg_->url.host;
    error_code not_ip;
    (void)net::ip::make_address(host, not_ip);
    // SNI carries host names only (RFC 6066 §3).
    if (not_ip) ::SSL_set_tlsext_host_name(tls_->native_handle(), host.c_str());
    // The certificate must name the URL's host (DNS or IP SAN), unless verification is off.
    if ((::SSL_CTX_get_verify_mode(cfg_->tls->native_handle()) & SSL_VERIFY_PEER) != 0) {
        tls_->set_verify_callback(net::ssl::host_name_verification(host));
    }
}

beast::tcp_stream& connection::lowest() {
    return tls_ ? beast::get_lowest_layer(*tls_) : *tcp_;
}

void connection::close_stream() noexcept {
    if (!tls_ && !tcp_) return;
    lowest().close();
}

void connection::close_session(error_code ec) {
    if (!session_open_) return;
    session_open_ = false;
    if (!stopped_) {
        link_.store(link_state::down, std::memory_order_relaxed);
        log::warn("redis connection lost; reconnecting in the background",
                  {{"endpoint", endpoint_of(cfg_->url)}, {"error", ec.message()}});
        warned_ = true;
    }
    close_stream();
    writer_wake_.cancel();
    // Written but unanswered: the command may have run, so it fails and is never resent.
    pipe_.fail_all(unavailable());
}

task<void> connection::read_loop() {
    while (session_open_) {
        auto [ec, n] = co_await read_some();
        if (!session_open_) co_return;
        if (ec) {
            close_session(ec);
            co_return;
        }
        if (!pipe_.consume(std::string_view(read_buf_.data(), n))) {
            log::error("redis protocol error",
                       {{"endpoint", endpoint_of(cfg_->url)}, {"error", pipe_.error()}});
            close_session(protocol_error());
            co_return;
        }
    }
}

task<void> connection::write_loop() {
    while (session_open_) {
        if (!pipe_.has_queued()) {
            writer_wake_.expires_at(time_point::max());
            co_await writer_wake_.async_wait(); // cancelled by execute(), stop() or a drop
            continue;
        }
        // Every queued command in one write (pipelining).
        auto const bytes = pipe_.next_write(std::chrono::steady_clock::now());
        if (bytes.empty()) continue; // all of them were overdue
        auto [ec, n] = co_await write_all(bytes);
        if (ec) {
            close_session(ec);
            co_return;
        }
        ++writes_;
    }
}

task<std::tuple<error_code, std::size_t>> connection::write_all(std::string_view bytes) {
    if (tls_) co_return co_await net::async_write(*tls_, net::buffer(bytes), use_nothrow);
    // The socket is non-blocking (open()): what the kernel takes at once, usually all of it,
    // needs no asynchronous operation and no reactor pass.
    error_code ec;
    auto const done = tcp_->socket().write_some(net::buffer(bytes), ec);
    if (ec && ec != net::error::would_block) co_return std::tuple{ec, done};
    if (done == bytes.size()) co_return std::tuple{error_code{}, done};
    auto [aec, n] = co_await net::async_write(*tcp_, net::buffer(bytes.substr(done)), use_nothrow);
    co_return std::tuple{aec, done + n};
}

task<std::tuple<error_code, std::size_t>> connection::read_some() {
    auto const buf = net::buffer(read_buf_);
    if (tls_) co_return co_await tls_->async_read_some(buf, use_nothrow);
    co_return co_await tcp_->async_read_some(buf, use_nothrow);
}

} // namespace idemgate::redis
