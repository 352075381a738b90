#pragma once
// A real `prometheus` server (Debian's package) as a child process on a free loopback port,
// scraping the given targets and evaluating the given rule files every second, with its
// storage in a fresh temp dir: for tests that check dashboards and rules against what
// Prometheus really makes of the gateway's /metrics (tests/prometheus/).
#include <nlohmann/json.hpp>

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace idemgate::test {

/// `prometheus` on PATH, or "" when it is not installed.
std::string find_prometheus();

/// Every wait is bounded (ready 30 s, stop 10 s then SIGKILL, one HTTP call 5 s). The child
/// dies with the test process (PR_SET_PDEATHSIG). Not thread-safe; use from the test thread.
class prometheus_server {
public:
    struct options {
        std::string job = "idemgate";
        std::vector<std::string> targets;              // "127.0.0.1:PORT" of /metrics
        std::vector<std::filesystem::path> rule_files; // absolute paths
        std::chrono::seconds interval{1};              // scrape and rule evaluation
    };
    /// Writes the config, starts the server and waits for /-/ready. Throws
    /// std::runtime_error (with the server's log) when it is not ready within 30 s.
    explicit prometheus_server(options opt);
    /// stop(), then removes the temp dir.
    ~prometheus_server();
    prometheus_server(prometheus_server const&) = delete;
    prometheus_server& operator=(prometheus_server const&) = delete;

    /// SIGTERM and wait (SIGKILL after 10 s). Idempotent.
    void stop();

    std::uint16_t port() const noexcept { return port_; }
    /// GET `target` ("/api/v1/targets") and its body parsed as JSON; an object with
    /// "status": "transport" and "error" when there was no answer or no JSON.
    nlohmann::json get(std::string const& target) const;
    /// GET /api/v1/query for `promql` at the current time: {"status", "data"} or
    /// {"status": "error", "error"} as the HTTP API answers.
    nlohmann::json query(std::string const& promql) const;
    /// The last 4000 bytes of the server's own log (for failure messages).
    std::string log_tail() const;

private:
    void write_config(options const& opt) const;
    bool start_once();

    std::filesystem::path dir_;
    std::string binary_;
    std::uint16_t port_ = 0;
    pid_t pid_ = -1;
};

/// `text` percent-encoded for a URL's query component (RFC 3986 unreserved kept).
std::string url_encode(std::string const& text);

} // namespace idemgate::test
