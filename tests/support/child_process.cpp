#include "support/child_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <stdexcept>
#include <thread>

extern char** environ;

namespace idemgate::test {

using namespace std::chrono_literals;

pid_t spawn_quiet(std::vector<std::string> args) {
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    for (int fd = 0; fd <= 2; ++fd) {
        posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY,
                                         0);
    }
    pid_t pid = -1;
    int const rc = ::posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) throw std::runtime_error("test: cannot run " + args[0]);
    return pid;
}

pid_t spawn_attached(std::vector<std::string> const& argv, int out_fd, int err_fd) {
    std::vector<char*> args;
    for (auto const& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_t const pid = ::fork();
    if (pid < 0) throw std::runtime_error("test: fork failed for " + argv.at(0));
    if (pid == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        int const null_fd = ::open("/dev/null", O_RDONLY);
        ::dup2(null_fd, 0);
        ::dup2(out_fd, 1);
        ::dup2(err_fd, 2);
        ::execv(args[0], args.data());
        ::_exit(127);
    }
    return pid;
}

pid_t spawn_logged(std::vector<std::string> const& argv, std::filesystem::path const& log) {
    int const log_fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (log_fd < 0) throw std::runtime_error("test: cannot open " + log.string());
    try {
        pid_t const pid = spawn_attached(argv, log_fd, log_fd);
        ::close(log_fd);
        return pid;
    } catch (...) {
        ::close(log_fd);
        throw;
    }
}

int reap_within(pid_t pid, std::chrono::milliseconds limit) {
    auto const deadline = std::chrono::steady_clock::now() + limit;
    int status = 0;
    while (::waitpid(pid, &status, WNOHANG) == 0) {
        if (std::chrono::steady_clock::now() >= deadline) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, &status, 0);
            break;
        }
        std::this_thread::sleep_for(10ms);
    }
    return status;
}

} // namespace idemgate::test
