#pragma once
// A small blocking HTTP/1.1 client for integration tests: every I/O step is bounded by a
// timeout, connections are reused only when asked, and raw bytes can be sent for malformed
// requests (smuggling, oversized heads).
#include <boost/asio/io_context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace idemgate::test {

/// Header fields in wire order; names keep the case they were sent with.
using header_list = std::vector<std::pair<std::string, std::string>>;

/// First value of `name` (case-insensitive) or "" when absent.
std::string find_header(header_list const& headers, std::string_view name);
/// Number of fields named `name` (case-insensitive).
std::size_t count_header(header_list const& headers, std::string_view name);

/// A request as a test builds it. `Host` is added when missing; `Content-Length` is set
/// from the body unless the method is GET/HEAD with an empty body.
struct http_request {
    std::string method = "GET";
    std::string target = "/";
    header_list headers;
    std::string body;
};

/// What the client read. `status == 0` and a non-empty `error` mean no response was read
/// (connect refused, reset, timeout): tests assert on the status and see the reason.
struct http_response {
    unsigned status = 0;
    header_list headers;
    std::string body;
    std::string error;

    std::string header(std::string_view name) const { return find_header(headers, name); }
    std::size_t count(std::string_view name) const { return count_header(headers, name); }
    bool has(std::string_view name) const { return count(name) != 0; }
};

/// Blocking client bound to one loopback port. Not thread-safe: one client per thread.
class http_client {
public:
    struct options {
        std::chrono::milliseconds timeout{5000}; // bound on connect, each write and each read
        bool keep_alive = false; // false: a fresh connection per request, closed afterwards
    };

    explicit http_client(std::uint16_t port);
    http_client(std::uint16_t port, options opt);
    ~http_client();
    http_client(http_client const&) = delete;
    http_client& operator=(http_client const&) = delete;

    /// Sends one request and reads one response (never throws).
    http_response send(http_request const& req);

    /// Writes `bytes` verbatim on the current (or a new) connection and reads one response.
    /// `head_response`: the response has no body (answer to HEAD).
    http_response send_raw(std::string_view bytes, bool head_response = false);

    /// True when the server closes the connection (EOF or reset) within `wait`; false when
    /// the connection stays open or more bytes arrive.
    bool peer_closed(std::chrono::milliseconds wait = std::chrono::milliseconds{2000});

    /// TCP connections this client has opened so far (keep-alive checks).
    std::size_t connections_opened() const noexcept { return connections_; }

    void close() noexcept;

private:
    boost::system::error_code ensure_connected();
    boost::system::error_code write_all(std::string_view bytes);
    http_response read_response(bool head_response);
    void run_until_done();

    std::uint16_t port_;
    options opt_;
    boost::asio::io_context ioc_;
    boost::beast::tcp_stream stream_;
    boost::beast::flat_buffer buffer_;
    bool connected_ = false;
    std::size_t connections_ = 0;
};

/// One request on a fresh connection: the shape most tests need.
http_response send_request(std::uint16_t port, http_request const& req);

} // namespace idemgate::test
