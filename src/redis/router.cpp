// What the routers share: the pools they open, and what a process's routers count together.
#include "idemgate/redis/router.hpp"

#include <algorithm>

namespace idemgate::redis {

std::uint64_t topology_stats::saw_primaries(std::vector<node_address> const& now) {
    std::lock_guard lock(mu_);
    std::uint64_t fresh = 0;
    if (!known_.empty()) {
        fresh =
            static_cast<std::uint64_t>(std::count_if(now.begin(), now.end(), [&](auto const& n) {
                return std::find(known_.begin(), known_.end(), n) == known_.end();
            }));
    }
    // The process's view becomes this one: the other threads' routers, adopting the same
    // map or master after this one, count nothing; a later fail-back counts again.
    known_ = now;
    master_changes.fetch_add(fresh);
    return fresh;
}

task<bool> backoff_pause(net::any_io_executor ex, std::chrono::milliseconds& backoff,
                         connection::time_point deadline) {
    auto const wake = std::min(deadline, std::chrono::steady_clock::now() + backoff);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(100));
    steady_timer t(ex);
    t.expires_at(wake);
    co_await t.async_wait(use_nothrow);
    co_return std::chrono::steady_clock::now() < deadline;
}

std::vector<std::shared_ptr<connection>> connections_to(net::any_io_executor const& ex,
                                                        connection_config const& base,
                                                        node_address const& node, std::uint32_t n) {
    auto cfg = std::make_shared<connection_config>(base);
    cfg->url.host = node.host;
    cfg->url.port = node.port;
    std::vector<std::shared_ptr<connection>> out;
    out.reserve(n);
    for (std::uint32_t i = 0; i < n; ++i) out.push_back(std::make_shared<connection>(ex, cfg));
    return out;
}

} // namespace idemgate::redis
