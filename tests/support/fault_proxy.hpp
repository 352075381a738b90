#pragma once
// A fault-injecting TCP proxy for integration tests, in the spirit of Toxiproxy: it sits
// between the gateway and Redis, or the gateway and the upstream, forwards bytes both ways
// and, when a test says so, delays, throttles, swallows, resets or half-closes them. There is
// no toxiproxy package on the CI machines, and the faults tested need only these few.
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace idemgate::test {

/// A direction of a proxied connection: from the client (the gateway) to the target, or back.
enum class flow { to_target = 0, to_client = 1 };

/// Listens on 127.0.0.1 (port 0), connects each accepted client to the target, and forwards
/// on its own thread. Every toxic applies to current and new connections until changed.
/// "Reset" means: the client side gets an RST (SO_LINGER 0), the target side a plain close,
/// so that a target that already received a request still reads all of it.
/// @par Thread Safety: every public member may be called from any thread but the proxy's.
class fault_proxy {
public:
    static constexpr std::size_t off = static_cast<std::size_t>(-1);

    explicit fault_proxy(std::uint16_t target_port, std::string target_host = "127.0.0.1");
    ~fault_proxy();
    fault_proxy(fault_proxy const&) = delete;
    fault_proxy& operator=(fault_proxy const&) = delete;

    std::uint16_t port() const noexcept { return port_; }
    /// "127.0.0.1:<port>", for URLs in a gateway config.
    std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

    /// Each chunk read in `f` is written `d` after it was read; order is kept.
    void set_latency(flow f, std::chrono::milliseconds d);
    /// At most `bytes_per_second` are written in `f` (0: unlimited), in slices of 1/50 s.
    void set_bandwidth(flow f, std::size_t bytes_per_second);
    /// On: on every open connection and every one accepted meanwhile, each byte read (both
    /// ways) is dropped and end-of-file is swallowed, so nothing is answered and nothing is
    /// closed (no FIN, no RST): a peer that vanished from the network. A client accepted
    /// meanwhile is never connected to the target. Off: new connections work again; the
    /// blackholed ones stay silent until reset_all(), since a TCP stream that lost bytes can
    /// never resume (it is a peer that is gone, and a retransmitting TCP would not lose any).
    void set_blackhole(bool on);
    /// `n` more bytes in `f` are forwarded (counted from now on open connections, from the
    /// start on new ones); the connection is reset when the next byte in `f` arrives. With 0:
    /// at the first byte, none forwarded (e.g. a response that never starts). `off` disarms.
    void reset_after(flow f, std::size_t n);
    /// Likewise, but the receiver of `f` gets end-of-file (shutdown of the proxy's sending
    /// side) and later bytes in `f` are dropped; the other direction stays open.
    void half_close_after(flow f, std::size_t n);
    /// When one side closes, the other side's end-of-file is delayed by `d`.
    void set_slow_close(std::chrono::milliseconds d);
    /// Off: new connection attempts are neither accepted nor refused (the listen queue is
    /// full, the kernel drops their SYNs) and hang until the client's connect timeout.
    void set_accepting(bool on);
    /// Resets every open connection.
    void reset_all();
    /// Removes every toxic (open connections stay as they are) and accepts again.
    void heal();

    /// Clients accepted so far.
    std::size_t connections() const;
    /// Connections not yet closed.
    std::size_t open_connections() const;
    /// Bytes written so far in `f`, all connections together.
    std::size_t bytes(flow f) const;

private:
    struct link;
    struct toxics {
        std::array<std::chrono::milliseconds, 2> latency{};
        std::array<std::size_t, 2> bandwidth{0, 0};
        std::array<std::size_t, 2> reset_after{off, off};
        std::array<std::size_t, 2> half_close_after{off, off};
        std::chrono::milliseconds slow_close{0};
        bool blackhole = false;
    };
    friend struct fault_proxy_access;

    /// Runs `fn` on the proxy's thread and waits for it: the toxics and the connections are
    /// only touched there, so they need no lock.
    void on_io(std::function<void()> fn) const;
    void start_accepting();
    void stop_accepting();
    /// Drops links that have ended; calls `fn` on the others.
    void each_link(std::function<void(link&)> const& fn);

    mutable boost::asio::io_context ioc_;
    // Keeps the thread running while nothing is pending (not accepting, no connection).
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{
        ioc_.get_executor()};
    boost::asio::ip::tcp::acceptor acceptor_;
    boost::asio::ip::tcp::endpoint target_;
    std::uint16_t port_ = 0;
    toxics toxics_;
    bool accepting_ = true;
    std::unique_ptr<boost::asio::ip::tcp::socket> filler_; // fills the queue while not accepting
    boost::asio::ip::tcp::endpoint filler_end_;
    std::vector<std::weak_ptr<link>> links_;
    std::size_t accepted_ = 0;
    std::array<std::size_t, 2> bytes_{0, 0};
    std::thread thread_;
};

} // namespace idemgate::test
