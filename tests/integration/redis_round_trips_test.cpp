// What each protected request costs in Redis (docs/redis.md "Commands and round trips"): an
// executed request is exactly two commands (the claim + EVALSHA complete), a replay or a
// conflict exactly one, an unprotected request none. The claim is EVALSHA begin with the
// credential bound on (the default), one plain SET NX GET without it. Counted twice, independently:
// with `INFO commandstats` after `CONFIG RESETSTAT`, and with MONITOR, which tells the commands a
// client sent from those a script ran ("lua"). The counts are printed for the record.
#include "replica_fixture.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <iostream>
#include <map>
#include <sstream>

namespace idemgate::test {
namespace {

constexpr std::size_t n_requests = 20;

/// A MONITOR connection to a local Redis: every command Redis runs, as one line each.
class redis_monitor {
public:
    explicit redis_monitor(std::uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(port);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (fd_ < 0 || ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
            throw std::runtime_error("monitor: connect failed");
        std::string_view const cmd = "*1\r\n$7\r\nMONITOR\r\n";
        if (::send(fd_, cmd.data(), cmd.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(cmd.size()))
            throw std::runtime_error("monitor: send failed");
        if (next_line() != "OK") throw std::runtime_error("monitor: not acknowledged");
    }
    ~redis_monitor() { ::close(fd_); }
    redis_monitor(redis_monitor const&) = delete;
    redis_monitor& operator=(redis_monitor const&) = delete;

    /// The lines before the first one that contains `marker` (sent by the test after the
    /// commands it wants to see, so that the read has a definite end).
    std::vector<std::string> lines_until(std::string const& marker) {
        std::vector<std::string> out;
        for (std::size_t i = 0; i < 100000; ++i) {
            auto line = next_line();
            if (line.find(marker) != std::string::npos) return out;
            out.push_back(std::move(line));
        }
        throw std::runtime_error("monitor: marker never came");
    }

private:
    /// One status line; throws when nothing arrives for 3 s.
    std::string next_line() {
        char buf[16384];
        for (;;) {
            if (auto r = parser_.next()) return r->str;
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, 3000) <= 0) throw std::runtime_error("monitor: no line in 3 s");
            auto const n = ::recv(fd_, buf, sizeof buf, 0);
            if (n <= 0 || !parser_.feed({buf, static_cast<std::size_t>(n)}))
                throw std::runtime_error("monitor: connection closed");
        }
    }

    int fd_;
    redis::reply_parser parser_;
};

/// What one MONITOR window shows: commands clients sent (by name) and commands scripts ran.
struct monitored {
    std::map<std::string, std::size_t> sent;
    std::size_t sent_total = 0;
    std::size_t in_scripts = 0;
};

/// `1712345678.123456 [0 127.0.0.1:54321] "EVALSHA" "..."` → source and command name.
monitored classify(std::vector<std::string> const& lines) {
    monitored m;
    for (auto const& line : lines) {
        auto const open = line.find('[');
        auto const close = line.find(']', open);
        auto const quote = line.find('"', close);
        auto const end = line.find('"', quote + 1);
        if (open == std::string::npos || close == std::string::npos || end == std::string::npos)
            continue;
        if (line.substr(open, close - open).ends_with(" lua")) {
            ++m.in_scripts;
            continue;
        }
        ++m.sent[line.substr(quote + 1, end - quote - 1)];
        ++m.sent_total;
    }
    return m;
}

class redis_round_trips : public redis_gateways_test {
protected:
    /// A gateway that has already run both scripts once, so that the one-time NOSCRIPT +
    /// EVAL of each script (and the start-up CONFIG GET) fall before the counted window.
    void start_warm_gateway(gateway_config cfg = {}) {
        start_replica(std::move(cfg));
        ASSERT_EQ(send_to(0, protected_post("warm-up")).status, 201U);
        ASSERT_EQ(send_to(0, protected_post("warm-up")).header(replay_header), "true");
    }

    /// Resets the counters, runs `requests` while MONITOR watches, and returns what Redis
    /// saw; `what` labels the printed counts.
    monitored count(std::string const& what, std::function<void()> const& requests) {
        redis_.command({"CONFIG", "RESETSTAT"});
        redis_monitor mon(redis_.port());
        requests();
        std::string const marker = "end-of-window-" + what;
        redis_.command({"ECHO", marker});
        auto const m = classify(mon.lines_until(marker));
        // The test's own INFO / CONFIG RESETSTAT / ECHO are not the gateway's.
        evalsha_ = command_calls_of(redis_, "evalsha");
        eval_ = command_calls_of(redis_, "eval");
        all_ = command_calls(redis_, {"info", "config|resetstat", "echo", "monitor"});
        std::ostringstream sent;
        for (auto const& [name, calls] : m.sent) sent << ' ' << name << '=' << calls;
        std::cout << "[ redis    ] " << what << ": N=" << n_requests
                  << " | commandstats evalsha=" << evalsha_ << " eval=" << eval_
                  << " all(incl. inside scripts)=" << all_
                  << " | MONITOR sent by gateway=" << m.sent_total << " (" << sent.str()
                  << " ) run by scripts=" << m.in_scripts << '\n';
        return m;
    }

