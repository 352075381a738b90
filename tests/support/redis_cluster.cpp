#include "support/redis_cluster.hpp"

#include "support/child_process.hpp"

#include "idemgate/redis/cluster_slot_map.hpp"
#include "idemgate/redis/key_slot.hpp"

#include <sys/wait.h>

#include <algorithm>
#include <map>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace idemgate::test {

namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

/// `field:value` lines of an INFO reply; empty when the node does not answer.
std::map<std::string, std::string> info_of(redis_server const& node, std::string const& section) {
    std::map<std::string, std::string> out;
    try {
        std::istringstream in(node.command({"INFO", section}).str);
        for (std::string line; std::getline(in, line);) {
            if (!line.empty() && line.back() == '\r') line.pop_back();
            auto const colon = line.find(':');
            if (line.empty() || line[0] == '#' || colon == std::string::npos) continue;
            out[line.substr(0, colon)] = line.substr(colon + 1);
        }
    } catch (std::runtime_error const&) {
        out.clear();
    }
    return out;
}

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

/// The node's CLUSTER SLOTS as a map; nullopt when it does not answer.
std::optional<redis::slot_map> slots_of(redis_server const& node) {
    try {
        std::string error;
        return redis::slot_map::parse(node.command({"CLUSTER", "SLOTS"}), "127.0.0.1", error);
    } catch (std::runtime_error const&) {
        return std::nullopt;
    }
}

/// Primaries of a map as "first-last:port" items: two nodes agree when these are equal.
std::string primaries_text(redis::slot_map const& map) {
    std::string out;
    for (auto const& r : map.ranges()) {
        out += std::to_string(r.first) + "-" + std::to_string(r.last) + ":" +
               std::to_string(r.primary.port) + " ";
    }
    return out;
}

void expect_ok(redis::reply const& r, std::string const& what) {
    if (r.is_error() || r.str != "OK") {
        throw std::runtime_error("redis_cluster: " + what + " answered " + r.str);
    }
}

/// Ports of the replicas a primary's INFO replication lists as `state=online`.
std::vector<std::uint16_t> online_replica_ports(std::map<std::string, std::string> const& info) {
    std::vector<std::uint16_t> out;
    for (auto const& [k, v] : info) {
        if (!k.starts_with("slave") || k == "slave_read_repl_offset" ||
            v.find("state=online") == std::string::npos)
            continue;
        auto const at = v.find("port=");
        if (at == std::string::npos) continue;
        out.push_back(static_cast<std::uint16_t>(std::stoul(v.substr(at + 5))));
    }
    return out;
}

} // namespace

redis_cluster::redis_cluster(std::size_t primaries)
    : redis_cluster(cluster_options{primaries, 0, 5000ms}) {}

redis_cluster::redis_cluster(cluster_options const& options) {
    // redis-cli refuses fewer than three primaries.
    if (options.primaries < 3) {
        throw std::invalid_argument("redis_cluster: needs at least 3 primaries");
    }
    if (options.replicas_per_primary > 1) {
        throw std::invalid_argument("redis_cluster: at most one replica per primary");
    }
    std::size_t const total = options.primaries * (1 + options.replicas_per_primary);
    for (std::size_t i = 0; i < total; ++i) {
        // The cluster bus listens on port + 10000: redis_server retries other free ports when
        // that one is out of range or taken (redis-server exits at once then).
        nodes_.push_back(std::make_unique<redis_server>(std::vector<std::string>{
            "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
            "--cluster-node-timeout", std::to_string(options.node_timeout.count()),
            "--cluster-require-full-coverage", "yes",
            // A replica takes over however long it was cut off (a loaded test machine), and
            // replicas stay with their own primary.
            "--cluster-replica-validity-factor", "0", "--cluster-allow-replica-migration", "no",
            // Full syncs at once (7.0 waits 5 s for more replicas to share a diskless one).
            "--repl-diskless-sync-delay", "0"}));
    }
    read_ids();
    create_slots(options.primaries);
    if (options.replicas_per_primary > 0) attach_replicas(options.primaries);
    wait_until_stable(30s);
}

void redis_cluster::read_ids() {
    ids_.clear();
    for (auto const& n : nodes_) {
        auto const id = n->command({"CLUSTER", "MYID"});
        if (!id.is_string()) throw std::runtime_error("redis_cluster: CLUSTER MYID: " + id.str);
        ids_.push_back(id.str);
    }
}

