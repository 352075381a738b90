// The fault proxy of the integration tests (tests/support/fault_proxy.hpp), over loopback:
// each toxic does what it says, measured from a plain client and a plain target socket, so
// that a fault test that fails can blame the gateway and not its harness.
#include "support/fault_proxy.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <string>

namespace idemgate::test {
namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

/// A blocking loopback socket whose reads wait at most a given time (poll).
class plain_socket {
public:
    explicit plain_socket(int fd = -1) : fd_(fd) {}
    ~plain_socket() {
        if (fd_ >= 0) ::close(fd_);
    }
    plain_socket(plain_socket&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
    plain_socket& operator=(plain_socket&&) = delete;

    /// Connects to 127.0.0.1:`port`; false when the connect did not finish within `limit`.
    bool connect(std::uint16_t port, std::chrono::milliseconds limit = 2s) {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(port);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) return blocking();
        if (errno != EINPROGRESS) return false;
        pollfd p{fd_, POLLOUT, 0};
        if (::poll(&p, 1, static_cast<int>(limit.count())) != 1) return false;
        int err = 0;
        socklen_t len = sizeof err;
        ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len);
        return err == 0 && blocking();
    }

    void send(std::string const& bytes) const {
        ASSERT_EQ(::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL),
                  static_cast<ssize_t>(bytes.size()));
    }

    /// What one read gives within `limit`: bytes, "" (end-of-file), "<reset>" or "<nothing>".
    std::string read(std::chrono::milliseconds limit = 2s) const {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(limit.count())) != 1) return "<nothing>";
        char buf[4096];
        ssize_t const n = ::recv(fd_, buf, sizeof buf, 0);
        if (n < 0) return errno == ECONNRESET ? "<reset>" : "<error>";
        return std::string(buf, static_cast<std::size_t>(n));
    }

    /// Reads until `n` bytes came or a read gives no bytes; what came.
    std::string read_n(std::size_t n, std::chrono::milliseconds limit = 3s) const {
        std::string out;
        while (out.size() < n) {
            auto const part = read(limit);
            if (part.empty() || part.front() == '<') break;
            out += part;
        }
        return out;
    }

    void shutdown_send() const { ::shutdown(fd_, SHUT_WR); }
    int fd() const { return fd_; }

private:
    bool blocking() const { return ::fcntl(fd_, F_SETFL, 0) == 0; }
    int fd_;
};

/// A target: a listening socket the test accepts from itself.
class plain_target {
public:
    plain_target() : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
        ::listen(fd_, 16);
        socklen_t len = sizeof a;
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
        port_ = ntohs(a.sin_port);
    }
    ~plain_target() { ::close(fd_); }
    std::uint16_t port() const { return port_; }
    /// The next connection the proxy made; fd -1 when none came within `limit`.
    plain_socket accept(std::chrono::milliseconds limit = 2s) const {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(limit.count())) != 1) return plain_socket{};
        return plain_socket{::accept(fd_, nullptr, nullptr)};
    }

private:
    int fd_;
    std::uint16_t port_ = 0;
};

class the_fault_proxy : public ::testing::Test {
protected:
    /// A client connected through the proxy and the target's side of that connection.
    std::pair<plain_socket, plain_socket> open_pair() {
        plain_socket client;
        EXPECT_TRUE(client.connect(proxy_.port()));
        return {std::move(client), target_.accept()};
    }

    static std::chrono::milliseconds since(clock_type::time_point t0) {
        return std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - t0);
    }

    plain_target target_;
    fault_proxy proxy_{target_.port()};
};

TEST_F(the_fault_proxy, forwards_both_ways_and_counts_one_connection_and_every_byte) {
    auto [client, target] = open_pair();
    ASSERT_GE(target.fd(), 0);
    client.send("ping");
    EXPECT_EQ(target.read_n(4), "ping");
    target.send("pong!");
    EXPECT_EQ(client.read_n(5), "pong!");
    EXPECT_EQ(proxy_.connections(), 1U);
    EXPECT_EQ(proxy_.bytes(flow::to_target), 4U);
    EXPECT_EQ(proxy_.bytes(flow::to_client), 5U);
    // A close on one side is an end-of-file on the other, and the link ends.
    target.shutdown_send();
    EXPECT_EQ(client.read(), "");
    client.shutdown_send();
    EXPECT_EQ(target.read(), "");
    EXPECT_EQ(proxy_.open_connections(), 0U);
}

TEST_F(the_fault_proxy, latency_delays_each_direction_by_its_own_amount) {
    proxy_.set_latency(flow::to_client, 300ms);
    auto [client, target] = open_pair();
    auto t0 = clock_type::now();
    client.send("a");
    EXPECT_EQ(target.read_n(1), "a");
    EXPECT_LT(since(t0), 250ms); // the other direction is not delayed
    t0 = clock_type::now();
    target.send("b");
    EXPECT_EQ(client.read(100ms), "<nothing>");
    EXPECT_EQ(client.read_n(1), "b");
    EXPECT_GE(since(t0), 290ms);
    EXPECT_EQ(proxy_.bytes(flow::to_client), 1U);
}

