#pragma once
// Running the store's scripts through a router (private to the store: the Redis client's
// types stay below the engine).
#include "idemgate/net.hpp"
#include "idemgate/redis/resp.hpp"
#include "idemgate/redis/router.hpp"
#include "idemgate/store/redis_scripts.hpp"

#include <string>
#include <vector>

namespace idemgate::store {

using redis::reply;
using redis::routed;

/// EVALSHA `s` with one key (two when `key2` is not empty: the credential's set of begin and
/// release) through `via`, which picks the node; on a NOSCRIPT error (the script did not run:
/// each node has its own script cache, emptied by SCRIPT FLUSH or a restart) EVAL it once,
/// which also caches it there. Error replies other than NOSCRIPT are returned as values.
/// Fails with errc::store_unavailable by `deadline`.

task<routed> run_script(redis::router& via, script s, std::string key,
                        std::vector<std::string> args, redis::router::time_point deadline,
                        std::string key2 = {});

} // namespace idemgate::store
