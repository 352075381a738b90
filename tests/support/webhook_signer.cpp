#include "webhook_signer.hpp"

#include <nlohmann/json.hpp>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <sys/file.h>
#include <unistd.h>

namespace idemgate::test {

namespace fs = std::filesystem;

namespace {

fs::path source_dir() {
    // Not __FILE__: the build may name sources relative to the build directory.
    return fs::path(IDEMGATE_SUPPORT_DIR) / "webhook_signer";
}

fs::path install_dir() {
    return fs::path(IDEMGATE_BINARY).parent_path() / "webhook_signer";
}

std::string read_all(fs::path const& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

/// Runs `command` with the shell; its stdout, or throws with `what` when it fails.
std::string run(std::string const& command, std::string const& what) {
    FILE* pipe = ::popen(command.c_str(), "r");
    if (pipe == nullptr) throw std::runtime_error(what + ": cannot start");
    std::string out;
    std::array<char, 4096> buf{};
    while (auto n = std::fread(buf.data(), 1, buf.size(), pipe)) out.append(buf.data(), n);
    if (::pclose(pipe) != 0) throw std::runtime_error(what + " failed: " + command);
    return out;
}

/// An exclusive flock(2) on `path` while alive: ctest runs tests as parallel processes, and
/// two `npm ci` in one folder delete each other's node_modules.
class file_lock {
public:
    explicit file_lock(fs::path const& path)
        : fd_(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644)) {
        if (fd_ < 0 || ::flock(fd_, LOCK_EX) != 0)
            throw std::runtime_error("cannot lock " + path.string());
    }
    ~file_lock() { ::close(fd_); } // closing releases the lock
    file_lock(file_lock const&) = delete;
    file_lock& operator=(file_lock const&) = delete;

private:
    int fd_;
};

/// npm ci into the build directory, once per lock file content, whatever the number of
/// test processes asking at once.
fs::path installed() {
    static std::mutex m;
    std::lock_guard const lock(m);
    auto const dir = install_dir();
    fs::create_directories(dir);
    file_lock const across_processes(dir / ".install.lock");
    // Rewritten only when changed: another test process may be running sign.mjs.
    for (auto const* name : {"package.json", "package-lock.json", "sign.mjs"}) {
        if (read_all(source_dir() / name) != read_all(dir / name))
            fs::copy_file(source_dir() / name, dir / name, fs::copy_options::overwrite_existing);
    }
    auto const lock_text = read_all(dir / "package-lock.json");
    if (read_all(dir / ".installed-lock") != lock_text || !fs::exists(dir / "node_modules")) {
        run("cd '" + dir.string() + "' && npm ci --no-audit --no-fund --loglevel=error >/dev/null",
            "npm ci (tests/support/webhook_signer)");
        std::ofstream(dir / ".installed-lock", std::ios::binary) << lock_text;
    }
    return dir;
}

} // namespace

bool reference_signer_available() {
    return std::system("command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1") == 0;
}

std::string reference_signature(std::string const& secret, std::string const& id,
                                std::int64_t timestamp, std::string const& body) {
    auto const dir = installed();
    auto const input = fs::temp_directory_path() /
                       ("idemgate-sign-" + std::to_string(::getpid()) + "-" + id + ".json");
    std::ofstream(input, std::ios::binary) << nlohmann::json{
        {"secret", secret},
        {"id", id},
        {"timestamp", timestamp},
        {"body", body}}.dump();
    std::string out;
    try {
        out = run("node '" + (dir / "sign.mjs").string() + "' '" + input.string() + "'",
                  "node sign.mjs");
    } catch (...) {
        fs::remove(input);
        throw;
    }
    fs::remove(input);
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
    return out;
}

} // namespace idemgate::test
