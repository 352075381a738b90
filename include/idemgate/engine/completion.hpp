#pragma once
// Contract §3: what to do with the in-progress record once the upstream answered or failed.
// Pure.
#include "idemgate/config/config.hpp"
#include "idemgate/store/record.hpp"

#include <string_view>

namespace idemgate::engine {

enum class completion {
    store,   // keep the response as the completed record
    release, // delete the record so that a retry executes again
    keep,    // outcome unknown: leave the in-progress record to expire after lock_ttl
};

enum class upstream_failure {
    not_sent, // connect refused, DNS, TLS handshake: nothing was sent
    timeout,  // sent, no complete response in time
    broken,   // sent, connection reset or a malformed response
};

/// A status in no_store_statuses -> release; anything else -> store.
completion on_response(unsigned status, config::idempotency_config const& cfg) noexcept;

/// not_sent -> release; timeout, broken -> keep.
completion on_failure(upstream_failure f) noexcept;

/// The record to keep: end-to-end headers only (hop_by_hop.hpp, plus every field a Connection
/// field names), in their order; body omitted (and flagged) when larger than max_stored_body;
/// status as is. `headers` are the upstream response's fields in order.
store::stored_response to_stored(unsigned status, store::header_list headers, std::string body,
                                 config::idempotency_config const& cfg);

} // namespace idemgate::engine
