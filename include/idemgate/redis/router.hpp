#pragma once
// Which connection a command goes to (docs/redis.md "Topologies"): the primary at the URL
// (standalone), the primary owning the key's hash slot (cluster), or the primary the
// sentinels name (sentinel). One router per store, i.e. per thread: everything runs on that
// thread's io_context.
#include "idemgate/redis/cluster_redirect.hpp"
#include "idemgate/redis/connection.hpp"

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string_view>
#include <vector>

namespace idemgate::redis {

/// What every router of a process adds to, read at scrape time from any thread.
struct topology_stats {
    std::atomic<std::uint64_t> moved{0};              // -MOVED followed
    std::atomic<std::uint64_t> ask{0};                // -ASK followed
    std::atomic<std::uint64_t> refreshes{0};          // slot maps or master addresses fetched
    std::atomic<std::uint64_t> master_changes{0};     // a primary replaced by another (failover)
    std::atomic<std::int64_t> nodes{0};               // primaries (cluster) or masters known
    std::atomic<std::uint64_t> shortfall_claim{0};    // WAIT after a claim fell short
    std::atomic<std::uint64_t> shortfall_complete{0}; // WAIT after a completion fell short

    /// The primaries a router now knows. Each gateway thread has its own router and each sees
    /// a failover: master_changes grows once per process, by the primaries not in the
    /// process's current view (the last one any router reported), and only once there was a
    /// view. Returns that count.
    std::uint64_t saw_primaries(std::vector<node_address> const& now);

private:
    std::mutex mu_;
    std::vector<node_address> known_;
};

/// A reply and the connection that gave it: WAIT must go where the write went.
struct routed {
    result<reply> r;
    std::shared_ptr<connection> via; // null when nothing was sent
};

/// Owned through shared_ptr: background coroutines keep it alive until they end; call stop()
/// before dropping the last external reference, and destroy it before its io_context.
class router : public std::enable_shared_from_this<router> {
public:
    using time_point = connection::time_point;

    router() = default;
    router(router const&) = delete;
    router& operator=(router const&) = delete;
    virtual ~router() = default;

    /// Starts connecting (and discovering) in the background.
    virtual void start() = 0;
    /// Closes every connection; pending calls fail. Idempotent.
    virtual void stop() = 0;

    /// Sends `args` (a whole command; `key` decides the node where that matters) and returns
    /// the reply. An error reply is a value, except those the router acts on itself
    /// (redirections and, in cluster mode, TRYAGAIN / CLUSTERDOWN / READONLY, retried within
    /// `deadline`). A command that may have run (connection lost after it was written) is
    /// never re-sent: errc::store_unavailable. `key` and `args` must stay valid until the
    /// call completes.
    virtual task<routed> execute(std::string_view key, std::span<std::string_view const> args,
                                 time_point deadline) = 0;

    /// Calls can be served: not failing at once for want of a connection (standalone), a
    /// slot map covering every slot with every primary reachable (cluster), a connection to
    /// a master confirmed by ROLE (sentinel).
    virtual bool ready() const noexcept = 0;
};

/// Waits `backoff` (then doubles it, at most 100 ms) unless that passes `deadline`; true while
/// time is left: the routers' retry pause for a command that did not run.
task<bool> backoff_pause(net::any_io_executor ex, std::chrono::milliseconds& backoff,
                         connection::time_point deadline);

/// `n` connections (not started) to `node`: credentials, db, TLS and timeouts from `base`.
std::vector<std::shared_ptr<connection>> connections_to(net::any_io_executor const& ex,
                                                        connection_config const& base,
                                                        node_address const& node, std::uint32_t n);

/// `pool_size` pipelined connections to `cfg->url`, used round-robin.
std::shared_ptr<router> make_standalone_router(net::any_io_executor const& ex,
                                               std::shared_ptr<connection_config const> const& cfg,
                                               std::uint32_t pool_size);

} // namespace idemgate::redis
