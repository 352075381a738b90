#pragma once
// store.redis.mode: cluster (docs/redis.md "Redis Cluster"): the slot map learned from the
// nodes, each command sent to the primary owning its key's slot, -MOVED and -ASK followed,
// TRYAGAIN / CLUSTERDOWN / READONLY retried within the caller's deadline, the map refreshed
// in the background when something says it is stale.
#include "idemgate/redis/cluster_redirect.hpp"
#include "idemgate/redis/cluster_slot_map.hpp"
#include "idemgate/redis/router.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace idemgate::redis {

/// Same threading as connection: everything on the io_context of `ex`, one router per thread.
class cluster_router final : public router {
public:
    /// Redirections one command may follow before it fails.
    static constexpr int max_redirects = 5;
    /// While the map is stale or a primary unreachable, refreshes are this far apart at least;
    /// while all is well, this is the period of the background refresh.
    static constexpr std::chrono::milliseconds quick_refresh{100};
    static constexpr std::chrono::milliseconds steady_refresh{10'000};

    /// `base` gives TLS, credentials and timeouts for every node (its host and port are not
    /// used; db must be 0). `seeds` are asked for the slot map (after the known primaries).
    /// `pool_size` pipelined connections per node. `stats` may be shared by every router of a
    /// process (null: counted in a private one).
    cluster_router(net::any_io_executor ex, std::shared_ptr<connection_config const> base,
                   std::vector<node_address> seeds, std::uint32_t pool_size = 1,
                   std::shared_ptr<topology_stats> stats = nullptr);
    cluster_router(cluster_router const&) = delete;
    cluster_router& operator=(cluster_router const&) = delete;
    ~cluster_router() override;

    /// Starts the background refresh (the first one at once).
    void start() override;
    /// Stops the refresh and every node connection. Idempotent; the destructor calls it.
    void stop() override;

    /// To the primary of slot_of(key). A MOVED patches the map for that slot, asks for a
    /// refresh and resends; an ASK sends ASKING + the command to the named node once, map
    /// unchanged; TRYAGAIN, CLUSTERDOWN and READONLY (the command did not run) and a node
    /// whose connections are all down (nothing was sent) are retried with a short backoff
    /// until `deadline`. A command lost after it was written is never re-sent (it may have
    /// run). errc::store_unavailable after max_redirects or at `deadline`.
    task<routed> execute(std::string_view key, std::span<std::string_view const> args,
                         time_point deadline) override;

    /// The map covers all 16384 slots and every primary has a connection up (or making its
    /// first attempt). Thread-safe (the admin thread asks): it reads a snapshot the io thread
    /// publishes with each map, and the connections' atomic link states.
    bool ready() const noexcept override;

    /// Asks the known primaries, then the seeds, for CLUSTER SLOTS until one answers with a
    /// map it can parse; keeps it and returns true, else false and keeps the old one.
    task<bool> refresh(time_point deadline);

    slot_map const& map() const noexcept { return map_; }
    /// Replaces the map (tests: a stale map, to see MOVED followed).
    void adopt(slot_map map);
    std::uint64_t redirects(redirect_kind kind) const noexcept;

private:
    struct node_pool {
        std::vector<std::shared_ptr<connection>> conns;
        std::size_t next = 0;
    };

    /// A usable connection to `node` (made on first use), or nullptr when all of its
    /// connections are down (nothing can be sent there now).
    std::shared_ptr<connection> connection_to(node_address const& node);
    /// Publishes what ready() reads: whether the map is whole, each primary's connections.
    void publish();
    void request_refresh();
    task<bool> ask_for_map(time_point deadline);
    task<void> refresh_loop();
    /// Waits `backoff` (doubled each time, at most 100 ms) unless that passes `deadline`.
    task<bool> pause(std::chrono::milliseconds& backoff, time_point deadline);

    net::any_io_executor ex_;
    std::shared_ptr<connection_config const> base_;
    std::vector<node_address> seeds_;
    std::uint32_t pool_size_;
    std::shared_ptr<topology_stats> stats_;
    std::map<node_address, node_pool> nodes_;
    slot_map map_;
    steady_timer refresh_timer_;
    bool refresh_wanted_ = false;
    bool refreshing_ = false;
    bool started_ = false;
    bool stopped_ = false;

    mutable std::mutex ready_mu_; // guards the two below, written on the io thread only
    bool whole_ = false;
    std::vector<std::vector<std::shared_ptr<connection>>> primaries_;
};

} // namespace idemgate::redis
