#include "idemgate/config/routes.hpp"

#include <algorithm>

namespace idemgate::config {

std::string_view normal_match(std::string_view match) noexcept {
    while (match.size() > 1 && match.back() == '/') match.remove_suffix(1);
    return match;
}

idempotency_config policy_of(route_config const& route, idempotency_config const& global) {
    idempotency_config p = global;
    if (route.methods) p.methods = *route.methods;
    if (route.ttl) p.ttl = *route.ttl;
    if (route.lock_ttl) p.lock_ttl = *route.lock_ttl;
    if (route.missing_key) p.missing_key = *route.missing_key;
    if (route.concurrent) p.concurrent = *route.concurrent;
    if (route.wait_timeout) p.wait_timeout = *route.wait_timeout;
    if (route.fingerprint) p.fingerprint = *route.fingerprint;
    if (route.no_store_statuses) p.no_store_statuses = *route.no_store_statuses;
    if (route.max_stored_body) p.max_stored_body = *route.max_stored_body;
    return p;
}

duration longest_ttl(config const& cfg) noexcept {
    auto longest = cfg.idempotency.ttl;
    for (auto const& r : cfg.routes) {
        if (r.enabled && r.ttl) longest = std::max(longest, *r.ttl);
    }
    return longest;
}

} // namespace idemgate::config
