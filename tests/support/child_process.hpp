#pragma once
// Child processes of the test harness (redis-server, redis-cli, openssl): spawn and reap,
// every wait bounded.
#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace idemgate::test {

/// Runs `args` (args[0] looked up in PATH) with stdin/stdout/stderr on /dev/null; returns the
/// pid. Throws std::runtime_error when it cannot be started.
pid_t spawn_quiet(std::vector<std::string> args);

/// Waits up to `limit` for `pid` to exit, then SIGKILLs it; returns the wait status.
int reap_within(pid_t pid, std::chrono::milliseconds limit);

} // namespace idemgate::test
