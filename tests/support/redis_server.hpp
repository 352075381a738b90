#pragma once
// A real redis-server child process on a free loopback port, for store and integration tests.
#include "idemgate/redis/resp.hpp"

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace idemgate::test {

/// Runs `redis-server --port P --bind 127.0.0.1 --save "" --appendonly no
/// --enable-debug-command yes` in a fresh temp dir. Every wait is bounded (start 5 s, stop 5 s
/// then SIGKILL, one command 2 s). Not thread-safe; use from the test thread.
class redis_server {
public:
    /// Starts at once on a free port; `extra_args` are appended (e.g. {"--requirepass", "pw"}).
    /// Throws std::runtime_error when it does not answer within 5 s.
    explicit redis_server(std::vector<std::string> extra_args = {});

    /// Tag: serve TLS only, with a self-signed certificate for DNS:localhost and
    /// IP:127.0.0.1 made by the openssl tool in the temp dir. command() cannot reach it.
    struct tls_only {};
    explicit redis_server(tls_only, std::vector<std::string> extra_args = {});
    /// A config file, written to the temp dir and given first on the command line (the other
    /// arguments override it): for a sentinel, which needs a file it can rewrite.
    struct config_text {
        std::string text;
    };
    explicit redis_server(config_text config, std::vector<std::string> extra_args = {});
    ~redis_server();
    redis_server(redis_server const&) = delete;
    redis_server& operator=(redis_server const&) = delete;

    /// SIGTERM (after SIGCONT when paused), waits for the exit (SIGKILL after 5 s). Idempotent.
    void stop();
    /// Starts again on the same port (same data dir). Throws like the constructor.
    void start();
    /// Replaces the arguments given after the defaults, from the next start() on.
    void set_extra_args(std::vector<std::string> extra_args) {
        extra_args_ = std::move(extra_args);
    }
    /// SIGSTOP / SIGCONT: the socket stays open but nothing is answered while paused.
    void pause();
    void resume();
    /// SIGKILL (a crash: nothing flushed, no goodbye to peers) and reap. Idempotent; start()
    /// brings it back on the same port and data dir.
    void kill();
    /// True between a successful start() and stop()/kill().
    bool running() const noexcept { return pid_ > 0; }

    std::uint16_t port() const noexcept { return port_; }
    /// `redis://127.0.0.1:<port>/<db>` (no credentials).
    std::string url(std::uint32_t db = 0) const;
    /// Where the server logs (for the message of a failing test).
    std::filesystem::path log_file() const { return dir_ / "redis.log"; }
    /// The self-signed certificate of a tls_only server (its own CA).
    std::filesystem::path ca_file() const { return dir_ / "cert.pem"; }

    /// Credentials for command() (AUTH is sent first when `password` is not empty).
    void use_auth(std::string user, std::string password);
    /// Runs one command on a fresh blocking connection (SELECT `db` first when not 0) and
    /// returns its reply; throws std::runtime_error on I/O failure or after 2 s.
    redis::reply command(std::vector<std::string> const& args, std::uint32_t db = 0) const;
    /// Runs `cmds` pipelined on one fresh connection (so that WAIT sees the writes before
    /// it) and returns every reply; throws like command().
    std::vector<redis::reply> pipeline(std::vector<std::vector<std::string>> const& cmds) const;
    /// `field` of an INFO section line `field:value` (e.g. "used_memory"), or "".
    std::string info_field(std::string const& section, std::string const& field) const;

private:
    static std::uint16_t free_port();
    void make_dir();
    void start_on_free_port();
    void make_certificate();
    void spawn();
    bool answers() const;

    std::vector<std::string> extra_args_;
    std::filesystem::path dir_;
    std::uint16_t port_ = 0;
    pid_t pid_ = -1;
    bool paused_ = false;
    bool tls_ = false;
    bool has_config_ = false;
    std::string user_;
    std::string password_;
};

/// One server for every test of the process that only needs "a redis" (the conformance
/// suite), started on first use and stopped at exit. Tests sharing it use distinct keys.
redis_server& shared_redis_server();
/// shared_redis_server().url(): for callers that only need the address.
std::string shared_redis_url();

/// Total calls of every command in `INFO commandstats` except those named in `except`.
std::uint64_t command_calls(redis_server const& server, std::vector<std::string> const& except);
/// Calls of one command (e.g. "evalsha") in `INFO commandstats`; 0 when absent.
std::uint64_t command_calls_of(redis_server const& server, std::string const& name);

} // namespace idemgate::test
