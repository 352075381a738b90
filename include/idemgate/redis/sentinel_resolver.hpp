#pragma once
// Sentinel mode's discovery (redis.io, "Sentinel client spec"): ask the sentinels in order
// which node is the master now.
#include "idemgate/net.hpp"
#include "idemgate/redis/cluster_redirect.hpp"
#include "idemgate/redis/sentinel_config.hpp"

#include <vector>

namespace idemgate::redis {

/// Same threading as connection: use it on one io_context.
class sentinel_resolver {
public:
    explicit sentinel_resolver(sentinel_config cfg);

    /// Asks each sentinel in turn `SENTINEL get-master-addr-by-name <master_name>`, each
    /// within cfg.connect_timeout (connect, TLS, AUTH and the answer), and returns the first
    /// address given. The sentinel that answered moves to the front of the list (the others
    /// keep their order), so the next resolution asks it first. A sentinel that does not know
    /// the name (nil), refuses AUTH, errs or times out is skipped. errc::store_unavailable
    /// when none answers. The address is only the sentinels' word: check the node's ROLE.
    task<result<node_address>> resolve();

    /// The sentinels in the order the next resolve() asks them.
    std::vector<node_address> const& sentinels() const noexcept { return cfg_.sentinels; }
    sentinel_config const& config() const noexcept { return cfg_; }

private:
    sentinel_config cfg_;
};

} // namespace idemgate::redis
