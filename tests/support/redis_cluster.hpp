#pragma once
// A real Redis Cluster on loopback: N cluster-enabled redis-server primaries, no replicas.
#include "support/redis_server.hpp"

#include "idemgate/redis/cluster_redirect.hpp"

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace idemgate::test {

/// Starts `primaries` redis_servers with `--cluster-enabled yes` (each with its nodes.conf
/// in its own temp dir), splits the 16384 slots among them with
/// `redis-cli --cluster create ... --cluster-replicas 0 --cluster-yes`, and returns once
/// CLUSTER INFO says cluster_state:ok on every node (polled, 20 s at most; throws
/// std::runtime_error otherwise). The destructor stops every node. Starting one costs a
/// second or two: share one per test binary (shared_redis_cluster()).
class redis_cluster {
public:
    explicit redis_cluster(std::size_t primaries = 3);
    redis_cluster(redis_cluster const&) = delete;
    redis_cluster& operator=(redis_cluster const&) = delete;

    std::size_t size() const noexcept { return nodes_.size(); }
    redis_server& node(std::size_t i) { return *nodes_.at(i); }
    /// The node listening on `port`, or nullptr.
    redis_server* node_on(std::uint16_t port);
    /// "127.0.0.1:<port>" of every node, as the gateway's `store.redis.nodes` lists seeds.
    std::vector<redis::node_address> addresses() const;

    /// True when every node's CLUSTER INFO says cluster_state:ok.
    bool all_ok() const;

private:
    void create_slots();

    std::vector<std::unique_ptr<redis_server>> nodes_;
};

/// One three-node cluster per test process, started on first use and stopped at exit. Tests
/// sharing it use distinct keys and leave the slot assignment as they found it.
redis_cluster& shared_redis_cluster();

} // namespace idemgate::test
