#pragma once
// Contract §3: what to do with the in-progress record once the upstream answered or failed.
// Pure.
#include "idemgate/config/config.hpp"
#include "idemgate/error.hpp"
#include "idemgate/store/record.hpp"

#include <string_view>

namespace idemgate::engine {

enum class completion {
    store,   // keep the response as the completed record
    release, // delete the record so that a retry executes again
    keep,    // outcome unknown: leave the in-progress record to expire after lock_ttl
};

/// A status in no_store_statuses -> release; with `no_store_5xx` (a ledger route: the
/// sender retries a failed delivery, docs/webhooks.md) any 5xx too; anything else -> store.
completion on_response(unsigned status, config::idempotency_config const& cfg,
                       bool no_store_5xx = false) noexcept;

/// How an exchange failed (proxy::upstream_result::failure): errc::upstream_unavailable
/// (nothing was sent) -> release; errc::upstream_timeout, errc::upstream_failed or anything
/// else (sent, outcome unknown) -> keep.
completion on_failure(errc failure) noexcept;

/// The record to keep: `headers` as given (the upstream response's end-to-end fields, in
/// order); body omitted (and flagged) when larger than max_stored_body; status as is.
store::stored_response to_stored(unsigned status, store::header_list headers, std::string body,
                                 config::idempotency_config const& cfg);

} // namespace idemgate::engine
