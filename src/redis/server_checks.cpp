#include "idemgate/redis/server_checks.hpp"

namespace idemgate::redis {

std::optional<std::string> config_value(reply const& r) {
    if (r.type != reply_type::array || r.elements.size() != 2) return std::nullopt;
    if (!r.elements[1].is_string()) return std::nullopt;
    return r.elements[1].str;
}

std::vector<std::string> config_warnings(std::optional<std::string> const& maxmemory_policy,
                                         std::optional<std::string> const& appendonly) {
    std::vector<std::string> out;
    if (maxmemory_policy && *maxmemory_policy != "noeviction") {
        out.push_back("redis maxmemory-policy is " + *maxmemory_policy +
                      ": Redis may evict live idempotency records under memory pressure and a "
                      "retry would then run again; set maxmemory-policy noeviction");
    }
    if (appendonly && *appendonly != "yes") {
        out.push_back("redis appendonly is " + *appendonly +
                      ": records written since the last snapshot are lost when Redis restarts; "
                      "set appendonly yes with appendfsync everysec or always");
    }
    return out;
}

} // namespace idemgate::redis
