#pragma once
// A real Redis Cluster on loopback: N cluster-enabled redis-server primaries, optionally with
// replicas, and the operations tests perform on it (slot migration, primary crash, failover).
#include "support/redis_server.hpp"

#include "idemgate/redis/cluster_redirect.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace idemgate::test {

struct cluster_options {
    std::size_t primaries = 3;
    /// 0 or 1: with 1, node `primaries + i` starts as the replica of node i.
    std::size_t replicas_per_primary = 0;
    /// cluster-node-timeout: a primary silent this long is suspected (PFAIL), and a failover
    /// starts about as long after the majority agrees (FAIL).
    std::chrono::milliseconds node_timeout{5000};
};

/// Starts the nodes with `--cluster-enabled yes` (each with its nodes.conf in its own temp dir,
/// `cluster-require-full-coverage yes`: while a slot has no live primary every node answers
/// CLUSTERDOWN), splits the 16384 slots among the primaries with `redis-cli --cluster create
/// --cluster-replicas 0`, then attaches each replica to its primary (CLUSTER MEET + CLUSTER
/// REPLICATE: redis-cli's own replica placement shuffles nodes on one host, this one is
/// node i+primaries → node i). Returns once every node says cluster_state:ok and every replica
/// is connected and synced (polled, 30 s at most; throws std::runtime_error otherwise). The
/// destructor stops every node. Starting one costs a second or two: share one per test binary.
///
/// Node indices are fixed; roles change with failovers, so tests ask the cluster (owner_of,
/// replica_of) instead of assuming node i is a primary.
class redis_cluster {
public:
    explicit redis_cluster(std::size_t primaries = 3);
    explicit redis_cluster(cluster_options const& options);
    redis_cluster(redis_cluster const&) = delete;
    redis_cluster& operator=(redis_cluster const&) = delete;

    /// Every node, primaries and replicas.
    std::size_t size() const noexcept { return nodes_.size(); }
    redis_server& node(std::size_t i) { return *nodes_.at(i); }
    redis_server const& node(std::size_t i) const { return *nodes_.at(i); }
    /// The node listening on `port`, or nullptr.
    redis_server* node_on(std::uint16_t port);
    /// Index of the node listening on `port`, or nullopt.
    std::optional<std::size_t> index_on(std::uint16_t port) const;
    /// "127.0.0.1:<port>" of every node, as the gateway's `store.redis.nodes` lists seeds.
    std::vector<redis::node_address> addresses() const;
    /// The same as YAML flow sequence: ["127.0.0.1:7000", ...].
    std::string nodes_yaml() const;
    /// The cluster's id of node `i` (kept across restarts: it lives in nodes.conf).
    std::string const& node_id(std::size_t i) const { return ids_.at(i); }

    /// True when every running node's CLUSTER INFO says cluster_state:ok.
    bool all_ok() const;

    /// The node serving `slot` by CLUSTER SLOTS of the first running node; nullopt when no
    /// node answers or the slot is not served.
    std::optional<std::size_t> owner_of(std::uint16_t slot) const;
    /// The owner of every slot (16384 entries; npos where none), by the same account.
    std::vector<std::size_t> slot_owners() const;
    /// Nodes serving at least one slot, by the same account, sorted.
    std::vector<std::size_t> primaries() const;
    /// A running node that is a replica of `primary` (INFO replication of `primary`).
    std::optional<std::size_t> replica_of(std::size_t primary) const;
    /// Keys of node `i` matching the glob `pattern` (SCAN, all of them).
    std::vector<std::string> keys(std::size_t i, std::string const& pattern) const;

    /// Waits until every running node says cluster_state:ok, all agree on the owner of every
    /// slot, and every replica is connected to its primary and synced. Throws
    /// std::runtime_error (naming what was still missing) after `limit`.
    void wait_until_stable(std::chrono::milliseconds limit) const;

