#pragma once
// Child processes of the test harness (redis-server, redis-cli, openssl): spawn and reap,
// every wait bounded.
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace idemgate::test {

/// Runs `args` (args[0] looked up in PATH) with stdin/stdout/stderr on /dev/null; returns the
/// pid. Throws std::runtime_error when it cannot be started.
pid_t spawn_quiet(std::vector<std::string> args);

/// fork + exec of `argv` (argv[0] a path) with stdin on /dev/null and stdout/stderr on
/// `out_fd`/`err_fd`. The child only makes system calls before exec (the parent has threads)
/// and gets SIGKILL when the spawning thread dies (PR_SET_PDEATHSIG, which posix_spawn cannot
/// set), so no gateway or server outlives a crashed test. Throws when fork fails.
pid_t spawn_attached(std::vector<std::string> const& argv, int out_fd, int err_fd);

/// spawn_attached with stdout and stderr appended to `log` (created when missing).
pid_t spawn_logged(std::vector<std::string> const& argv, std::filesystem::path const& log);

/// Waits up to `limit` for `pid` to exit, then SIGKILLs it; returns the wait status.
int reap_within(pid_t pid, std::chrono::milliseconds limit);

} // namespace idemgate::test