void redis_cluster::create_slots(std::size_t primaries) {
    std::vector<std::string> args{"redis-cli", "--cluster", "create"};
    for (std::size_t i = 0; i < primaries; ++i) {
        args.push_back("127.0.0.1:" + std::to_string(nodes_[i]->port()));
    }
    args.insert(args.end(), {"--cluster-replicas", "0", "--cluster-yes"});
    // It returns once the nodes have met and agree on the slots (it polls them itself).
    int const status = reap_within(spawn_quiet(std::move(args)), 30s);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        throw std::runtime_error("redis_cluster: redis-cli --cluster create failed (status " +
                                 std::to_string(status) + ")");
    }
}

void redis_cluster::attach_replicas(std::size_t primaries) {
    auto const seed = std::to_string(nodes_[0]->port());
    for (std::size_t r = primaries; r < nodes_.size(); ++r) {
        expect_ok(nodes_[r]->command({"CLUSTER", "MEET", "127.0.0.1", seed}), "CLUSTER MEET");
    }
    // CLUSTER REPLICATE needs the primary known to the replica: gossip brings it.
    auto const deadline = clock_type::now() + 15s;
    for (std::size_t r = primaries; r < nodes_.size(); ++r) {
        for (;;) {
            auto const reply = nodes_[r]->command({"CLUSTER", "REPLICATE", ids_[r - primaries]});
            if (!reply.is_error()) break;
            if (clock_type::now() >= deadline) {
                throw std::runtime_error("redis_cluster: CLUSTER REPLICATE: " + reply.str);
            }
            std::this_thread::sleep_for(20ms);
        }
    }
}

redis_server* redis_cluster::node_on(std::uint16_t port) {
    auto const i = index_on(port);
    return i ? nodes_[*i].get() : nullptr;
}

std::optional<std::size_t> redis_cluster::index_on(std::uint16_t port) const {
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
        if (nodes_[i]->port() == port) return i;
    }
    return std::nullopt;
}

std::vector<redis::node_address> redis_cluster::addresses() const {
    std::vector<redis::node_address> out;
    for (auto const& n : nodes_) out.push_back({"127.0.0.1", n->port()});
    return out;
}

std::string redis_cluster::nodes_yaml() const {
    std::string out = "[";
    for (auto const& a : addresses()) {
        out += (out.size() > 1 ? ", \"" : "\"") + a.to_string() + "\"";
    }
    return out + "]";
}

bool redis_cluster::all_ok() const {
    for (auto const& n : nodes_) {
        if (n->running() && cluster_state(*n) != "ok") return false;
    }
    return true;
}

std::optional<std::size_t> redis_cluster::owner_seen_by(std::size_t i, std::uint16_t slot) const {
    auto const map = slots_of(*nodes_.at(i));
    if (!map) return std::nullopt;
    auto const* owner = map->primary_for(slot);
    return owner ? index_on(owner->port) : std::nullopt;
}

std::optional<std::size_t> redis_cluster::owner_of(std::uint16_t slot) const {
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
        if (nodes_[i]->running()) return owner_seen_by(i, slot);
    }
    return std::nullopt;
}

std::vector<std::size_t> redis_cluster::slot_owners() const {
    std::vector<std::size_t> out(redis::cluster_slots, static_cast<std::size_t>(-1));
    for (auto const& n : nodes_) {
        if (!n->running()) continue;
        auto const map = slots_of(*n);
        if (!map) return out;
        for (auto const& r : map->ranges()) {
            auto const i = index_on(r.primary.port);
            if (!i) continue;
            for (std::size_t s = r.first; s <= r.last; ++s) out[s] = *i;
        }
        return out;
    }
    return out;
}

std::vector<std::size_t> redis_cluster::primaries() const {
    for (auto const& n : nodes_) {
        if (!n->running()) continue;
        auto const map = slots_of(*n);
        if (!map) return {};
        std::vector<std::size_t> out;
        for (auto const& p : map->primaries()) {
            if (auto const i = index_on(p.port)) out.push_back(*i);
        }
        std::sort(out.begin(), out.end());
        return out;
    }
    return {};
}

std::optional<std::size_t> redis_cluster::replica_of(std::size_t primary) const {
    for (auto const port : online_replica_ports(info_of(*nodes_.at(primary), "replication"))) {
        if (auto const i = index_on(port); i && nodes_[*i]->running()) return i;
    }
    return std::nullopt;
}

