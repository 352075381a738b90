#include "idemgate/engine/routes.hpp"

#include "idemgate/config/routes.hpp"

#include <algorithm>
#include <stdexcept>

namespace idemgate::engine {

namespace {

std::optional<ledger_policy> ledger_of(config::route_config const& r) {
    if (r.key_from.empty()) return std::nullopt;
    std::string why;
    auto from = config::parse_key_from(r.key_from, why);
    if (!from) throw std::runtime_error("routes: key_from " + r.key_from + ": " + why);
    ledger_policy l{std::move(*from), r.scope, false, {}, {}};
    if (r.verify) {
        auto read = config::read_webhook_secrets(r.verify->secret_file);
        if (!read.error.empty()) throw std::runtime_error("routes: verify: " + read.error);
        l.verify = true;
        l.secrets = std::move(read.secrets);
        l.tolerance = std::chrono::duration_cast<std::chrono::seconds>(r.verify->tolerance);
    }
    return l;
}

} // namespace

route_table::route_table(config::config const& cfg) {
    routes_.reserve(cfg.routes.size() + 1);
    routes_.push_back({std::string(default_route_label), true, cfg.idempotency, std::nullopt});
    for (auto const& r : cfg.routes) {
        auto const match = config::normal_match(r.match);
        auto const index = routes_.size();
        routes_.push_back(
            {std::string(match), r.enabled, config::policy_of(r, cfg.idempotency), ledger_of(r)});
        if (match == "/") {
            root_ = index;
            continue;
        }
        by_match_.try_emplace(std::string(match), index); // the first of duplicates wins
        auto const depth = static_cast<std::size_t>(std::count(match.begin(), match.end(), '/'));
        max_depth_ = std::max(max_depth_, depth);
        max_length_ = std::max(max_length_, match.size());
    }
}

std::size_t route_table::find(std::string_view target) const noexcept {
    if (by_match_.empty()) return root_;
    auto const path = target.substr(0, target.find('?'));
    // The end of the deepest prefix that could match: at most max_depth_ segments and
    // max_length_ characters, so a long path costs no more than a short one.
    std::size_t end = 0;
    std::size_t pos = 0;
    for (std::size_t depth = 0; depth < max_depth_ && pos < path.size(); ++depth) {
        auto const next = path.find('/', pos + 1);
        auto const segment_end = next == std::string_view::npos ? path.size() : next;
        if (segment_end > max_length_) break;
        end = segment_end;
        if (next == std::string_view::npos) break;
        pos = next;
    }
    // Then each shorter prefix that ends at a segment boundary, longest first.
    while (end > 0) {
        if (auto const it = by_match_.find(path.substr(0, end)); it != by_match_.end())
            return it->second;
        end = path.rfind('/', end - 1);
        if (end == std::string_view::npos) break;
    }
    return root_;
}

std::vector<std::string> route_table::labels() const {
    std::vector<std::string> out;
    out.reserve(routes_.size());
    for (auto const& r : routes_) out.push_back(r.label);
    return out;
}

} // namespace idemgate::engine