    std::uint64_t evalsha_ = 0;
    std::uint64_t eval_ = 0;
    std::uint64_t all_ = 0;
};

TEST_F(redis_round_trips, n_executed_requests_cost_exactly_two_n_redis_commands) {
    start_warm_gateway();
    auto const m = count("executed", [&] {
        for (std::size_t i = 0; i < n_requests; ++i)
            ASSERT_EQ(send_to(0, protected_post("exec-" + std::to_string(i))).status, 201U);
    });
    EXPECT_EQ(upstream_.calls(), n_requests + 1);
    EXPECT_EQ(evalsha_, 2 * n_requests);
    EXPECT_EQ(eval_, 0U); // no NOSCRIPT fallback once the scripts are cached
    EXPECT_EQ(m.sent_total, 2 * n_requests);
    EXPECT_EQ(m.sent.count("EVALSHA") ? m.sent.at("EVALSHA") : 0U, 2 * n_requests);
    // Both counts see the same commands: the scripts' own ones are the rest of commandstats.
    EXPECT_EQ(all_, m.sent_total + m.in_scripts);
}

TEST_F(redis_round_trips, n_replays_cost_exactly_n_redis_commands) {
    start_warm_gateway();
    for (std::size_t i = 0; i < n_requests; ++i)
        ASSERT_EQ(send_to(0, protected_post("rep-" + std::to_string(i))).status, 201U);
    auto const m = count("replayed", [&] {
        for (std::size_t i = 0; i < n_requests; ++i) {
            auto const res = send_to(0, protected_post("rep-" + std::to_string(i)));
            ASSERT_EQ(res.header(replay_header), "true") << res.status << res.error;
        }
    });
    EXPECT_EQ(upstream_.calls(), n_requests + 1);
    EXPECT_EQ(evalsha_, n_requests);
    EXPECT_EQ(eval_, 0U);
    EXPECT_EQ(m.sent_total, n_requests);
    EXPECT_EQ(all_, m.sent_total + m.in_scripts);
}

TEST_F(redis_round_trips, without_the_credential_bound_a_claim_and_a_replay_are_one_plain_set) {
    start_warm_gateway(gateway_config{}.set("store.max_records_per_credential", "0"));
    auto const executed = count("executed, unbounded", [&] {
        for (std::size_t i = 0; i < n_requests; ++i)
            ASSERT_EQ(send_to(0, protected_post("exec-" + std::to_string(i))).status, 201U);
    });
    EXPECT_EQ(executed.sent_total, 2 * n_requests);
    EXPECT_EQ(executed.sent.count("SET") ? executed.sent.at("SET") : 0U, n_requests);
    EXPECT_EQ(evalsha_, n_requests); // complete
    // Inside complete: GET, PEXPIRETIME, SET.
    EXPECT_EQ(executed.in_scripts, 3 * n_requests);
    auto const replayed = count("replayed, unbounded", [&] {
        for (std::size_t i = 0; i < n_requests; ++i) {
            auto const res = send_to(0, protected_post("exec-" + std::to_string(i)));
            ASSERT_EQ(res.header(replay_header), "true") << res.status << res.error;
        }
    });
    EXPECT_EQ(replayed.sent_total, n_requests);
    EXPECT_EQ(replayed.sent.count("SET") ? replayed.sent.at("SET") : 0U, n_requests);
    EXPECT_EQ(replayed.in_scripts, 0U);
    EXPECT_EQ(evalsha_, 0U);
    EXPECT_EQ(upstream_.calls(), n_requests + 1);
}

TEST_F(redis_round_trips, a_conflict_costs_one_command_and_an_unprotected_request_none) {
    start_warm_gateway();
    auto const m = count("conflict+GET", [&] {
        for (std::size_t i = 0; i < n_requests; ++i) {
            expect_error(send_to(0, protected_post("warm-up", R"({"other":true})")), 409,
                         "idempotency_key_in_use");
            ASSERT_EQ(send_to(0, {"GET", "/v1/charges", {}, {}}).status, 201U);
        }
    });
    EXPECT_EQ(evalsha_, n_requests);
    EXPECT_EQ(m.sent_total, n_requests);
    EXPECT_EQ(upstream_.calls(), n_requests + 1); // only the GETs and the warm-up
}

} // namespace
} // namespace idemgate::test
