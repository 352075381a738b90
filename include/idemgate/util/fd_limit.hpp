#pragma once
// How many client connections the file descriptor limit (RLIMIT_NOFILE) leaves room for,
// so that a full gateway still has descriptors for its upstream and Redis connections and
// its admin listener (issue 9: out of descriptors, /livez and /metrics stopped answering).
#include "idemgate/config/config.hpp"

#include <cstdint>

namespace idemgate::util {

/// Descriptors kept out of the client share: the worker's own (epoll, eventfd, timerfd),
/// its idle upstream and Redis pools, plus a fixed 64 for stdio, the listeners, the admin
/// connections, the signal pipe and files the libraries open.
std::uint64_t reserved_fds(config::config const& cfg, unsigned threads) noexcept;

/// The largest max_connections `fd_limit` allows: each client connection may also hold one
/// upstream connection while its request is in flight, so it counts twice. At least 1.
std::uint32_t connections_for_fds(std::uint64_t fd_limit, config::config const& cfg,
                                  unsigned threads) noexcept;

/// Raises the soft RLIMIT_NOFILE to the hard one (as Go and nginx's worker_rlimit_nofile
/// do) and returns the soft limit now in force; 0 when it cannot be read.
std::uint64_t raise_fd_limit() noexcept;

} // namespace idemgate::util
