#pragma once
// Runs the real `idemgate` binary as a child process for black-box tests: writes its YAML
// config, waits for the "listening" log line, collects every later line, and stops it with
// SIGTERM (SIGKILL if it does not exit in time).
#include "support/gateway_config.hpp"

#include <nlohmann/json.hpp>

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace idemgate::test {

/// The gateway binary under test: $IDEMGATE_TEST_BINARY when set (the sanitizer pass runs
/// these tests against its ASan + UBSan build), otherwise the one built next to the tests.
std::string gateway_binary();

/// Output and exit status of a short CLI run.
struct cli_result {
    int exit_code = -1; // 128 + signal when killed; -1 when it did not end in time
    std::string out;
    std::string err;
};

/// Runs `binary args...` with stdout and stderr captured; kills it after `timeout`.
cli_result run_cli(std::vector<std::string> const& args,
                   std::chrono::milliseconds timeout = std::chrono::milliseconds{10000},
                   std::string const& binary = gateway_binary());

/// Writes `text` to a fresh file in the temp directory; the caller removes it.
std::filesystem::path write_temp_file(std::string const& text, std::string const& suffix);

/// A YAML config file (write_temp_file), removed with the object: for --check-config runs;
/// with another `suffix`, any file a config names (a keys file).
struct temp_config_file {
    explicit temp_config_file(std::string const& text, std::string const& suffix = ".yaml")
        : path(write_temp_file(text, suffix)) {}
    ~temp_config_file() { std::filesystem::remove(path); }
    temp_config_file(temp_config_file const&) = delete;
    temp_config_file& operator=(temp_config_file const&) = delete;
    std::filesystem::path path;
};

/// A running gateway. Construction throws std::runtime_error (with the collected output)
/// when the binary does not print its "listening" line within 10 s.
/// @par Thread Safety: accessors may be called from any thread.
class gateway_process {
public:
    explicit gateway_process(gateway_config const& cfg, std::string binary = gateway_binary());
    ~gateway_process();
    gateway_process(gateway_process const&) = delete;
    gateway_process& operator=(gateway_process const&) = delete;

    std::uint16_t port() const noexcept { return port_; }
    std::uint16_t admin_port() const noexcept { return admin_port_; }
    pid_t pid() const noexcept { return pid_; }

    /// SIGTERM, then waits up to `timeout` (SIGKILL after it). Returns the exit code, 128 +
    /// signal when killed by one. Idempotent: later calls return the first result.
    int terminate(std::chrono::milliseconds timeout = std::chrono::milliseconds{8000});
    /// Sends `sig` without waiting.
    void signal(int sig) const;

    /// Every output line so far (stdout and stderr interleaved).
    std::vector<std::string> lines() const;
    /// Every line that is a JSON object with "msg" == `msg`.
    std::vector<nlohmann::json> json_lines(std::string const& msg) const;
    /// Waits until a JSON line satisfies `pred` (called under the output lock: it must not
    /// call this object); nullopt after `timeout` or when the process has exited.
    std::optional<nlohmann::json> wait_for_json(std::function<bool(nlohmann::json const&)> pred,
                                                std::chrono::milliseconds timeout) const;
    /// The whole output, for failure messages.
    std::string output() const;

private:
    void read_output(int fd);
    void wait_until_listening();
    std::optional<int> reap(std::chrono::milliseconds timeout);

    std::filesystem::path config_file_;
    pid_t pid_ = -1;
    std::optional<int> exit_code_;
    std::uint16_t port_ = 0;
    std::uint16_t admin_port_ = 0;
    mutable std::mutex mutex_;
    mutable std::condition_variable changed_;
    std::vector<std::string> lines_;
    bool output_closed_ = false;
    std::thread reader_;
};

} // namespace idemgate::test