TEST_F(the_fault_proxy, bandwidth_limits_the_bytes_per_second) {
    proxy_.set_bandwidth(flow::to_client, 2000);
    auto [client, target] = open_pair();
    auto const t0 = clock_type::now();
    target.send(std::string(1000, 'x'));
    EXPECT_EQ(client.read_n(1000).size(), 1000U);
    EXPECT_GE(since(t0), 450ms); // 1000 bytes at 2000 B/s: 0.5 s, the first slice at once
}

TEST_F(the_fault_proxy, a_blackhole_drops_every_byte_and_never_closes) {
    auto [client, target] = open_pair();
    proxy_.set_blackhole(true);
    client.send("lost");
    target.send("lost too");
    target.shutdown_send(); // swallowed as well: no end-of-file reaches the client
    EXPECT_EQ(target.read(300ms), "<nothing>");
    EXPECT_EQ(client.read(300ms), "<nothing>");
    EXPECT_EQ(proxy_.bytes(flow::to_target) + proxy_.bytes(flow::to_client), 0U);
    // A client accepted during the blackhole is connected, answered by nobody.
    plain_socket late;
    EXPECT_TRUE(late.connect(proxy_.port()));
    EXPECT_EQ(target_.accept(200ms).fd(), -1);
    EXPECT_EQ(proxy_.connections(), 2U);
    EXPECT_EQ(proxy_.open_connections(), 2U);
    proxy_.set_blackhole(false);
    // The blackholed connections stay dead (their streams lost bytes); new ones work.
    client.send("still lost");
    EXPECT_EQ(target.read(200ms), "<nothing>");
    auto [fresh, fresh_target] = open_pair();
    fresh.send("back");
    EXPECT_EQ(fresh_target.read_n(4), "back");
    proxy_.reset_all();
    EXPECT_EQ(late.read(), "<reset>");
}

TEST_F(the_fault_proxy, reset_after_n_bytes_forwards_exactly_n_then_resets_the_client) {
    auto [client, target] = open_pair();
    proxy_.reset_after(flow::to_client, 5);
    target.send("0123456789");
    EXPECT_EQ(client.read_n(5), "01234");
    EXPECT_EQ(client.read(), "<reset>");
    EXPECT_EQ(target.read(), ""); // the target side gets a plain close
    EXPECT_EQ(proxy_.bytes(flow::to_client), 5U);
    EXPECT_EQ(proxy_.open_connections(), 0U);
}

TEST_F(the_fault_proxy, reset_after_counts_from_the_call_on_an_open_connection) {
    auto [client, target] = open_pair();
    client.send("abc");
    ASSERT_EQ(target.read_n(3), "abc");
    proxy_.reset_after(flow::to_target, 2);
    client.send("defg");
    EXPECT_EQ(target.read_n(2), "de");
    EXPECT_EQ(target.read(), "");
    EXPECT_EQ(client.read(), "<reset>");
    EXPECT_EQ(proxy_.bytes(flow::to_target), 5U);
}

TEST_F(the_fault_proxy, half_close_ends_one_direction_and_keeps_the_other_open) {
    proxy_.half_close_after(flow::to_client, 3);
    auto [client, target] = open_pair();
    target.send("abcdef");
    EXPECT_EQ(client.read_n(3), "abc");
    EXPECT_EQ(client.read(), ""); // end-of-file, not a reset
    client.send("still here");
    EXPECT_EQ(target.read_n(10), "still here");
    EXPECT_EQ(proxy_.bytes(flow::to_client), 3U);
    EXPECT_EQ(proxy_.open_connections(), 1U);
}

TEST_F(the_fault_proxy, slow_close_delays_the_end_of_file) {
    proxy_.set_slow_close(300ms);
    auto [client, target] = open_pair();
    target.send("bye");
    target.shutdown_send();
    auto const t0 = clock_type::now();
    EXPECT_EQ(client.read_n(3), "bye");
    EXPECT_EQ(client.read(2s), "");
    EXPECT_GE(since(t0), 280ms);
}

TEST_F(the_fault_proxy, while_not_accepting_a_connect_hangs_and_later_succeeds) {
    proxy_.set_accepting(false);
    {
        plain_socket hung;
        EXPECT_FALSE(hung.connect(proxy_.port(), 300ms)); // neither accepted nor refused
    } // closed before its SYN is sent again (after 1 s) and could be accepted
    EXPECT_EQ(proxy_.connections(), 0U);
    proxy_.heal();
    auto [client, target] = open_pair();
    client.send("x");
    EXPECT_EQ(target.read_n(1), "x");
    EXPECT_EQ(proxy_.connections(), 1U); // the queue filler is not counted
}

TEST_F(the_fault_proxy, reset_all_resets_every_open_connection) {
    auto [c1, t1] = open_pair();
    auto [c2, t2] = open_pair();
    EXPECT_EQ(proxy_.open_connections(), 2U);
    proxy_.reset_all();
    EXPECT_EQ(c1.read(), "<reset>");
    EXPECT_EQ(c2.read(), "<reset>");
    EXPECT_EQ(proxy_.open_connections(), 0U);
    EXPECT_EQ(proxy_.connections(), 2U);
}

} // namespace
} // namespace idemgate::test
