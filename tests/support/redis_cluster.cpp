#include "support/redis_cluster.hpp"

#include "support/child_process.hpp"

#include <sys/wait.h>

#include <chrono>
#include <stdexcept>
#include <thread>

namespace idemgate::test {

namespace {

using namespace std::chrono_literals;

/// cluster_state of one node's CLUSTER INFO ("ok", "fail"), or "" when it does not answer.
std::string cluster_state(redis_server const& node) {
    try {
        auto const text = node.command({"CLUSTER", "INFO"}).str;
        constexpr std::string_view field = "cluster_state:";
        auto const at = text.find(field);
        if (at == std::string::npos) return {};
        auto const end = text.find_first_of("\r\n", at);
        return text.substr(at + field.size(), end - at - field.size());
    } catch (std::runtime_error const&) {
        return {};
    }
}

} // namespace

redis_cluster::redis_cluster(std::size_t primaries) {
    // redis-cli refuses fewer than three primaries.
    if (primaries < 3) throw std::invalid_argument("redis_cluster: needs at least 3 primaries");
    for (std::size_t i = 0; i < primaries; ++i) {
        // The cluster bus listens on port + 10000: redis_server retries other free ports when
        // that one is out of range or taken (redis-server exits at once then).
        nodes_.push_back(std::make_unique<redis_server>(
            std::vector<std::string>{"--cluster-enabled", "yes", "--cluster-config-file",
                                     "nodes.conf", "--cluster-node-timeout", "5000"}));
    }
    create_slots();
    auto const deadline = std::chrono::steady_clock::now() + 20s;
    while (!all_ok()) {
        if (std::chrono::steady_clock::now() >= deadline) {
            throw std::runtime_error("redis_cluster: cluster_state is not ok after 20 s");
        }
        std::this_thread::sleep_for(20ms);
    }
}

void redis_cluster::create_slots() {
    std::vector<std::string> args{"redis-cli", "--cluster", "create"};
    for (auto const& a : addresses()) args.push_back(a.to_string());
    args.insert(args.end(), {"--cluster-replicas", "0", "--cluster-yes"});
    // It returns once the nodes have met and agree on the slots (it polls them itself).
    int const status = reap_within(spawn_quiet(std::move(args)), 30s);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        throw std::runtime_error("redis_cluster: redis-cli --cluster create failed (status " +
                                 std::to_string(status) + ")");
    }
}

redis_server* redis_cluster::node_on(std::uint16_t port) {
    for (auto& n : nodes_) {
        if (n->port() == port) return n.get();
    }
    return nullptr;
}

std::vector<redis::node_address> redis_cluster::addresses() const {
    std::vector<redis::node_address> out;
    for (auto const& n : nodes_) out.push_back({"127.0.0.1", n->port()});
    return out;
}

bool redis_cluster::all_ok() const {
    for (auto const& n : nodes_) {
        if (cluster_state(*n) != "ok") return false;
    }
    return true;
}

redis_cluster& shared_redis_cluster() {
    static redis_cluster cluster;
    return cluster;
}

} // namespace idemgate::test
