#pragma once
// store.redis.mode: standalone: one primary at the URL.
#include "idemgate/redis/router.hpp"

#include <memory>
#include <vector>

namespace idemgate::redis {

/// `pool_size` pipelined connections to one server, used round-robin.
class standalone_router final : public router {
public:
    standalone_router(net::any_io_executor const& ex,
                      std::shared_ptr<connection_config const> const& cfg, std::uint32_t pool_size);
    ~standalone_router() override;
    standalone_router(standalone_router const&) = delete;
    standalone_router& operator=(standalone_router const&) = delete;

    void start() override;
    void stop() override;
    /// To the next usable connection; errc::store_unavailable at once when none is.
    task<routed> execute(std::string_view key, std::span<std::string_view const> args,
                         time_point deadline) override;
    /// Any connection up or making its first attempt (calls wait for it within their
    /// deadline rather than fail): down exactly when calls fail at once.
    bool ready() const noexcept override;

    /// The pool (tests: pipelining, write counts).
    std::vector<std::shared_ptr<connection>> const& connections() const noexcept { return conns_; }

private:
    std::shared_ptr<connection> pick();

    std::vector<std::shared_ptr<connection>> conns_; // fixed after construction
    std::size_t next_ = 0;
};

} // namespace idemgate::redis
