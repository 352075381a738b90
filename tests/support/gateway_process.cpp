#include "support/gateway_process.hpp"

#include "support/child_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <stdexcept>

namespace idemgate::test {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

namespace {

std::array<int, 2> make_pipe() {
    std::array<int, 2> fds{-1, -1};
    if (::pipe2(fds.data(), O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
    return fds;
}

int decode_status(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return -1;
}

std::optional<int> wait_exit(pid_t pid, std::chrono::milliseconds timeout) {
    auto const deadline = clock_type::now() + timeout;
    for (;;) {
        int status = 0;
        pid_t const r = ::waitpid(pid, &status, WNOHANG);
        if (r == pid) return decode_status(status);
        if (r < 0) return -1;
        if (clock_type::now() >= deadline) return std::nullopt;
        std::this_thread::sleep_for(5ms);
    }
}

std::uint16_t port_of(nlohmann::json const& line, char const* field) {
    if (!line.contains(field) || !line[field].is_string()) return 0;
    auto const text = line[field].get<std::string>();
    auto const colon = text.rfind(':');
    if (colon == std::string::npos) return 0;
    return static_cast<std::uint16_t>(std::stoul(text.substr(colon + 1)));
}

} // namespace

std::filesystem::path write_temp_file(std::string const& text, std::string const& suffix) {
    static std::atomic<unsigned> counter{0};
    auto const path = std::filesystem::temp_directory_path() /
                      ("idemgate-it-" + std::to_string(::getpid()) + "-" +
                       std::to_string(counter.fetch_add(1)) + suffix);
    std::ofstream(path, std::ios::binary) << text;
    return path;
}

namespace {

/// Reads both pipes into `out`/`err` until both close or `deadline`; closes them. True when
/// both reached end of file (the child closed its ends, normally by exiting).
bool drain_pipes(int out_fd, int err_fd, cli_result& result, clock_type::time_point deadline) {
    std::array<pollfd, 2> fds{pollfd{out_fd, POLLIN, 0}, pollfd{err_fd, POLLIN, 0}};
    std::array<std::string*, 2> sinks{&result.out, &result.err};
    int open_fds = 2;
    while (open_fds > 0 && clock_type::now() < deadline) {
        if (::poll(fds.data(), fds.size(), 50) <= 0) continue;
        for (std::size_t i = 0; i < fds.size(); ++i) {
            if (fds[i].fd < 0 || fds[i].revents == 0) continue;
            std::array<char, 4096> buf{};
            ssize_t const n = ::read(fds[i].fd, buf.data(), buf.size());
            if (n > 0) {
                sinks[i]->append(buf.data(), static_cast<std::size_t>(n));
                continue;
            }
            ::close(fds[i].fd);
            fds[i].fd = -1; // poll ignores negative descriptors
            --open_fds;
        }
    }
    for (auto const& f : fds) {
        if (f.fd >= 0) ::close(f.fd);
    }
    return open_fds == 0;
}

} // namespace

std::string gateway_binary() {
    char const* env = std::getenv("IDEMGATE_TEST_BINARY");
    return env != nullptr && *env != '\0' ? std::string{env} : std::string{IDEMGATE_BINARY};
}

cli_result run_cli(std::vector<std::string> const& args, std::chrono::milliseconds timeout,
                   std::string const& binary) {
    auto out_pipe = make_pipe();
    auto err_pipe = make_pipe();
    std::vector<std::string> argv{binary};
    argv.insert(argv.end(), args.begin(), args.end());
    pid_t const pid = spawn_attached(argv, out_pipe[1], err_pipe[1]);
    ::close(out_pipe[1]);
    ::close(err_pipe[1]);
    cli_result result;
    bool const closed = drain_pipes(out_pipe[0], err_pipe[0], result, clock_type::now() + timeout);
    auto code = wait_exit(pid, closed ? timeout : 0ms);
    if (!code) {
        ::kill(pid, SIGKILL);
        wait_exit(pid, 5s);
    }
    result.exit_code = code.value_or(-1);
    return result;
}

gateway_process::gateway_process(gateway_config const& cfg, std::string binary)
    : config_file_(write_temp_file(cfg.yaml(), ".yaml")) {
    auto out_pipe = make_pipe();
    pid_ = spawn_attached({binary, "--config", config_file_.string()}, out_pipe[1], out_pipe[1]);
    ::close(out_pipe[1]);
    reader_ = std::thread([this, fd = out_pipe[0]] { read_output(fd); });
    try {
        wait_until_listening();
    } catch (...) {
        terminate(2s);
        reader_.join();
        std::filesystem::remove(config_file_);
        throw;
    }
}

gateway_process::~gateway_process() {
    terminate();
    if (reader_.joinable()) reader_.join();
    std::error_code ignored;
    std::filesystem::remove(config_file_, ignored);
}

void gateway_process::read_output(int fd) {
    std::string pending;
    std::array<char, 4096> buf{};
    for (;;) {
        ssize_t const n = ::read(fd, buf.data(), buf.size());
        if (n <= 0) break;
        pending.append(buf.data(), static_cast<std::size_t>(n));
        std::lock_guard lock(mutex_);
        for (auto nl = pending.find('\n'); nl != std::string::npos; nl = pending.find('\n')) {
            lines_.push_back(pending.substr(0, nl));
            pending.erase(0, nl + 1);
        }
        changed_.notify_all();
    }
    ::close(fd);
    std::lock_guard lock(mutex_);
    if (!pending.empty()) lines_.push_back(pending);
    output_closed_ = true;
    changed_.notify_all();
}

void gateway_process::wait_until_listening() {
    auto const line = wait_for_json(
        [](nlohmann::json const& j) { return j.value("msg", "") == "listening"; }, 10s);
    if (!line) {
        auto const code = reap(0ms); // set when it already exited (127: exec failed)
        throw std::runtime_error("idemgate did not print its listening line (" +
                                 (code ? "exit code " + std::to_string(*code) : "still running") +
                                 "); output:\n" + output());
    }
    port_ = port_of(*line, "listen");
    admin_port_ = port_of(*line, "admin");
    if (port_ == 0) throw std::runtime_error("listening line without a port: " + line->dump());
}

std::optional<int> gateway_process::reap(std::chrono::milliseconds timeout) {
    if (!exit_code_ && pid_ > 0) exit_code_ = wait_exit(pid_, timeout);
    return exit_code_;
}

int gateway_process::terminate(std::chrono::milliseconds timeout) {
    if (exit_code_) return *exit_code_;
    signal(SIGTERM);
    if (auto code = reap(timeout)) return *code;
    signal(SIGKILL);
    return reap(5s).value_or(-1);
}

void gateway_process::signal(int sig) const {
    if (pid_ > 0 && !exit_code_) ::kill(pid_, sig);
}

std::vector<std::string> gateway_process::lines() const {
    std::lock_guard lock(mutex_);
    return lines_;
}

std::vector<nlohmann::json> gateway_process::json_lines(std::string const& msg) const {
    std::vector<nlohmann::json> out;
    for (auto const& line : lines()) {
        auto j = nlohmann::json::parse(line, nullptr, false);
        if (j.is_object() && j.value("msg", "") == msg) out.push_back(std::move(j));
    }
    return out;
}

std::optional<nlohmann::json>
gateway_process::wait_for_json(std::function<bool(nlohmann::json const&)> pred,
                               std::chrono::milliseconds timeout) const {
    auto const deadline = clock_type::now() + timeout;
    std::size_t seen = 0;
    std::unique_lock lock(mutex_);
    for (;;) {
        for (; seen < lines_.size(); ++seen) {
            auto j = nlohmann::json::parse(lines_[seen], nullptr, false);
            if (j.is_object() && pred(j)) return j;
        }
        if (output_closed_) return std::nullopt;
        if (changed_.wait_until(lock, deadline) == std::cv_status::timeout && seen == lines_.size())
            return std::nullopt;
    }
}

std::string gateway_process::output() const {
    std::string out;
    for (auto const& line : lines()) out += line + "\n";
    return out;
}

} // namespace idemgate::test