std::vector<std::string> redis_cluster::keys(std::size_t i, std::string const& pattern) const {
    std::vector<std::string> out;
    std::string cursor = "0";
    do {
        auto const reply =
            nodes_.at(i)->command({"SCAN", cursor, "MATCH", pattern, "COUNT", "1000"});
        if (reply.is_error() || reply.elements.size() != 2) {
            throw std::runtime_error("redis_cluster: SCAN answered " + reply.str);
        }
        cursor = reply.elements[0].str;
        for (auto const& k : reply.elements[1].elements) out.push_back(k.str);
    } while (cursor != "0");
    return out;
}

std::string redis_cluster::unstable_reason() const {
    std::string first_view;
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
        auto const& n = *nodes_[i];
        if (!n.running()) continue;
        auto const name = "node " + std::to_string(i) + " (:" + std::to_string(n.port()) + ")";
        if (cluster_state(n) != "ok") return name + ": cluster_state is not ok";
        auto const map = slots_of(n);
        if (!map || !map->covers_all()) return name + ": slots not all covered";
        for (auto const& p : map->primaries()) {
            auto const owner = index_on(p.port);
            if (!owner || !nodes_[*owner]->running()) {
                return name + ": names " + p.to_string() + " as a primary";
            }
        }
        auto const view = primaries_text(*map);
        if (first_view.empty()) first_view = view;
        if (view != first_view) return name + ": sees another slot map";
        auto const repl = info_of(n, "replication");
        if (repl.count("role") == 0) return name + ": no INFO replication";
        if (repl.at("role") != "slave") continue;
        if (repl.count("master_link_status") == 0 || repl.at("master_link_status") != "up" ||
            repl.count("master_sync_in_progress") == 0 || repl.at("master_sync_in_progress") != "0")
            return name + ": replica link not up or sync running";
        auto const master =
            index_on(static_cast<std::uint16_t>(std::stoul(repl.at("master_port"))));
        if (!master) return name + ": replicates an unknown node";
        auto const primary = info_of(*nodes_[*master], "replication");
        auto const online = online_replica_ports(primary);
        if (std::find(online.begin(), online.end(), n.port()) == online.end()) {
            return name + ": not yet online at its primary";
        }
        // In sync: it has everything its primary had written a moment ago (read first).
        auto const primary_offset = std::stoll(
            primary.count("master_repl_offset") != 0 ? primary.at("master_repl_offset") : "0");
        auto own = info_of(n, "replication");
        if (own.count("slave_repl_offset") == 0 ||
            std::stoll(own.at("slave_repl_offset")) < primary_offset) {
            return name + ": behind its primary (" + own["slave_repl_offset"] + " < " +
                   std::to_string(primary_offset) + ")";
        }
    }
    return {};
}

void redis_cluster::wait_until_stable(std::chrono::milliseconds limit) const {
    auto const deadline = clock_type::now() + limit;
    for (;;) {
        auto const reason = unstable_reason();
        if (reason.empty()) return;
        if (clock_type::now() >= deadline) {
            throw std::runtime_error("redis_cluster: not stable after " +
                                     std::to_string(limit.count()) + " ms: " + reason);
        }
        std::this_thread::sleep_for(20ms);
    }
}

// --- slot migration ---------------------------------------------------------------------

redis_cluster::slot_migration::slot_migration(redis_cluster& cluster, std::uint16_t slot,
                                              std::size_t from, std::size_t to)
    : cluster_(cluster), slot_(slot), from_(from), to_(to) {}

redis_cluster::slot_migration::~slot_migration() {
    if (!begun_ || finished_) return;
    try {
        finish();
    } catch (std::exception const&) {
        // The test already failed on its own account; nothing more to do here.
    }
}

void redis_cluster::slot_migration::begin() {
    auto const slot = std::to_string(slot_);
    expect_ok(cluster_.node(to_).command(
                  {"CLUSTER", "SETSLOT", slot, "IMPORTING", cluster_.node_id(from_)}),
              "CLUSTER SETSLOT IMPORTING");
    expect_ok(cluster_.node(from_).command(
                  {"CLUSTER", "SETSLOT", slot, "MIGRATING", cluster_.node_id(to_)}),
              "CLUSTER SETSLOT MIGRATING");
    begun_ = true;
}

std::size_t redis_cluster::slot_migration::move_keys() {
    std::size_t moved = 0;
    auto const port = std::to_string(cluster_.node(to_).port());
    for (;;) {
        auto const batch = cluster_.node(from_).command(
            {"CLUSTER", "GETKEYSINSLOT", std::to_string(slot_), "100"});
        if (batch.is_error())
            throw std::runtime_error("redis_cluster: GETKEYSINSLOT: " + batch.str);
        if (batch.elements.empty()) return moved;
        std::vector<std::string> args{"MIGRATE", "127.0.0.1", port, "", "0", "1000", "KEYS"};
        for (auto const& k : batch.elements) args.push_back(k.str);
        auto const reply = cluster_.node(from_).command(args);
        if (reply.is_error()) throw std::runtime_error("redis_cluster: MIGRATE: " + reply.str);
        moved += batch.elements.size();
    }
}

