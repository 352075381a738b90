#pragma once
// A sketch of cluster mode's routing (issue 12): one pipelined connection per primary, the
// slot map, and MOVED / ASK followed. Not wired into redis_store yet: no background refresh,
// no TRYAGAIN / CLUSTERDOWN retries, no metrics.
#include "idemgate/redis/cluster_redirect.hpp"
#include "idemgate/redis/cluster_slot_map.hpp"
#include "idemgate/redis/connection.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace idemgate::redis {

/// Routes each command to the primary owning its key's slot. Same threading as connection:
/// everything on the io_context of `ex`, one router per thread.
class cluster_router {
public:
    using time_point = connection::time_point;

    /// Redirections one command may follow before it fails (the issue says "say 5").
    static constexpr int max_redirects = 5;

    /// `base` gives TLS, credentials and timeouts for every node (its host and port are not
    /// used; db must be 0). `seeds` are asked for the slot map in order.
    cluster_router(net::any_io_executor ex, std::shared_ptr<connection_config const> base,
                   std::vector<node_address> seeds);
    cluster_router(cluster_router const&) = delete;
    cluster_router& operator=(cluster_router const&) = delete;
    ~cluster_router();

    /// Asks the seeds, then the known primaries, for CLUSTER SLOTS until one answers with a map
    /// it can parse; keeps it and returns true, else false and keeps the old one.
    task<bool> refresh(time_point deadline);

    /// Sends `args` to the primary of slot_of(key). A MOVED patches the map for that slot and
    /// resends; an ASK sends ASKING + the command to the named node once, map unchanged. A
    /// redirected command was not executed, so resending is safe; a lost connection is not
    /// retried (the command may have run). errc::store_unavailable when no node owns the slot
    /// (after one refresh), after max_redirects, or as connection::execute fails.
    task<result<reply>> execute(std::string_view key, std::span<std::string_view const> args,
                                time_point deadline);

    slot_map const& map() const noexcept { return map_; }
    /// Replaces the map (tests: a stale map, to see MOVED followed).
    void adopt(slot_map map) { map_ = std::move(map); }
    std::uint64_t redirects(redirect_kind kind) const noexcept {
        return kind == redirect_kind::moved ? moved_ : asked_;
    }
    /// Stops every node connection. Idempotent; the destructor calls it.
    void stop();

private:
    std::shared_ptr<connection> connection_to(node_address const& node);

    net::any_io_executor ex_;
    std::shared_ptr<connection_config const> base_;
    std::vector<node_address> seeds_;
    std::map<node_address, std::shared_ptr<connection>> connections_;
    slot_map map_;
    std::uint64_t moved_ = 0;
    std::uint64_t asked_ = 0;
};

} // namespace idemgate::redis
