#include "support/redis_server.hpp"

#include "support/child_process.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace idemgate::test {

namespace {

using clock_type = std::chrono::steady_clock;
using namespace std::chrono_literals;

std::string log_tail(std::filesystem::path const& file) {
    std::ifstream in(file);
    std::stringstream ss;
    ss << in.rdbuf();
    auto text = ss.str();
    return text.size() > 2000 ? text.substr(text.size() - 2000) : text;
}

} // namespace

redis_server::redis_server(std::vector<std::string> extra_args)
    : extra_args_(std::move(extra_args)) {
    make_dir();
    start_on_free_port();
}

redis_server::redis_server(tls_only, std::vector<std::string> extra_args)
    : extra_args_(std::move(extra_args)), tls_(true) {
    make_dir();
    make_certificate();
    start_on_free_port();
}

redis_server::redis_server(config_text config, std::vector<std::string> extra_args)
    : extra_args_(std::move(extra_args)), has_config_(true) {
    make_dir();
    std::ofstream(dir_ / "redis.conf") << config.text;
    start_on_free_port();
}

void redis_server::make_dir() {
    std::string templ = (std::filesystem::temp_directory_path() / "idemgate-redis-XXXXXX").string();
    if (::mkdtemp(templ.data()) == nullptr) throw std::runtime_error("redis_server: mkdtemp");
    dir_ = templ;
}

void redis_server::start_on_free_port() {
    // A port found free may be taken before redis binds it: try a few.
    for (int attempt = 0;; ++attempt) {
        port_ = free_port();
        try {
            start();
            return;
        } catch (std::runtime_error const&) {
            if (attempt == 4) {
                std::error_code ignored;
                std::filesystem::remove_all(dir_, ignored);
                throw;
            }
        }
    }
}

void redis_server::make_certificate() {
    auto const key = (dir_ / "key.pem").string();
    auto const cert = ca_file().string();
    // clang-format off
    std::vector<std::string> args{
        "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
        "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=localhost",
        "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"};
    // clang-format on
    int const status = reap_within(spawn_quiet(std::move(args)), 10s);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        throw std::runtime_error("redis_server: openssl failed to make a certificate");
    }
}

redis_server::~redis_server() {
    stop();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
}

void redis_server::spawn() {
    auto const port = std::to_string(port_);
    // clang-format off
    std::vector<std::string> args{
        "redis-server", "--port", tls_ ? "0" : port, "--bind", "127.0.0.1", "--save", "",
        "--appendonly", "no", "--enable-debug-command", "yes", "--dir", dir_.string(),
        "--logfile", (dir_ / "redis.log").string()};
    // clang-format on
    // redis-server takes a config file only as its first argument.
    if (has_config_) args.insert(args.begin() + 1, (dir_ / "redis.conf").string());
    if (tls_) {
        auto const cert = ca_file().string();
        auto const key = (dir_ / "key.pem").string();
        args.insert(args.end(), {"--tls-port", port, "--tls-cert-file", cert, "--tls-key-file", key,
                                 "--tls-ca-cert-file", cert, "--tls-auth-clients", "no"});
    }
    args.insert(args.end(), extra_args_.begin(), extra_args_.end());
    pid_ = spawn_quiet(std::move(args));
}

void redis_server::start() {
    if (pid_ > 0) return;
    spawn();
    auto const deadline = clock_type::now() + 5s;
    while (clock_type::now() < deadline) {
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            throw std::runtime_error("redis_server: redis-server exited: " +
                                     log_tail(dir_ / "redis.log"));
        }
        if (answers()) return;
        std::this_thread::sleep_for(20ms);
    }
    stop();
    throw std::runtime_error("redis_server: no answer to PING within 5 s");
}

void redis_server::stop() {
    if (pid_ <= 0) return;
    if (paused_) ::kill(pid_, SIGCONT);
    paused_ = false;
    ::kill(pid_, SIGTERM);
    reap_within(pid_, 5s);
    pid_ = -1;
}

void redis_server::kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    reap_within(pid_, 5s);
    pid_ = -1;
    paused_ = false;
}

void redis_server::pause() {
    if (pid_ > 0 && ::kill(pid_, SIGSTOP) == 0) paused_ = true;
}

void redis_server::resume() {
    if (pid_ > 0 && ::kill(pid_, SIGCONT) == 0) paused_ = false;
}

std::string redis_server::url(std::uint32_t db) const {
    return "redis://127.0.0.1:" + std::to_string(port_) + "/" + std::to_string(db);
}

redis_server& shared_redis_server() {
    static redis_server server;
    return server;
}

std::string shared_redis_url() {
    return shared_redis_server().url();
}

} // namespace idemgate::test
