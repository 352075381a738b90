#pragma once
// A real Sentinel deployment on loopback: one primary, one replica, three sentinels.
#include "support/redis_server.hpp"

#include "idemgate/redis/cluster_redirect.hpp"

#include <array>
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace idemgate::test {

/// Starts a primary and its replica (`--replicaof`), waits for the replica to sync, then three
/// sentinels (`redis-server <conf> --sentinel`, quorum 2, down-after 2000 ms) and returns once
/// every sentinel agrees on the master and knows the replica and the two other sentinels
/// (polled, 20 s at most; throws std::runtime_error otherwise). A failover takes a few
/// seconds: tests that cause one leave the set healthy again with restore_killed(), so one
/// set serves a whole test binary (shared_redis_sentinel()).
class redis_sentinel {
public:
    using clock_type = std::chrono::steady_clock;

    static constexpr char const* default_master_name = "idemgate-master";

    explicit redis_sentinel(std::string master_name = default_master_name);
    redis_sentinel(redis_sentinel const&) = delete;
    redis_sentinel& operator=(redis_sentinel const&) = delete;

    std::string const& master_name() const noexcept { return master_name_; }
    /// "127.0.0.1:<port>" of every sentinel, as `store.redis.nodes` lists them.
    std::vector<redis::node_address> sentinel_addresses() const;
    redis_server& sentinel(std::size_t i) { return *sentinels_.at(i); }
    std::size_t sentinel_count() const noexcept { return sentinels_.size(); }

    /// The node that is master now, and the other one (as this fixture last saw them).
    redis_server& primary() { return *nodes_.at(primary_); }
    redis_server& replica() { return *nodes_.at(1 - primary_); }
    redis::node_address primary_address() const;

    /// SIGKILLs the current primary; returns its port. Sentinels fail over to the replica.
    std::uint16_t kill_primary();
    /// Polls `SENTINEL get-master-addr-by-name` on every sentinel until one names a node other
    /// than `old_port`; returns it (and takes it as the primary from now on), or nullopt at
    /// `deadline`.
    std::optional<redis::node_address> wait_for_switch(std::uint16_t old_port,
                                                       clock_type::time_point deadline);
    /// Brings a killed node back as a replica of the current master and waits until the set
    /// is healthy again (wait_until_healthy). Does nothing to a set with both nodes running
    /// but the wait.
    void restore_killed();
    /// Waits until the replica is in sync with the primary and every sentinel names the primary
    /// as master, sees it up and knows the replica (up) and the two other sentinels: a state
    /// in which a failover can happen. Throws std::runtime_error after `limit`.
    void wait_until_healthy(std::chrono::milliseconds limit = std::chrono::seconds(20));

    /// The address `sentinel(i)` gives for the master, or nullopt (no answer, unknown name).
    std::optional<redis::node_address> master_seen_by(std::size_t i) const;

private:
    /// Takes as primary the node every sentinel names, when it answers ROLE master.
    void follow_sentinels();
    /// The tail of every sentinel's log.
    std::string logs() const;
    /// Why the set is not healthy yet, or "" when it is.
    std::string unhealthy_reason();

    std::string master_name_;
    std::array<std::unique_ptr<redis_server>, 2> nodes_;
    std::size_t primary_ = 0;
    std::vector<std::unique_ptr<redis_server>> sentinels_;
};

/// One set per test process, started on first use and stopped at exit. Tests sharing it use
/// distinct keys and call restore_killed() after a kill_primary().
redis_sentinel& shared_redis_sentinel();

} // namespace idemgate::test
