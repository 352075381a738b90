#pragma once
// A programmable HTTP/1.1 upstream on 127.0.0.1 for integration tests: it counts calls,
// keeps every request it read and answers as the test's handler says (status, delay, raw
// bytes, close without answering, hang).
#include "support/http_client.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace idemgate::test {

/// One request exactly as the upstream read it (Beast parser: chunked bodies are decoded).
struct recorded_request {
    std::string method;
    std::string target;
    header_list headers;
    std::string body;

    std::string header(std::string_view name) const { return find_header(headers, name); }
    std::size_t count(std::string_view name) const { return count_header(headers, name); }
    bool has(std::string_view name) const { return count(name) != 0; }
};

/// How the stub answers one request.
struct stub_reply {
    enum class action {
        respond, // write status/headers/body (or `raw`)
        close,   // read the request, then close without answering: "sent, no response"
        hang,    // never answer; the connection stays open until the stub stops
    };
    action act = action::respond;
    unsigned status = 201;
    header_list headers; // written in this order; Content-Length is added
    std::string body;
    std::chrono::milliseconds delay{0}; // before answering (or closing)
    std::string raw;                    // non-empty: written verbatim instead of the above
    bool close_after = false;           // close the connection after the answer
    std::string raw_later; // non-empty: written verbatim `later` after the answer, on the same
    std::chrono::milliseconds later{0}; // connection (bytes arriving while it is idle)
    /// Non-empty: after `delay`, the answer (or close) waits until this returns true, asked
    /// every 2 ms on the stub's thread for at most 10 s. Holds an exchange mid-request for as
    /// long as a test needs, without a fixed delay; other connections are served meanwhile.
    std::function<bool()> hold_until;
};

/// Called on the stub's thread with the request and its 1-based call number.
using stub_handler = std::function<stub_reply(recorded_request const&, std::size_t call)>;

/// The stub listens from construction to destruction on its own thread.
/// @par Thread Safety: every public member may be called from any thread.
class upstream_stub {
public:
    /// Binds 127.0.0.1 on a free port.
    upstream_stub();
    /// Binds 127.0.0.1:`port` (SO_REUSEADDR), e.g. a port a gateway already points at.
    explicit upstream_stub(std::uint16_t port);
    ~upstream_stub();
    upstream_stub(upstream_stub const&) = delete;
    upstream_stub& operator=(upstream_stub const&) = delete;

    std::uint16_t port() const noexcept { return port_; }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

    /// Replaces the handler for the next requests.
    void set_handler(stub_handler handler);
    /// Requests read so far (including ones answered with close/hang).
    std::size_t calls() const;
    std::vector<recorded_request> requests() const;
    /// The last request read; precondition: calls() > 0.
    recorded_request last_request() const;
    /// Waits until calls() >= n; false after `timeout`.
    bool wait_for_calls(std::size_t n, std::chrono::milliseconds timeout) const;
    /// TCP connections accepted so far.
    std::size_t connections() const;
    /// `raw_later` writes completed so far (the bytes are in the peer's receive queue).
    std::size_t late_writes() const;

    /// 201, Content-Type application/json, `X-Upstream-Call: N`, body {"id":"obj_N","call":N}.
    static stub_reply default_reply(std::size_t call);

private:
    friend struct stub_access;
    std::pair<std::size_t, stub_handler> record(recorded_request const& req);
    void count_connection();
    void count_late_write();
    void start();

    boost::asio::io_context ioc_;
    boost::asio::ip::tcp::acceptor acceptor_;
    std::uint16_t port_ = 0;
    mutable std::mutex mutex_;
    mutable std::condition_variable changed_;
    stub_handler handler_;
    std::vector<recorded_request> requests_;
    std::size_t connections_ = 0;
    std::size_t late_writes_ = 0;
    std::thread thread_;
};

/// A loopback port where nothing listens (bound, then closed): connects are refused.
std::uint16_t unused_port();

/// `n` distinct such ports (all bound at once, then closed), for configs that need several.
std::vector<std::uint16_t> unused_ports(std::size_t n);

} // namespace idemgate::test
