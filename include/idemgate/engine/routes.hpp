#pragma once
// `routes` (docs/configuration.md "Routes"): which policy a request gets, from its path.
// Built once at startup from the config; matching reads it only, without allocating.
#include "idemgate/config/config.hpp"
#include "idemgate/config/routes.hpp"

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace idemgate::engine {

/// A route with `key_from`: a webhook-receipt ledger (docs/webhooks.md).
struct ledger_policy {
    config::key_source key_from;
    config::route_scope scope = config::route_scope::api_key;
    bool verify = false;              // Standard Webhooks signatures checked first
    std::vector<std::string> secrets; // verify: the decoded secrets
    std::chrono::seconds tolerance{300};
};

/// The policy requests get on one route, or outside every route (the global one).
struct route_policy {
    std::string label;   // the metrics' `route` label: "default", or the route's normal match
    bool enabled = true; // false: forwarded untouched, never protected
    config::idempotency_config policy;   // the global section with the route's overrides
    std::optional<ledger_policy> ledger; // set when the route has key_from
};

/// The `route` label of requests that no route matches.
inline constexpr std::string_view default_route_label = "default";

/// @par Thread Safety: immutable after construction; shared by every thread.
class route_table {
public:
    /// Index 0 is the global policy; index i + 1 is cfg.routes[i]. `cfg` must be valid
    /// (config::validate: no duplicate, every match in normal form). Reads each verify's
    /// secret_file; throws std::runtime_error when one does not read (named, never quoted).
    explicit route_table(config::config const& cfg);

    /// The route of a normalised origin-form target (`/path?query`, http/target.hpp): the
    /// longest `match` equal to the path or to a prefix of it ending at a '/'; 0 (the
    /// global policy) when none matches. The query is not looked at. Costs at most one hash
    /// lookup per segment of the deepest match, however long the path.
    std::size_t find(std::string_view target) const noexcept;

    route_policy const& at(std::size_t index) const noexcept { return routes_[index]; }
    std::size_t size() const noexcept { return routes_.size(); }

    /// The label of every route, by index ("default" first): the metrics' series.
    std::vector<std::string> labels() const;

private:
    struct view_hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const noexcept {
            return std::hash<std::string_view>{}(s);
        }
    };

    std::vector<route_policy> routes_;
    /// Normal match (root aside) -> index.
    std::unordered_map<std::string, std::size_t, view_hash, std::equal_to<>> by_match_;
    std::size_t root_ = 0;       // the route whose match is "/", or 0
    std::size_t max_depth_ = 0;  // segments of the deepest match
    std::size_t max_length_ = 0; // characters of the longest match
};

} // namespace idemgate::engine
