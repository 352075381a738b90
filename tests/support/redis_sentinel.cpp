#include "support/redis_sentinel.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <thread>

namespace idemgate::test {

namespace {

using namespace std::chrono_literals;

/// The value of `field` in a flat [field, value, field, value...] reply (SENTINEL MASTER and
/// each entry of SENTINEL REPLICAS), or "".
std::string field_of(redis::reply const& flat, std::string_view field) {
    for (std::size_t i = 0; i + 1 < flat.elements.size(); i += 2) {
        if (flat.elements[i].str == field) return flat.elements[i + 1].str;
    }
    return {};
}

/// The first element of ROLE ("master", "slave"), or "" when it does not answer.
std::string role_of(redis_server const& node) {
    try {
        auto const r = node.command({"ROLE"});
        return r.elements.empty() ? std::string{} : r.elements[0].str;
    } catch (std::runtime_error const&) {
        return {};
    }
}

/// The last lines of a log, for a failure's message.
std::string tail_of(std::filesystem::path const& file) {
    std::ifstream in(file);
    std::stringstream ss;
    ss << in.rdbuf();
    auto text = ss.str();
    return text.size() > 3000 ? text.substr(text.size() - 3000) : text;
}

std::string sentinel_conf(std::string const& name, std::uint16_t primary_port) {
    // down-after 1000 ms makes a sentinel now and then find the just-promoted master down
    // (its new link not answered within the second) and fail back at once
    // (redis/redis#8607): 2000 ms costs a second per failover and does not.
    // failover-timeout also spaces two failovers of the same master (twice its value): 3 s
    // lets the tests of one binary fail over again soon after restoring the set.
    return "sentinel resolve-hostnames no\n"
           "sentinel monitor " +
           name + " 127.0.0.1 " + std::to_string(primary_port) +
           " 2\n"
           "sentinel down-after-milliseconds " +
           name +
           " 2000\n"
           "sentinel failover-timeout " +
           name +
           " 3000\n"
           "sentinel parallel-syncs " +
           name + " 1\n";
}

/// A data node's arguments; a replica of 127.0.0.1:`primary_port` unless it is 0.
std::vector<std::string> node_args(std::uint16_t primary_port) {
    // A full sync waits repl-diskless-sync-delay (5 s) for more replicas to join; there are
    // none to wait for.
    std::vector<std::string> args{"--repl-diskless-sync-delay", "0"};
    if (primary_port != 0) {
        args.insert(args.end(), {"--replicaof", "127.0.0.1", std::to_string(primary_port)});
    }
    return args;
}

} // namespace

redis_sentinel::redis_sentinel(std::string master_name) : master_name_(std::move(master_name)) {
    nodes_[0] = std::make_unique<redis_server>(node_args(0));
    nodes_[1] = std::make_unique<redis_server>(node_args(nodes_[0]->port()));
    // Sentinels learn replicas from the primary's INFO, sent at once when they connect and
    // then every 10 s: starting them after the replica is attached saves those 10 s.
    auto const deadline = clock_type::now() + 10s;
    while (replica().info_field("replication", "master_link_status") != "up") {
        if (clock_type::now() >= deadline) {
            throw std::runtime_error("redis_sentinel: the replica did not sync within 10 s");
        }
        std::this_thread::sleep_for(20ms);
    }
    auto const conf = sentinel_conf(master_name_, primary().port());
    for (int i = 0; i < 3; ++i) {
        sentinels_.push_back(std::make_unique<redis_server>(
            redis_server::config_text{conf}, std::vector<std::string>{"--sentinel"}));
    }
    wait_until_healthy();
}

std::vector<redis::node_address> redis_sentinel::sentinel_addresses() const {
    std::vector<redis::node_address> out;
    for (auto const& s : sentinels_) out.push_back({"127.0.0.1", s->port()});
    return out;
}

redis::node_address redis_sentinel::primary_address() const {
    return {"127.0.0.1", nodes_.at(primary_)->port()};
}

std::optional<redis::node_address> redis_sentinel::master_seen_by(std::size_t i) const {
    try {
        auto const r =
            sentinels_.at(i)->command({"SENTINEL", "get-master-addr-by-name", master_name_});
        if (r.elements.size() != 2) return std::nullopt;
        return redis::parse_node_address(r.elements[0].str + ":" + r.elements[1].str);
    } catch (std::runtime_error const&) {
        return std::nullopt;
    }
}

std::uint16_t redis_sentinel::kill_primary() {
    primary().kill();
    return primary().port();
}

std::optional<redis::node_address>
redis_sentinel::wait_for_switch(std::uint16_t old_port, clock_type::time_point deadline) {
    for (;;) {
        for (std::size_t i = 0; i < sentinels_.size(); ++i) {
            auto const seen = master_seen_by(i);
            if (!seen || seen->port == old_port) continue;
            // Sentinels name the promoted replica as soon as the failover has chosen it: the
            // switch is done when that node says it is a master.
            for (std::size_t n = 0; n < nodes_.size(); ++n) {
                if (nodes_[n]->port() != seen->port || role_of(*nodes_[n]) != "master") continue;
                primary_ = n;
                return seen;
            }
        }
        if (clock_type::now() >= deadline) return std::nullopt;
        std::this_thread::sleep_for(20ms);
    }
}

void redis_sentinel::restore_killed() {
    for (auto& node : nodes_) {
        if (node->running()) continue;
        // A replica from its first INFO on: a node that comes back as a master is one sentinels
        // convert only after a while, and consider a poor replica meanwhile.
        node->set_extra_args(node_args(primary().port()));
        node->start();
    }
    wait_until_healthy();
}

std::string redis_sentinel::logs() const {
    std::string out;
    for (std::size_t i = 0; i < sentinels_.size(); ++i) {
        out +=
            "\n--- sentinel " + std::to_string(i) + " log:\n" + tail_of(sentinels_[i]->log_file());
    }
    return out;
}

void redis_sentinel::follow_sentinels() {
    // Sentinels may fail over again on their own (a failover races a node coming back): the
    // master is whichever node every sentinel names and which says it is one.
    std::optional<redis::node_address> agreed;
    for (std::size_t i = 0; i < sentinels_.size(); ++i) {
        auto const seen = master_seen_by(i);
        if (!seen || (agreed && *agreed != *seen)) return;
        agreed = seen;
    }
    for (std::size_t n = 0; n < nodes_.size(); ++n) {
        if (agreed && nodes_[n]->port() == agreed->port && role_of(*nodes_[n]) == "master") {
            primary_ = n;
        }
    }
}

std::string redis_sentinel::unhealthy_reason() {
    try {
        follow_sentinels();
        if (!primary().running() || !replica().running()) return "a node is down";
        if (role_of(primary()) != "master") {
            return "port " + std::to_string(primary().port()) + " is not a master";
        }
        if (replica().info_field("replication", "master_port") !=
                std::to_string(primary().port()) ||
            replica().info_field("replication", "master_link_status") != "up") {
            return "the replica is not in sync";
        }
        auto const replica_port = std::to_string(replica().port());
        for (std::size_t i = 0; i < sentinels_.size(); ++i) {
            auto const who = "sentinel " + std::to_string(i) + " ";
            auto const seen = master_seen_by(i);
            if (!seen || seen->port != primary().port()) return who + "names another master";
            auto& s = *sentinels_[i];
            auto const master = s.command({"SENTINEL", "MASTER", master_name_});
            if (field_of(master, "flags") != "master") return who + "sees the master down";
            if (field_of(master, "num-other-sentinels") != "2") {
                return who + "does not know the other sentinels yet";
            }
            bool replica_ok = false;
            for (auto const& r : s.command({"SENTINEL", "REPLICAS", master_name_}).elements) {
                replica_ok = replica_ok || (field_of(r, "port") == replica_port &&
                                            field_of(r, "flags") == "slave" &&
                                            field_of(r, "master-link-status") == "ok");
            }
            if (!replica_ok) return who + "does not see the replica up";
        }
        return {};
    } catch (std::runtime_error const& e) {
        return e.what();
    }
}

void redis_sentinel::wait_until_healthy(std::chrono::milliseconds limit) {
    auto const deadline = clock_type::now() + limit;
    for (;;) {
        auto const why = unhealthy_reason();
        if (why.empty()) return;
        if (clock_type::now() >= deadline) {
            throw std::runtime_error("redis_sentinel: not healthy after " +
                                     std::to_string(limit.count()) + " ms: " + why + logs());
        }
        std::this_thread::sleep_for(50ms);
    }
}

redis_sentinel& shared_redis_sentinel() {
    static redis_sentinel set;
    return set;
}

} // namespace idemgate::test
