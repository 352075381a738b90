#include "idemgate/redis/connection.hpp"
#include "idemgate/log/log.hpp"

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

struct connection::pending {
    pending(net::any_io_executor const& ex, command c) : cmd(std::move(c)), timer(ex) {}

    /// Sets the outcome once and wakes the caller; ignored after the caller gave up.
    void finish(result<reply> r) {
        if (abandoned || outcome) return;
        outcome.emplace(std::move(r));
        timer.cancel();
    }

    command cmd;
    steady_timer timer; // the caller's deadline; cancelled when the outcome is set
    std::optional<result<reply>> outcome;
    bool abandoned = false;  // the caller timed out: drop the reply when it comes
    time_point written_at{}; // when it joined written_ (epoch: not written)
};

connection::connection(net::any_io_executor const& ex, std::shared_ptr<connection_config const> cfg)
    : ex_(ex), cfg_(std::move(cfg)), port_(std::to_string(cfg_->url.port)), resolver_(ex),
      writer_wake_(ex), backoff_timer_(ex), read_buf_(read_chunk) {}

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
    fail_all();
}

task<result<reply>> connection::execute(command cmd, time_point deadline) {
    if (!cmd.valid() || stopped_ || link() == link_state::down) co_return unavailable();
    auto const self = shared_from_this();
    auto const started = std::chrono::steady_clock::now();
    auto const p = std::make_shared<pending>(ex_, std::move(cmd));
    p->timer.expires_at(deadline);
    queued_.push_back(p);
    writer_wake_.cancel();
    co_await p->timer.async_wait();
    // Decide on the outcome, not on the wait's error: a reply may land after the timer fired
    // but before this coroutine resumed.
    if (p->outcome) co_return std::move(*p->outcome);
    p->abandoned = true;
    std::erase(queued_, p); // never written: it will not be
    if (p->written_at != time_point{}) give_up_if_silent(deadline - started);
    co_return unavailable();
}

void connection::give_up_if_silent(std::chrono::steady_clock::duration timeout) {
    // A peer gone without a reset (host lost, a firewall or a stale NAT entry dropping the
    // packets) leaves the socket open for TCP's whole retransmission timeout, ~15 minutes, and
    // every call on it would time out meanwhile. A late reply is fine (it is read and
    // dropped), but when the oldest unanswered command has waited two command timeouts the
    // connection is made again; its unanswered commands fail and are never resent.
    if (!session_open_ || written_.empty()) return;
    if (std::chrono::steady_clock::now() - written_.front()->written_at < 2 * timeout) return;
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
            fail_all();
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
    parser_.reset();
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
    fail_all();
}

void connection::fail_all() {
    // Written but unanswered: the command may have run, so it fails and is never resent.
    auto written = std::move(written_);
    auto queued = std::move(queued_);
    written_.clear();
    queued_.clear();
    for (auto const& p : written) p->finish(unavailable());
    for (auto const& p : queued) p->finish(unavailable());
}

task<void> connection::read_loop() {
    while (session_open_) {
        auto [ec, n] = co_await read_some();
        if (!session_open_) co_return;
        if (ec) {
            close_session(ec);
            co_return;
        }
        if (!deliver(n)) {
            log::error("redis protocol error",
                       {{"endpoint", endpoint_of(cfg_->url)}, {"error", parser_.error()}});
            close_session(protocol_error());
            co_return;
        }
    }
}

bool connection::deliver(std::size_t n) {
    if (!parser_.feed(std::string_view(read_buf_.data(), n))) return false;
    while (auto r = parser_.next()) {
        if (written_.empty()) return false; // a reply no command asked for: out of sync
        auto const p = std::move(written_.front());
        written_.pop_front();
        p->finish(std::move(*r)); // dropped when its caller already timed out
    }
    return !parser_.failed();
}

task<void> connection::write_loop() {
    while (session_open_) {
        if (queued_.empty()) {
            writer_wake_.expires_at(time_point::max());
            co_await writer_wake_.async_wait(); // cancelled by execute(), stop() or a drop
            continue;
        }
        // Coalesce every queued command into one write (pipelining); they join the reply
        // queue before the write so no reply can arrive ahead of its request.
        write_buf_.clear();
        auto const now = std::chrono::steady_clock::now();
        for (auto& p : queued_) {
            write_buf_.append(p->cmd.bytes());
            p->cmd = command{};
            p->written_at = now;
            written_.push_back(std::move(p));
        }
        queued_.clear();
        auto [ec, n] = co_await write_all(write_buf_);
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