    /// Moves `slot` from node `from` to node `to` by the real protocol, step by step.
    /// Construct, then begin() / move_keys() / finish() with whatever the test does between.
    /// An unfinished migration is finished by the destructor, so the cluster stays usable.
    class slot_migration {
    public:
        slot_migration(redis_cluster& cluster, std::uint16_t slot, std::size_t from,
                       std::size_t to);
        ~slot_migration();
        slot_migration(slot_migration const&) = delete;
        slot_migration& operator=(slot_migration const&) = delete;

        /// CLUSTER SETSLOT IMPORTING on `to`, then MIGRATING on `from`. From here `from`
        /// answers -ASK for every key of the slot it does not hold (new keys included), and
        /// `to` serves them after ASKING.
        void begin();
        /// CLUSTER GETKEYSINSLOT on `from` and MIGRATE of each batch to `to`, until none is
        /// left; the number of keys moved.
        std::size_t move_keys();
        /// CLUSTER SETSLOT NODE `to` on `to`, then `from`, then every other primary, and waits
        /// until every running node names `to` as the owner: from here `from` answers -MOVED.
        void finish();

    private:
        redis_cluster& cluster_;
        std::uint16_t slot_;
        std::size_t from_;
        std::size_t to_;
        bool begun_ = false;
        bool finished_ = false;
    };

    /// The whole migration at once (begin, move_keys, finish).
    void migrate_slot(std::uint16_t slot, std::size_t from, std::size_t to);

    /// SIGKILL node `i` (no goodbye to its peers, its sockets reset by the kernel).
    void kill(std::size_t i);

    struct promotion {
        std::size_t new_owner = 0;
        /// When the new owner first said it serves the slot (its own CLUSTER SLOTS).
        std::chrono::steady_clock::time_point promoted_at;
        /// When every running node had cluster_state:ok and named the new owner.
        std::chrono::steady_clock::time_point ok_at;
    };
    /// Polls the running nodes (every 10 ms) until a node other than `old_owner` serves
    /// `slot` and the cluster is ok again; nullopt at `deadline`.
    std::optional<promotion> wait_for_promotion(std::uint16_t slot, std::size_t old_owner,
                                                std::chrono::steady_clock::time_point deadline);

    /// Starts a killed node again (same port, same nodes.conf). It rejoins, learns that its
    /// slots have a newer owner and becomes that owner's replica; waits for it to be synced
    /// (wait_until_stable, `limit`).
    void restart(std::size_t i, std::chrono::milliseconds limit);
    /// Makes replica `i` the primary of its shard again (CLUSTER FAILOVER: coordinated, no
    /// write lost; asked again every 5.5 s, as the primaries refuse a second vote for one
    /// shard within 2 × node timeout) and waits until the cluster is stable: after kill +
    /// restart + fail_back a shared cluster has its first layout back.
    void fail_back(std::size_t i, std::chrono::milliseconds limit);

private:
    void create_slots(std::size_t primaries);
    void attach_replicas(std::size_t primaries);
    void read_ids();
    /// The owner of `slot` by CLUSTER SLOTS of node `i`; nullopt when it does not answer,
    /// the slot is not served, or the owner is not one of ours.
    std::optional<std::size_t> owner_seen_by(std::size_t i, std::uint16_t slot) const;
    /// "" when stable, else what is not.
    std::string unstable_reason() const;

    std::vector<std::unique_ptr<redis_server>> nodes_;
    std::vector<std::string> ids_;
};

/// One three-node cluster (no replicas) per test process, started on first use and stopped at
/// exit. Tests sharing it use distinct keys and leave the slot assignment as they found it.
redis_cluster& shared_redis_cluster();

/// One cluster of three primaries with one replica each and a 1 s node timeout, per test
/// process (tests/cluster). Tests that migrate slots or fail a primary over restore the
/// layout they found (slot_migration back, restart + fail_back).
redis_cluster& shared_replicated_cluster();

} // namespace idemgate::test
