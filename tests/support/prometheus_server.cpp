#include "support/prometheus_server.hpp"

#include "support/child_process.hpp"
#include "support/http_client.hpp"
#include "support/upstream_stub.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace idemgate::test {

namespace {

using clock_type = std::chrono::steady_clock;
using namespace std::chrono_literals;

/// True once `pid` has exited (reaped); false while it runs.
bool exited(pid_t pid) {
    int status = 0;
    return ::waitpid(pid, &status, WNOHANG) == pid;
}

} // namespace

std::string find_prometheus() {
    char const* path = std::getenv("PATH");
    std::istringstream dirs(path != nullptr ? path : "/usr/bin:/bin");
    std::string dir;
    while (std::getline(dirs, dir, ':')) {
        auto const candidate = std::filesystem::path(dir) / "prometheus";
        if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
    }
    return {};
}

std::string url_encode(std::string const& text) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    for (char const ch : text) {
        auto const c = static_cast<unsigned char>(ch);
        if (std::isalnum(c) != 0 || ch == '-' || ch == '_' || ch == '.' || ch == '~') {
            out += ch;
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

prometheus_server::prometheus_server(options opt) : binary_(find_prometheus()) {
    if (binary_.empty())
        throw std::runtime_error("prometheus not found on PATH: scripts/install-deps.sh installs "
                                 "Debian's prometheus package");
    std::string templ = (std::filesystem::temp_directory_path() / "idemgate-prom-XXXXXX").string();
    if (::mkdtemp(templ.data()) == nullptr) throw std::runtime_error("prometheus_server: mkdtemp");
    dir_ = templ;
    write_config(opt);
    // A port found free may be taken before prometheus binds it: try a few.
    for (int attempt = 0; attempt < 3; ++attempt) {
        if (start_once()) return;
    }
    auto const log = log_tail();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
    throw std::runtime_error("prometheus did not become ready:\n" + log);
}

prometheus_server::~prometheus_server() {
    stop();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
}

void prometheus_server::write_config(options const& opt) const {
    auto const every = std::to_string(opt.interval.count()) + "s";
    std::ofstream out(dir_ / "prometheus.yml");
    out << "global:\n"
        << "  scrape_interval: " << every << "\n"
        << "  scrape_timeout: " << every << "\n"
        << "  evaluation_interval: " << every << "\n"
        << "rule_files:\n";
    for (auto const& f : opt.rule_files) out << "  - " << nlohmann::json(f.string()).dump() << "\n";
    out << "scrape_configs:\n"
        << "  - job_name: " << nlohmann::json(opt.job).dump() << "\n"
        << "    static_configs:\n"
        << "      - targets: " << nlohmann::json(opt.targets).dump() << "\n";
    if (!out) throw std::runtime_error("prometheus_server: cannot write its config");
}

bool prometheus_server::start_once() {
    port_ = unused_port();
    pid_ = spawn_logged({binary_, "--config.file=" + (dir_ / "prometheus.yml").string(),
                         "--storage.tsdb.path=" + (dir_ / "data").string(),
                         "--web.listen-address=127.0.0.1:" + std::to_string(port_)},
                        dir_ / "prometheus.log");
    auto const deadline = clock_type::now() + 30s;
    while (clock_type::now() < deadline) {
        if (exited(pid_)) { // a bad config, or the port taken meanwhile
            pid_ = -1;
            return false;
        }
        http_client client(port_, {std::chrono::milliseconds{1000}, false});
        if (client.send({"GET", "/-/ready", {}, {}}).status == 200) return true;
        std::this_thread::sleep_for(50ms);
    }
    stop();
    return false;
}

void prometheus_server::stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    auto const deadline = clock_type::now() + 10s;
    int status = 0;
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
        if (clock_type::now() >= deadline) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, &status, 0);
            break;
        }
        std::this_thread::sleep_for(10ms);
    }
    pid_ = -1;
}

nlohmann::json prometheus_server::get(std::string const& target) const {
    auto const res = send_request(port_, {"GET", target, {}, {}});
    if (res.status == 0) return {{"status", "transport"}, {"error", res.error}};
    auto j = nlohmann::json::parse(res.body, nullptr, false);
    if (j.is_discarded() || !j.is_object())
        return {{"status", "transport"},
                {"error", "HTTP " + std::to_string(res.status) + ": " + res.body.substr(0, 300)}};
    return j;
}

nlohmann::json prometheus_server::query(std::string const& promql) const {
    return get("/api/v1/query?query=" + url_encode(promql));
}

std::string prometheus_server::log_tail() const {
    std::ifstream in(dir_ / "prometheus.log");
    std::stringstream ss;
    ss << in.rdbuf();
    auto text = ss.str();
    return text.size() > 4000 ? text.substr(text.size() - 4000) : text;
}

} // namespace idemgate::test
