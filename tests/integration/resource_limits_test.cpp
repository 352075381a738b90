// Issue 9 §5, resources and processes: a second gateway on a taken port fails to start; out
// of file descriptors the admin listener still answers and nothing spins; a client that
// reads a response too slowly is cut after timeouts.write.
#include "gateway_fixture.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

namespace idemgate::test {
namespace {

/// A blocking loopback TCP connection to `port`, closed with the object; -1 when refused.
/// `receive_buffer` > 0 shrinks SO_RCVBUF before connecting (a slow reader's window).
class raw_connection {
public:
    explicit raw_connection(std::uint16_t port, int receive_buffer = 0) {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd_ < 0) return;
        if (receive_buffer > 0)
            ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(port);
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(fd_, reinterpret_cast<sockaddr const*>(&addr), sizeof addr) != 0) {
            ::close(fd_);
            fd_ = -1;
        }
    }
    ~raw_connection() {
        if (fd_ >= 0) ::close(fd_);
    }
    raw_connection(raw_connection const&) = delete;
    raw_connection& operator=(raw_connection const&) = delete;

    bool connected() const noexcept { return fd_ >= 0; }
    bool write_all(std::string_view bytes) const {
        while (!bytes.empty()) {
            auto const n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
            if (n <= 0) return false;
            bytes.remove_prefix(static_cast<std::size_t>(n));
        }
        return true;
    }

private:
    int fd_ = -1;
};

/// CPU seconds (user + system) the process has used, from /proc/<pid>/stat.
double cpu_seconds_of(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto const after_name = text.rfind(')'); // the command name may hold spaces
    std::istringstream fields(text.substr(after_name + 2));
    std::string skip;
    for (int i = 3; i < 14; ++i) fields >> skip; // fields 3..13
    double utime = 0;
    double stime = 0;
    fields >> utime >> stime;
    return (utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

/// Polls /metrics until `series` equals `want`; false after `timeout`.
template <class Fixture>
bool metric_reaches(Fixture const& f, std::string const& series, double want,
                    std::chrono::milliseconds timeout) {
    auto const deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (metric_value(f.metrics_text(), series) == want) return true;
        std::this_thread::sleep_for(50ms);
    }
    return false;
}

class resource_limits : public gateway_test {
public:
    std::string metrics_text() const { return admin_get("/metrics").body; }
};

TEST_F(resource_limits, a_second_gateway_on_the_same_port_fails_with_address_in_use) {
    start_gateway(gateway_config{}.set("threads", "2"));
    gateway_config second;
    second.set("listen", "127.0.0.1:" + std::to_string(port())).set("threads", "2");
    with_test_defaults(second, upstream_.url());
    auto const file = write_temp_file(second.yaml(), ".yaml");
    auto const r = run_cli({"--config", file.string()}, 5s);
    std::filesystem::remove(file);
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_NE((r.out + r.err).find("address in use"), std::string::npos) << r.out << r.err;
    // The first one still serves alone.
    EXPECT_EQ(send({"GET", "/still-here", {}, {}}).status, 201U);
}

TEST_F(resource_limits, out_of_descriptors_the_admin_listener_answers_and_nothing_spins) {
    // The gateway under `ulimit -n 256` (PR_SET_PDEATHSIG survives the exec).
    auto const script = write_temp_file(
        "#!/bin/sh\nulimit -n 256 || exit 99\nexec '" + gateway_binary() + "' \"$@\"\n", ".sh");
    std::filesystem::permissions(script, std::filesystem::perms::owner_all);
    gateway_config cfg;
    cfg.set("threads", "2");
    with_test_defaults(cfg, upstream_.url()).set_default("store.backend", "memory");
    gateway_ = std::make_unique<gateway_process>(cfg, script.string());
    std::filesystem::remove(script);

    std::vector<std::unique_ptr<raw_connection>> idle;
    for (int i = 0; i < 400; ++i) idle.push_back(std::make_unique<raw_connection>(port()));
    auto const livez = admin_get("/livez"); // bounded by the client's 5 s
    EXPECT_EQ(livez.status, 200U) << livez.error;
    auto const metrics = admin_get("/metrics");
    EXPECT_EQ(metrics.status, 200U) << metrics.error;
    EXPECT_GT(metric_value(metrics.body,
                           "idemgate_connections_rejected_total{reason=\"max_connections\"}"),
              0);

    auto const before = cpu_seconds_of(gateway_->pid());
    std::this_thread::sleep_for(1s); // measuring CPU over a second: a sleep is the point
    auto const used = cpu_seconds_of(gateway_->pid()) - before;
    EXPECT_LT(used, 0.5) << "the gateway spins with 400 connections over its fd limit";
    EXPECT_EQ(admin_get("/livez").status, 200U);

    auto const capped = gateway_->json_lines("max_connections capped by the file descriptor limit");
    ASSERT_EQ(capped.size(), 1u) << gateway_->output();
    EXPECT_EQ(capped[0].value("max_connections", 0), 10000);
    EXPECT_LT(capped[0].value("capped_to", 100000), 128);
    EXPECT_EQ(capped[0].value("fd_limit", 0), 256);
}

TEST_F(resource_limits, a_client_that_reads_a_response_too_slowly_is_cut_after_timeouts_write) {
    upstream_.set_handler([](recorded_request const&, std::size_t) {
        stub_reply reply;
        reply.status = 200;
        reply.body.assign(32u << 20, 'x'); // more than both sockets' buffers hold
        return reply;
    });
    start_gateway(gateway_config{}.set("timeouts.write", "1s"));
    raw_connection reader(port(), 4096);
    ASSERT_TRUE(reader.connected());
    ASSERT_TRUE(reader.write_all("GET /big HTTP/1.1\r\nHost: t\r\n\r\n"));
    auto const t0 = std::chrono::steady_clock::now();
    ASSERT_TRUE(metric_reaches(*this, "idemgate_connections_active", 1, 5s));
    // Never read: the gateway must give up on the write and free the connection.
    EXPECT_TRUE(metric_reaches(*this, "idemgate_connections_active", 0, 8s))
        << "the slow reader still holds its connection";
    EXPECT_GE(std::chrono::steady_clock::now() - t0, 900ms); // not before timeouts.write
    EXPECT_EQ(upstream_.calls(), 1U);
}

} // namespace
} // namespace idemgate::test
