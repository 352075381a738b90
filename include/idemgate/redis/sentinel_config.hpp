#pragma once
// How sentinel mode reaches the sentinels (store.redis.nodes, sentinel_master,
// sentinel_password): shared by the resolver and the watch.
#include "idemgate/net.hpp"
#include "idemgate/redis/cluster_redirect.hpp"

#include <boost/asio/ssl/context.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace idemgate::redis {

struct sentinel_config {
    std::vector<node_address> sentinels; // asked in this order
    std::string master_name;             // the name the sentinels monitor
    std::string password;                // AUTH for the sentinels; empty: none
    /// Each sentinel's whole budget for one question: connect, TLS, AUTH and the answer (a
    /// name to resolve is not counted). One that accepts and never answers costs this much.
    std::chrono::milliseconds connect_timeout{1000};
    std::shared_ptr<net::ssl::context> tls; // null: plain TCP to the sentinels
    /// The watch's subscription: a PING this often, and a sentinel silent for three of them
    /// is left for the next one (a peer gone without a reset never closes the socket).
    std::chrono::milliseconds ping_interval{1000};
    /// The watch's pause after every sentinel failed, doubling up to the max.
    std::chrono::milliseconds backoff_min{50};
    std::chrono::milliseconds backoff_max{2000};
};

} // namespace idemgate::redis
