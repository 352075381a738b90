#include "idemgate/redis/sentinel_resolver.hpp"

#include "idemgate/error.hpp"
#include "idemgate/redis/sentinel_replies.hpp"

#include "sentinel_session.hpp"

#include <algorithm>
#include <string_view>

namespace idemgate::redis {

sentinel_resolver::sentinel_resolver(sentinel_config cfg) : cfg_(std::move(cfg)) {}

task<result<node_address>> sentinel_resolver::resolve() {
    auto const ex = co_await net::this_coro::executor;
    std::string_view const name = cfg_.master_name;
    command const ask{"SENTINEL", "get-master-addr-by-name", name};
    // A copy: another resolve() on this context may reorder the list while this one waits.
    auto const order = cfg_.sentinels;
    for (auto const& sentinel : order) {
        sentinel_session session(ex, cfg_);
        auto const deadline = std::chrono::steady_clock::now() + cfg_.connect_timeout;
        auto const answer = co_await session.open(sentinel, ask, deadline);
        session.close();
        if (!answer) continue;
        auto const master = parse_master_addr(*answer);
        if (!master) continue;
        auto const at = std::find(cfg_.sentinels.begin(), cfg_.sentinels.end(), sentinel);
        if (at != cfg_.sentinels.end()) std::rotate(cfg_.sentinels.begin(), at, at + 1);
        co_return *master;
    }
    co_return make_error_code(errc::store_unavailable);
}

} // namespace idemgate::redis
