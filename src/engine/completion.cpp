#include "idemgate/engine/completion.hpp"

#include "idemgate/proxy/hop_by_hop.hpp"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

namespace idemgate::engine {

namespace {

char to_lower(char c) noexcept {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                      [](char x, char y) { return to_lower(x) == to_lower(y); });
}

/// RFC 9110 §7.6.1: a field is hop-by-hop when listed, or when any Connection field names it.
bool is_connection_specific(std::string_view name, std::vector<std::string_view> const& conn) {
    if (proxy::is_hop_by_hop(name)) return true;
    return std::any_of(conn.begin(), conn.end(), [name](std::string_view value) {
        return proxy::named_by_connection(name, value);
    });
}

} // namespace

completion on_response(unsigned status, config::idempotency_config const& cfg) noexcept {
    auto const& no_store = cfg.no_store_statuses;
    // Contract §3: a no-store status (e.g. 503) must let a retry execute again.
    bool const release = std::find(no_store.begin(), no_store.end(), status) != no_store.end();
    return release ? completion::release : completion::store;
}

completion on_failure(upstream_failure f) noexcept {
    // Contract §3: only "nothing was sent" is known not to have run the operation.
    return f == upstream_failure::not_sent ? completion::release : completion::keep;
}

store::stored_response to_stored(unsigned status, store::header_list headers, std::string body,
                                 config::idempotency_config const& cfg) {
    std::vector<std::string_view> connection_values;
    for (auto const& [name, value] : headers) {
        if (iequals(name, "Connection")) connection_values.push_back(value);
    }
    store::stored_response out;
    out.status = status;
    out.headers.reserve(headers.size());
    for (auto& field : headers) {
        if (!is_connection_specific(field.first, connection_values)) {
            out.headers.push_back(std::move(field));
        }
    }
    if (body.size() > cfg.max_stored_body.bytes) {
        // Contract §3: the client got the full body; the record keeps only the flag, so that a
        // replay never runs the operation again (docs/behaviour.md).
        out.body_omitted = true;
    } else {
        out.body = std::move(body);
    }
    return out;
}

} // namespace idemgate::engine
