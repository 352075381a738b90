#pragma once
// Start-up checks of the Redis server's settings that decide whether records survive
// (conventions.md "Redis"): pure functions over CONFIG GET replies.
#include "idemgate/redis/resp.hpp"

#include <optional>
#include <string>
#include <vector>

namespace idemgate::redis {

/// The value of a `CONFIG GET name` reply (`[name, value]`); nullopt for an error reply (a
/// server that refuses CONFIG, e.g. a managed service that renames it) or an unknown name.
std::optional<std::string> config_value(reply const& r);

/// One line per setting that can lose live records: maxmemory-policy other than noeviction
/// (every record has a TTL, so volatile-* policies evict them too) and appendonly off.
/// Unknown values (nullopt) produce no warning.
std::vector<std::string> config_warnings(std::optional<std::string> const& maxmemory_policy,
                                         std::optional<std::string> const& appendonly);

} // namespace idemgate::redis