void redis_cluster::slot_migration::finish() {
    move_keys(); // keys written on the source since (existing keys stay served there)
    std::vector<std::string> const setslot{"CLUSTER", "SETSLOT", std::to_string(slot_), "NODE",
                                           cluster_.node_id(to_)};
    expect_ok(cluster_.node(to_).command(setslot), "CLUSTER SETSLOT NODE (target)");
    expect_ok(cluster_.node(from_).command(setslot), "CLUSTER SETSLOT NODE (source)");
    for (auto const p : cluster_.primaries()) {
        if (p != to_ && p != from_) expect_ok(cluster_.node(p).command(setslot), "SETSLOT NODE");
    }
    finished_ = true;
    // Replicas and the others learn it by gossip: wait until every running node agrees.
    auto const deadline = clock_type::now() + 10s;
    for (std::size_t i = 0; i < cluster_.size(); ++i) {
        if (!cluster_.node(i).running()) continue;
        while (cluster_.owner_seen_by(i, slot_) != to_) {
            if (clock_type::now() >= deadline) {
                throw std::runtime_error("redis_cluster: node " + std::to_string(i) +
                                         " does not see the migrated slot's owner within 10 s");
            }
            std::this_thread::sleep_for(10ms);
        }
    }
}

void redis_cluster::migrate_slot(std::uint16_t slot, std::size_t from, std::size_t to) {
    slot_migration m(*this, slot, from, to);
    m.begin();
    m.move_keys();
    m.finish();
}

// --- failover ---------------------------------------------------------------------------

void redis_cluster::kill(std::size_t i) {
    nodes_.at(i)->kill();
}

std::optional<redis_cluster::promotion>
redis_cluster::wait_for_promotion(std::uint16_t slot, std::size_t old_owner,
                                  clock_type::time_point deadline) {
    std::optional<promotion> p;
    while (clock_type::now() < deadline) {
        if (!p) {
            for (std::size_t i = 0; i < nodes_.size(); ++i) {
                if (i == old_owner || !nodes_[i]->running()) continue;
                if (owner_seen_by(i, slot) == i) {
                    p = promotion{i, clock_type::now(), {}};
                    break;
                }
            }
        }
        if (p) {
            bool all = true;
            for (std::size_t i = 0; i < nodes_.size() && all; ++i) {
                if (!nodes_[i]->running()) continue;
                all = owner_seen_by(i, slot) == p->new_owner && cluster_state(*nodes_[i]) == "ok";
            }
            if (all) {
                p->ok_at = clock_type::now();
                return p;
            }
        }
        std::this_thread::sleep_for(10ms);
    }
    return std::nullopt;
}

void redis_cluster::restart(std::size_t i, std::chrono::milliseconds limit) {
    nodes_.at(i)->start();
    wait_until_stable(limit);
}

void redis_cluster::fail_back(std::size_t i, std::chrono::milliseconds limit) {
    auto const deadline = clock_type::now() + limit;
    // A manual failover still needs the primaries' votes, and a primary does not vote twice
    // for the same shard within 2 × node timeout: one asked for soon after the automatic
    // failover times out (5 s) unanswered. Asked again until it happens.
    auto asked_at = clock_type::time_point{};
    for (;;) {
        auto const serves = primaries();
        if (std::find(serves.begin(), serves.end(), i) != serves.end() &&
            info_of(*nodes_[i], "replication")["role"] == "master")
            break;
        if (clock_type::now() >= deadline) {
            throw std::runtime_error("redis_cluster: CLUSTER FAILOVER did not promote node " +
                                     std::to_string(i));
        }
        if (clock_type::now() - asked_at > 5500ms) {
            expect_ok(nodes_.at(i)->command({"CLUSTER", "FAILOVER"}), "CLUSTER FAILOVER");
            asked_at = clock_type::now();
        }
        std::this_thread::sleep_for(10ms);
    }
    wait_until_stable(std::max(
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now()),
        1000ms));
}

redis_cluster& shared_redis_cluster() {
    static redis_cluster cluster;
    return cluster;
}

redis_cluster& shared_replicated_cluster() {
    static redis_cluster cluster(cluster_options{3, 1, 1000ms});
    return cluster;
}

} // namespace idemgate::test
