// store.redis.mode: standalone: one primary, a few pipelined connections used round-robin.
#include "idemgate/redis/standalone_router.hpp"

#include "idemgate/error.hpp"

#include <algorithm>

namespace idemgate::redis {

standalone_router::standalone_router(net::any_io_executor const& ex,
                                     std::shared_ptr<connection_config const> const& cfg,
                                     std::uint32_t pool_size) {
    auto const n = std::max<std::uint32_t>(pool_size, 1);
    conns_.reserve(n);
    for (std::uint32_t i = 0; i < n; ++i) conns_.push_back(std::make_shared<connection>(ex, cfg));
}

standalone_router::~standalone_router() {
    stop();
}

void standalone_router::start() {
    for (auto const& c : conns_) c->start();
}

void standalone_router::stop() {
    for (auto const& c : conns_) c->stop();
}

task<routed> standalone_router::execute(std::string_view, std::span<std::string_view const> args,
                                        time_point deadline) {
    auto conn = pick();
    if (!conn) co_return routed{make_error_code(errc::store_unavailable), nullptr};
    auto r = co_await conn->execute(command(args), deadline);
    co_return routed{std::move(r), std::move(conn)};
}

bool standalone_router::ready() const noexcept {
    return std::any_of(conns_.begin(), conns_.end(),
                       [](auto const& c) { return c->link() != link_state::down; });
}

std::shared_ptr<connection> standalone_router::pick() {
    // Round-robin over usable connections; none usable: fail fast (the loops reconnect).
    for (std::size_t i = 0; i < conns_.size(); ++i) {
        auto const idx = (next_ + i) % conns_.size();
        if (conns_[idx]->link() == link_state::down) continue;
        next_ = (idx + 1) % conns_.size();
        return conns_[idx];
    }
    return nullptr;
}

std::shared_ptr<router> make_standalone_router(net::any_io_executor const& ex,
                                               std::shared_ptr<connection_config const> const& cfg,
                                               std::uint32_t pool_size) {
    return std::make_shared<standalone_router>(ex, cfg, pool_size);
}

} // namespace idemgate::redis
