#pragma once
// The replies and messages of sentinel mode, parsed: pure functions, no I/O.
#include "idemgate/redis/cluster_redirect.hpp"
#include "idemgate/redis/resp.hpp"

#include <optional>
#include <string_view>

namespace idemgate::redis {

/// True for a ROLE reply of a master (["master", <offset>, <replicas>]). A node the sentinels
/// name is used only after it says so: a demoted master can still be named for a moment.
bool is_master_role(reply const& role);

/// The address in a `SENTINEL get-master-addr-by-name` reply ([ip, port]); nullopt for the
/// nil a sentinel sends for a name it does not monitor, for an error, or a malformed reply.
std::optional<node_address> parse_master_addr(reply const& r);

/// The new master in a `+switch-master` message, "<name> <old-ip> <old-port> <new-ip>
/// <new-port>", when it is about `master_name`; nullopt for another master or a malformed one.
std::optional<node_address> parse_switch_master(std::string_view message,
                                                std::string_view master_name);

} // namespace idemgate::redis
