// A soak (issue 11): 20 000 requests from 16 clients at once (5 000 against a sanitized
// gateway, IDEMGATE_TEST_BINARY, which runs several times slower), mixed with clients that
// disconnect in the middle of their request body or of a large response, while the gateway's
// Redis connections are cut every second. At the end the gateway holds what it held before
// (file descriptors, RSS, in-flight gauge, connections), every request has exactly one
// outcome and the counters match what the clients saw, and no key ran twice upstream.
#include "fault_fixture.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdlib>
#include <mutex>

namespace idemgate::test {
namespace {

constexpr std::size_t soak_clients = 16;
constexpr std::size_t soak_big_body = 256 * 1024;

/// What the clients saw, by the outcome the gateway must have counted for it.
struct soak_tally {
    std::size_t executed = 0;
    std::size_t replayed = 0;
    std::size_t in_progress = 0;
    std::size_t store_unavailable = 0;
    std::size_t passthrough = 0; // the big GETs whose clients left mid-response
    std::size_t left_mid_body = 0;
    std::size_t unexpected = 0;
    std::string first_unexpected;

    soak_tally& operator+=(soak_tally const& o) {
        executed += o.executed;
        replayed += o.replayed;
        in_progress += o.in_progress;
        store_unavailable += o.store_unavailable;
        passthrough += o.passthrough;
        left_mid_body += o.left_mid_body;
        unexpected += o.unexpected;
        if (first_unexpected.empty()) first_unexpected = o.first_unexpected;
        return *this;
    }
    std::size_t answered() const {
        return executed + replayed + in_progress + store_unavailable + passthrough;
    }
};

/// A loopback connection to `port` with a small receive buffer (so a large response fills it
/// and the gateway is left writing) and a 5 s bound on each read; -1 on failure.
int soak_connect(std::uint16_t port) {
    int const fd = ::socket(AF_INET, SOCK_STREAM, 0);
    int const rcvbuf = 4096;
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    timeval const tv{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

/// A protected POST announcing 1000 body bytes, of which 10 are sent before the client leaves.
void soak_leave_mid_body(std::uint16_t port, std::string const& key) {
    int const fd = soak_connect(port);
    if (fd < 0) return;
    std::string const req = "POST /v1/charges HTTP/1.1\r\nHost: soak\r\nAuthorization: Bearer " +
                            std::string(test_api_key) + "\r\nIdempotency-Key: " + key +
                            "\r\nContent-Length: 1000\r\n\r\n0123456789";
    (void)::send(fd, req.data(), req.size(), MSG_NOSIGNAL);
    ::close(fd);
}

/// GET /v1/big (256 KiB), of which the client reads the first bytes and leaves (an RST: the
/// rest is unread), with the gateway in the middle of writing it.
void soak_leave_mid_response(std::uint16_t port) {
    int const fd = soak_connect(port);
    if (fd < 0) return;
    std::string const req = "GET /v1/big HTTP/1.1\r\nHost: soak\r\n\r\n";
    (void)::send(fd, req.data(), req.size(), MSG_NOSIGNAL);
    char buf[512];
    (void)::recv(fd, buf, sizeof buf, 0);
    ::close(fd);
}

class soak : public redis_fault_test {
protected:
    /// Client `c` sends `n` requests: each key twice in a row (a replay, or 409 / 503 when
    /// the first attempt's outcome is unknown), every 16th leaves mid-body, every 16th
    /// (offset 8) reads a few bytes of a big GET and leaves.
    soak_tally run_client(std::size_t c, std::size_t n, std::string const& tag) const {
        soak_tally t;
        for (std::size_t j = 0; j < n; ++j) {
            auto const key = tag + "-" + std::to_string(c) + "-" + std::to_string(j / 2);
            if (j % 16 == 3) {
                soak_leave_mid_body(replica(0).port(), key + "-left");
                ++t.left_mid_body;
                continue;
            }
            if (j % 16 == 11) {
                soak_leave_mid_response(replica(0).port());
                ++t.passthrough;
                continue;
            }
            auto const r = send_to(0, protected_post(key));
            if (r.status == 201) {
                ++(r.has(replay_header) ? t.replayed : t.executed);
            } else if (r.status == 409 && r.body.find("request_in_progress") != std::string::npos) {
                ++t.in_progress;
            } else if (r.status == 503 &&
                       r.body.find("idempotency_store_unavailable") != std::string::npos) {
                ++t.store_unavailable;
            } else {
                ++t.unexpected;
                if (t.first_unexpected.empty())
                    t.first_unexpected = std::to_string(r.status) + " " + r.error + r.body;
            }
        }
        return t;
    }

    /// `total` requests over soak_clients clients at once; what they saw.
    soak_tally run_load(std::size_t total, std::string const& tag) const {
        std::vector<soak_tally> tallies(soak_clients);
        std::vector<std::thread> threads;
        for (std::size_t c = 0; c < soak_clients; ++c) {
            threads.emplace_back([&, c] { tallies[c] = run_client(c, total / soak_clients, tag); });
        }
        for (auto& t : threads) t.join();
        soak_tally sum;
        for (auto const& t : tallies) sum += t;
        return sum;
    }

    double outcomes(std::string const& o) const { return outcome_count(0, o); }

    double all_outcomes() const {
        double sum = 0;
        for (auto const* o : {"executed", "replayed", "conflict", "in_progress", "passthrough",
                              "rejected", "store_unavailable", "upstream_error"})
            sum += outcomes(o);
        return sum;
    }

    /// Polls until the gateway holds no client connection, no request and exactly
    /// `fds` descriptors; false after `limit`.
    bool settled_at(double fds, std::chrono::milliseconds limit) const {
        return eventually(
            [&] {
                auto const text = admin_get(0, "/metrics").body;
                return metric_value(text, "idemgate_connections_active") == 0 &&
                       metric_value(text, "idemgate_inflight_requests") == 0 &&
                       metric_value(text, "process_open_fds") == fds;
            },
            limit);
    }
};

TEST_F(soak, twenty_thousand_requests_through_faults_leave_nothing_behind_and_add_up) {
    bool const sanitized = std::getenv("IDEMGATE_TEST_BINARY") != nullptr;
    std::size_t const total = sanitized ? 5000 : 20000;
    upstream_.set_handler([](recorded_request const& req, std::size_t n) {
        auto reply = upstream_stub::default_reply(n);
        if (req.target == "/v1/big") reply.body = std::string(soak_big_body, 'x');
        return reply;
    });
    // Two idle upstream connections per thread: the warm-up fills the pool, so the
    // descriptors it holds are the same before and after.
    start_via_proxy(gateway_config{}.set("upstream.pool_size", "2"));

    run_load(256, "warm");
    double fds_before = 0;
    EXPECT_TRUE(eventually(
        [&] {
            auto const text = admin_get(0, "/metrics").body;
            fds_before = metric_value(text, "process_open_fds");
            return metric_value(text, "idemgate_connections_active") == 0;
        },
        5s));
    auto const rss_before = metric(0, "process_resident_memory_bytes");
    auto const outcomes_before = all_outcomes();
    std::map<std::string, double> before;
    for (auto const* o :
         {"executed", "replayed", "in_progress", "store_unavailable", "passthrough"})
        before[o] = outcomes(o);
    auto const lines_before = replica(0).json_lines("access").size();

    // Redis flaps every second: every gateway connection to it is reset.
    std::atomic<bool> soaking{true};
    std::size_t flaps = 0;
    std::thread flapper([&] {
        auto next = std::chrono::steady_clock::now() + 1s;
        while (soaking) {
            std::this_thread::sleep_for(20ms);
            if (std::chrono::steady_clock::now() < next) continue;
            redis_proxy_.reset_all();
            ++flaps;
            next += 1s;
        }
    });
    auto const t0 = std::chrono::steady_clock::now();
    auto const seen = run_load(total, "soak");
    auto const took = ms_since(t0);
    soaking = false;
    flapper.join();
    std::cout << "soak: " << total << " requests in " << took.count() << " ms, " << flaps
              << " Redis flaps; executed " << seen.executed << ", replayed " << seen.replayed
              << ", in_progress " << seen.in_progress << ", store_unavailable "
              << seen.store_unavailable << ", left mid-response " << seen.passthrough
              << ", left mid-body " << seen.left_mid_body << "\n";

    EXPECT_EQ(seen.unexpected, 0U) << seen.first_unexpected;
    EXPECT_GE(flaps, 1U);
    // Nothing leaked: connections, requests and descriptors back where they were.
    EXPECT_TRUE(settled_at(fds_before, 10s))
        << "fds before " << fds_before << ", now " << metric(0, "process_open_fds")
        << "; in flight " << metric(0, "idemgate_inflight_requests") << "; connections "
        << metric(0, "idemgate_connections_active");
    if (!sanitized) { // ASan's quarantine keeps freed memory on purpose
        EXPECT_LT(metric(0, "process_resident_memory_bytes"), rss_before + 32.0 * 1024 * 1024);
    }
    // Every request the gateway read has exactly one outcome, matching what its client saw;
    // the clients that left mid-body sent no request to decide on.
    EXPECT_EQ(all_outcomes() - outcomes_before, static_cast<double>(seen.answered()));
    EXPECT_EQ(outcomes("executed") - before["executed"], static_cast<double>(seen.executed));
    EXPECT_EQ(outcomes("replayed") - before["replayed"], static_cast<double>(seen.replayed));
    EXPECT_EQ(outcomes("in_progress") - before["in_progress"],
              static_cast<double>(seen.in_progress));
    EXPECT_EQ(outcomes("store_unavailable") - before["store_unavailable"],
              static_cast<double>(seen.store_unavailable));
    EXPECT_EQ(outcomes("passthrough") - before["passthrough"],
              static_cast<double>(seen.passthrough));
    EXPECT_TRUE(eventually(
        [&] { return replica(0).json_lines("access").size() - lines_before == seen.answered(); },
        5s));
    // And no key ran twice upstream, whatever the faults.
    EXPECT_EQ(most_executions_of_one_key(upstream_), 1U);
}

} // namespace
} // namespace idemgate::test
