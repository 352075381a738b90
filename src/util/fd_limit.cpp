#include "idemgate/util/fd_limit.hpp"

#include <sys/resource.h>

#include <algorithm>

namespace idemgate::util {

std::uint64_t reserved_fds(config::config const& cfg, unsigned threads) noexcept {
    constexpr std::uint64_t fixed = 64;
    constexpr std::uint64_t per_io_context = 3; // epoll, its interrupter, its timer
    std::uint64_t const per_thread =
        per_io_context + cfg.upstream.pool_size +
        (cfg.store.backend == config::store_backend::redis ? cfg.store.redis.pool_size : 0);
    return fixed + threads * per_thread;
}

std::uint32_t connections_for_fds(std::uint64_t fd_limit, config::config const& cfg,
                                  unsigned threads) noexcept {
    auto const reserve = reserved_fds(cfg, threads);
    std::uint64_t const room = fd_limit > reserve ? (fd_limit - reserve) / 2 : 0;
    return static_cast<std::uint32_t>(
        std::clamp<std::uint64_t>(room, 1, cfg.limits.max_connections));
}

std::uint64_t raise_fd_limit() noexcept {
    rlimit lim{};
    if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return 0;
    if (lim.rlim_cur < lim.rlim_max) {
        rlimit raised = lim;
        raised.rlim_cur = lim.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &raised) == 0) lim = raised;
    }
    // RLIM_INFINITY is the largest rlim_t: no cap then.
    return static_cast<std::uint64_t>(lim.rlim_cur);
}

} // namespace idemgate::util
