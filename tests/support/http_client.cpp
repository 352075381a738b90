#include "support/http_client.hpp"

#include <boost/asio/ip/address_v4.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>

#include <array>
#include <cctype>

namespace idemgate::test {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using error_code = boost::system::error_code;

namespace {

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(a[i])) !=
            std::tolower(static_cast<unsigned char>(b[i])))
            return false;
    }
    return true;
}

bool has_framing(header_list const& headers) {
    return count_header(headers, "Content-Length") + count_header(headers, "Transfer-Encoding") > 0;
}

/// Serialises a request by hand so that tests control every byte (order, duplicates, case).
std::string serialise(http_request const& req, std::uint16_t port) {
    std::string out = req.method + " " + req.target + " HTTP/1.1\r\n";
    if (count_header(req.headers, "Host") == 0) {
        out += "Host: 127.0.0.1:" + std::to_string(port) + "\r\n";
    }
    for (auto const& [name, value] : req.headers) out += name + ": " + value + "\r\n";
    bool const body_method = req.method == "POST" || req.method == "PUT" || req.method == "PATCH";
    if (!has_framing(req.headers) && (body_method || !req.body.empty())) {
        out += "Content-Length: " + std::to_string(req.body.size()) + "\r\n";
    }
    out += "\r\n";
    out += req.body;
    return out;
}

} // namespace

std::string find_header(header_list const& headers, std::string_view name) {
    for (auto const& [n, v] : headers) {
        if (iequals(n, name)) return v;
    }
    return {};
}

std::size_t count_header(header_list const& headers, std::string_view name) {
    std::size_t n = 0;
    for (auto const& field : headers) n += iequals(field.first, name) ? 1U : 0U;
    return n;
}

http_client::http_client(std::uint16_t port) : http_client(port, options{}) {}

http_client::http_client(std::uint16_t port, options opt) : port_(port), opt_(opt), stream_(ioc_) {}

http_client::~http_client() {
    close();
}

void http_client::close() noexcept {
    error_code ignored;
    stream_.socket().shutdown(net::ip::tcp::socket::shutdown_both, ignored);
    stream_.socket().close(ignored);
    buffer_.clear();
    connected_ = false;
}

void http_client::run_until_done() {
    // Every operation carries the stream's expiry, so run() returns within opt_.timeout.
    ioc_.restart();
    ioc_.run();
}

error_code http_client::ensure_connected() {
    if (connected_) return {};
    close();
    error_code result = net::error::would_block;
    stream_.expires_after(opt_.timeout);
    net::ip::tcp::endpoint const ep{net::ip::address_v4::loopback(), port_};
    stream_.async_connect(ep, [&result](error_code ec) { result = ec; });
    run_until_done();
    if (!result) {
        connected_ = true;
        ++connections_;
    }
    return result;
}

error_code http_client::write_all(std::string_view bytes) {
    error_code result = net::error::would_block;
    stream_.expires_after(opt_.timeout);
    net::async_write(stream_, net::buffer(bytes.data(), bytes.size()),
                     [&result](error_code ec, std::size_t) { result = ec; });
    run_until_done();
    return result;
}

http_response http_client::read_response(bool head_response) {
    http::response_parser<http::string_body> parser;
    parser.body_limit(std::uint64_t{512} * 1024 * 1024);
    parser.header_limit(1024 * 1024);
    parser.skip(head_response);
    error_code result = net::error::would_block;
    stream_.expires_after(opt_.timeout);
    http::async_read(stream_, buffer_, parser,
                     [&result](error_code ec, std::size_t) { result = ec; });
    run_until_done();
    http_response out;
    if (result) {
        out.error = "read: " + result.message();
        close();
        return out;
    }
    auto const& msg = parser.get();
    out.status = msg.result_int();
    for (auto const& field : msg) {
        out.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    out.body = msg.body();
    if (!msg.keep_alive() || !opt_.keep_alive) close();
    return out;
}

http_response http_client::send_raw(std::string_view bytes, bool head_response) {
    if (auto ec = ensure_connected()) {
        http_response out;
        out.error = "connect: " + ec.message();
        return out;
    }
    // A server may answer and close before reading everything (413, 431): a failed write
    // still leaves its response to be read, so read regardless.
    error_code const wec = write_all(bytes);
    http_response out = read_response(head_response);
    if (out.status == 0 && wec) out.error += " (after write: " + wec.message() + ")";
    return out;
}

http_response http_client::send(http_request const& req) {
    return send_raw(serialise(req, port_), req.method == "HEAD");
}

bool http_client::peer_closed(std::chrono::milliseconds wait) {
    if (!connected_) return true;
    if (buffer_.size() != 0) return false; // bytes of another response are already here
    std::array<char, 256> scratch{};
    error_code result = net::error::would_block;
    std::size_t got = 0;
    stream_.expires_after(wait);
    stream_.async_read_some(net::buffer(scratch), [&](error_code ec, std::size_t n) {
        result = ec;
        got = n;
    });
    run_until_done();
    bool const closed = result == net::error::eof || result == net::error::connection_reset;
    if (closed || result == beast::error::timeout) close();
    return closed && got == 0;
}

http_response send_request(std::uint16_t port, http_request const& req) {
    http_client client(port);
    return client.send(req);
}

} // namespace idemgate::test
