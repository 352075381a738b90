#pragma once
// One connection to one sentinel, for the resolver (a question, then closed) and the watch
// (SUBSCRIBE, then read on). Private to the redis layer.
#include "idemgate/net.hpp"
#include "idemgate/redis/resp.hpp"
#include "idemgate/redis/sentinel_config.hpp"

#include <boost/beast/ssl/ssl_stream.hpp>

#include <chrono>
#include <optional>
#include <string_view>
#include <vector>

namespace idemgate::redis {

class sentinel_session {
public:
    using time_point = std::chrono::steady_clock::time_point;

    /// `cfg` must outlive the session.
    sentinel_session(net::any_io_executor const& ex, sentinel_config const& cfg);
    sentinel_session(sentinel_session const&) = delete;
    sentinel_session& operator=(sentinel_session const&) = delete;

    /// Connects to `at` (TLS when cfg.tls), sends AUTH when cfg.password is set, then `cmd`,
    /// and returns the reply to `cmd` (an error reply is a value). Everything must be done by
    /// `deadline`: the stream's timer closes the socket then (errc::timed_out). A refused
    /// AUTH is errc::permission_denied. On success the stream stays open with no deadline.
    task<result<reply>> open(node_address const& at, command const& cmd, time_point deadline);
    /// The next reply on an open session; waits as long as it takes (close() ends it).
    task<result<reply>> read();
    task<error_code> write(std::string_view bytes);
    /// Closes the socket: pending operations end with an error. Idempotent.
    void close() noexcept;

private:
    void prepare_tls(std::string const& host);
    beast::tcp_stream& lowest();
    task<std::tuple<error_code, std::size_t>> read_some();

    net::any_io_executor ex_;
    sentinel_config const& cfg_;
    std::optional<beast::tcp_stream> tcp_;
    std::optional<beast::ssl_stream<beast::tcp_stream>> tls_;
    reply_parser parser_;
    std::vector<char> buf_;
};

} // namespace idemgate::redis
