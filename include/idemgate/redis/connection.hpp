#pragma once
// One pipelined Redis connection on Asio: the I/O around a redis::pipeline (which holds the
// commands and matches the replies): a writer that sends what is queued in one write, a reader
// that feeds the replies in, and a background reconnect loop with backoff.
#include "idemgate/net.hpp"
#include "idemgate/redis/pipeline.hpp"
#include "idemgate/redis/redis_url.hpp"
#include "idemgate/redis/resp.hpp"

#include <boost/asio/ssl/context.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace idemgate::redis {

/// Shared by every connection of a process; immutable once the first connection starts
/// (except the atomic flag).
struct connection_config {
    redis_url url;                                   // password override already applied
    std::chrono::milliseconds connect_timeout{1000}; // resolve excluded: connect + TLS + AUTH
    std::chrono::milliseconds backoff_min{50};
    std::chrono::milliseconds backoff_max{2000};
    std::shared_ptr<net::ssl::context> tls; // required when url.tls
    /// The first connection to take it checks maxmemory-policy and appendonly (and warns).
    std::shared_ptr<std::atomic<bool>> config_check_pending =
        std::make_shared<std::atomic<bool>>(true);
};

enum class link_state : std::uint8_t {
    connecting, // first attempt in progress: calls wait for it (within their deadline)
    up,         // handshake done
    down,       // lost or refused: calls fail at once while reconnecting in the background
};

/// Thread safety: everything but link() runs on the io_context of `ex` (one thread). Owned
/// through shared_ptr: its coroutines keep it alive until they end; call stop() before
/// dropping the last external reference, and destroy it before its io_context.
class connection : public std::enable_shared_from_this<connection> {
public:
    using time_point = std::chrono::steady_clock::time_point;

    connection(net::any_io_executor const& ex, std::shared_ptr<connection_config const> cfg);
    connection(connection const&) = delete;
    connection& operator=(connection const&) = delete;

    /// Starts the connect/reconnect loop in the background.
    void start();
    /// Closes the socket, fails every pending call and ends the loops. Idempotent.
    void stop();

    /// Readable from any thread.
    link_state link() const noexcept { return link_.load(std::memory_order_relaxed); }

    /// Sends `cmd` and returns its reply (an error reply is a value, not a failure), or
    /// errc::store_unavailable: at once when the link is down, when the connection drops before
    /// the reply (the command may have run: it is never resent), or at `deadline`, seen up to
    /// a tick late (an eighth of the shortest timeout the connection was given, 5-100 ms); a
    /// command still unwritten then is never written. A reply arriving after the deadline is
    /// consumed and dropped, so FIFO order holds. When a command times out while the oldest
    /// unanswered one has waited twice as long as its caller did, the connection is closed and
    /// made again (a peer gone without a reset).
    task<result<reply>> execute(command cmd, time_point deadline);

    /// Socket writes of commands since start: one write carries every command queued meanwhile.
    std::uint64_t write_count() const noexcept { return writes_; }

private:
    class call;

    task<void> run();
    task<error_code> open();
    task<error_code> handshake();
    void prepare_tls();
    task<result<std::vector<reply>>> read_replies(reply_parser& parser, std::size_t n);
    task<void> read_loop();
    task<void> write_loop();
    task<std::tuple<error_code, std::size_t>> write_all(std::string_view bytes);
    task<std::tuple<error_code, std::size_t>> read_some();
    /// Abandons the commands whose deadline passed; reconnects when the peer looks gone.
    void expire(time_point now);
    /// One timer for every command's deadline (see execute()).
    task<void> expiry_loop();
    void close_session(error_code ec);
    void close_stream() noexcept;
    beast::tcp_stream& lowest();

    net::any_io_executor ex_;
    std::shared_ptr<connection_config const> cfg_;
    std::string const port_;
    tcp::resolver resolver_;
    std::optional<beast::tcp_stream> tcp_;
    std::optional<beast::ssl_stream<beast::tcp_stream>> tls_;
    steady_timer writer_wake_;
    steady_timer backoff_timer_;
    steady_timer expiry_timer_;
    time_point expiry_at_ = time_point::max(); // when expiry_timer_ wakes the loop
    std::chrono::milliseconds tick_{100};      // how late a deadline may be seen, at most
    bool expiring_ = false;                    // expiry_loop() runs
    pipeline pipe_;
    std::vector<char> read_buf_;
    std::atomic<link_state> link_{link_state::connecting};
    bool started_ = false;
    bool stopped_ = false;
    bool session_open_ = false;
    bool warned_ = false; // one warning per outage, not one per reconnect attempt
    std::uint64_t writes_ = 0;
};

} // namespace idemgate::redis
