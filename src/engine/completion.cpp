#include "idemgate/engine/completion.hpp"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

namespace idemgate::engine {

completion on_response(unsigned status, config::idempotency_config const& cfg,
                       bool no_store_5xx) noexcept {
    if (no_store_5xx && status >= 500 && status <= 599) return completion::release;
    auto const& no_store = cfg.no_store_statuses;
    // Contract §3: a no-store status (e.g. 503) must let a retry execute again.
    bool const release = std::find(no_store.begin(), no_store.end(), status) != no_store.end();
    return release ? completion::release : completion::store;
}

completion on_failure(errc failure) noexcept {
    // Contract §3: only "nothing was sent" is known not to have run the operation.
    return failure == errc::upstream_unavailable ? completion::release : completion::keep;
}

store::stored_response to_stored(unsigned status, store::header_list headers, std::string body,
                                 config::idempotency_config const& cfg) {
    store::stored_response out;
    out.status = status;
    out.headers = std::move(headers);
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
