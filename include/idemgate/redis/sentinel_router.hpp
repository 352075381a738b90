#pragma once
// store.redis.mode: sentinel (redis.io, "Sentinel client spec"): the master the sentinels
// name, confirmed by ROLE, followed through failovers (+switch-master, READONLY, loss).
#include "idemgate/redis/cluster_redirect.hpp"
#include "idemgate/redis/router.hpp"
#include "idemgate/redis/sentinel_config.hpp"
#include "idemgate/redis/sentinel_resolver.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

namespace idemgate::redis {

class sentinel_watch;

/// Same threading as connection: everything on the io_context of `ex`, one router per thread.
/// A background coroutine resolves the master (sentinel_resolver), keeps `pool_size`
/// pipelined connections to it and confirms with ROLE that it is a master; it resolves again
/// when every connection is down, on a READONLY reply, on a +switch-master from its
/// sentinel_watch and each time the watch subscribes (a switch may have been missed).
class sentinel_router final : public router {
public:
    /// While no master is confirmed, resolutions start this far apart, doubling to the max.
    static constexpr std::chrono::milliseconds retry_min{50};
    static constexpr std::chrono::milliseconds retry_max{1000};
    /// While all is well: how often the links are looked at (all down: resolve again).
    static constexpr std::chrono::milliseconds health_interval{250};

    /// `base` gives TLS, credentials, db and timeouts for the data nodes (its host and port
    /// are replaced by the master's). `sentinels` says whom to ask (its tls is used as is).
    /// `stats` may be shared by every router of a process (null: a private one).
    sentinel_router(net::any_io_executor ex, std::shared_ptr<connection_config const> base,
                    sentinel_config sentinels, std::uint32_t pool_size = 1,
                    std::shared_ptr<topology_stats> stats = nullptr);
    sentinel_router(sentinel_router const&) = delete;
    sentinel_router& operator=(sentinel_router const&) = delete;
    ~sentinel_router() override;

    /// Starts the resolution loop (the first at once) and the watch.
    void start() override;
    /// Ends the loop and the watch and stops every connection. Idempotent.
    void stop() override;

    /// To the confirmed master's connections, round-robin. errc::store_unavailable at once
    /// while no master is confirmed or none of its connections is up (nothing was sent). A
    /// READONLY or MASTERDOWN reply (the node was demoted; the command did not run) makes
    /// it resolve again and resend to the new master within `deadline`. A command lost after
    /// it was written is never re-sent.
    task<routed> execute(std::string_view key, std::span<std::string_view const> args,
                         time_point deadline) override;

    /// A connection is up to a node that answered ROLE "master". Thread-safe (/readyz asks
    /// from the admin thread).
    bool ready() const noexcept override;

    /// Asks the loop to resolve the master again now.
    void request_resolve();

    /// The master in use (the sentinels' last answer), confirmed or not.
    std::optional<node_address> const& master() const noexcept { return master_; }
    bool confirmed() const noexcept { return confirmed_.load(std::memory_order_relaxed); }
    /// The watch's subscription is up.
    bool subscribed() const noexcept;
    std::vector<std::shared_ptr<connection>> const& connections() const noexcept { return pool_; }

private:
    task<void> run();
    /// One resolution: asks the sentinels, switches the pool when the address changed and
    /// confirms the master with ROLE. True when a master is confirmed and reachable.
    task<bool> resolve_once();
    task<bool> confirm(std::vector<std::shared_ptr<connection>> pool);
    void adopt(node_address const& master);
    bool any_up() const noexcept;
    std::shared_ptr<connection> pick();
    /// Waits `backoff` (doubled each time, at most 100 ms) unless that passes `deadline`.
    task<bool> pause(std::chrono::milliseconds& backoff, time_point deadline);

    net::any_io_executor ex_;
    std::shared_ptr<connection_config const> base_;
    sentinel_resolver resolver_;
    std::uint32_t pool_size_;
    std::shared_ptr<topology_stats> stats_;
    std::shared_ptr<sentinel_watch> watch_;
    std::optional<node_address> master_;
    /// Replaced on the router's thread under pool_mutex_; read there without it, and under it
    /// by ready() from other threads.
    std::vector<std::shared_ptr<connection>> pool_;
    mutable std::mutex pool_mutex_;
    std::size_t next_ = 0;
    steady_timer timer_;
    std::atomic<bool> confirmed_{false};
    bool resolve_wanted_ = false;
    bool started_ = false;
    bool stopped_ = false;
    bool warned_ = false; // one warning per outage
};

} // namespace idemgate::redis
