#include "sentinel_session.hpp"

#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/write.hpp>

#include <openssl/ssl.h>

#include <string>

namespace idemgate::redis {

namespace {

constexpr std::size_t sentinel_read_chunk = 16 * 1024;

} // namespace

sentinel_session::sentinel_session(net::any_io_executor const& ex, sentinel_config const& cfg)
    : ex_(ex), cfg_(cfg), buf_(sentinel_read_chunk) {}

task<result<reply>> sentinel_session::open(node_address const& at, command const& cmd,
                                           time_point deadline) {
    close();
    tls_.reset();
    tcp_.reset();
    parser_.reset();
    if (!cmd.valid()) co_return make_error_code(boost::system::errc::not_enough_memory);
    tcp::resolver resolver(ex_);
    auto [rec, endpoints] =
        co_await resolver.async_resolve(at.host, std::to_string(at.port), use_nothrow);
    if (rec) co_return rec;
    if (cfg_.tls) {
        tls_.emplace(ex_, *cfg_.tls);
    } else {
        tcp_.emplace(ex_);
    }
    auto& low = lowest();
    // One deadline for the whole exchange: a sentinel that accepts and never answers is
    // given up at `deadline` whichever step it stalls.
    low.expires_at(deadline);
    auto [cec, ep] = co_await low.async_connect(endpoints, use_nothrow);
    if (cec) co_return cec;
    error_code ignored;
    low.socket().set_option(tcp::no_delay(true), ignored);
    if (tls_) {
        prepare_tls(at.host);
        auto [hec] = co_await tls_->async_handshake(net::ssl::stream_base::client, use_nothrow);
        if (hec) co_return hec;
    }
    std::string out;
    std::string_view const password = cfg_.password;
    command const auth{"AUTH", password};
    if (!cfg_.password.empty()) out.append(auth.bytes());
    out.append(cmd.bytes());
    if (auto const wec = co_await write(out)) co_return wec;
    if (!cfg_.password.empty()) {
        auto r = co_await read();
        if (!r) co_return r.error();
        if (r->is_error()) co_return make_error_code(boost::system::errc::permission_denied);
    }
    auto r = co_await read();
    if (r) low.expires_never();
    co_return r;
}

task<result<reply>> sentinel_session::read() {
    for (;;) {
        if (auto r = parser_.next()) co_return std::move(*r);
        if (parser_.failed()) co_return make_error_code(boost::system::errc::protocol_error);
        auto [ec, n] = co_await read_some();
        if (ec) co_return ec;
        parser_.feed(std::string_view(buf_.data(), n));
    }
}

task<error_code> sentinel_session::write(std::string_view bytes) {
    if (!tls_ && !tcp_) co_return make_error_code(boost::system::errc::not_connected);
    if (tls_) {
        auto [ec, n] = co_await net::async_write(*tls_, net::buffer(bytes), use_nothrow);
        co_return ec;
    }
    auto [ec, n] = co_await net::async_write(*tcp_, net::buffer(bytes), use_nothrow);
    co_return ec;
}

task<std::tuple<error_code, std::size_t>> sentinel_session::read_some() {
    if (!tls_ && !tcp_) {
        co_return std::tuple{make_error_code(boost::system::errc::not_connected), std::size_t{0}};
    }
    auto const buf = net::buffer(buf_);
    if (tls_) co_return co_await tls_->async_read_some(buf, use_nothrow);
    co_return co_await tcp_->async_read_some(buf, use_nothrow);
}

void sentinel_session::prepare_tls(std::string const& host) {
    error_code not_ip;
    (void)net::ip::make_address(host, not_ip);
    // SNI carries host names only (RFC 6066 §3).
    if (not_ip) ::SSL_set_tlsext_host_name(tls_->native_handle(), host.c_str());
    if ((::SSL_CTX_get_verify_mode(cfg_.tls->native_handle()) & SSL_VERIFY_PEER) != 0) {
        tls_->set_verify_callback(net::ssl::host_name_verification(host));
    }
}

beast::tcp_stream& sentinel_session::lowest() {
    return tls_ ? beast::get_lowest_layer(*tls_) : *tcp_;
}

void sentinel_session::close() noexcept {
    if (!tls_ && !tcp_) return;
    lowest().close();
}

} // namespace idemgate::redis
