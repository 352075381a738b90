#pragma once
// idemgate's own error values and the one table mapping them to contract §5.
#include <boost/system/error_code.hpp>

#include <string_view>
#include <type_traits>

namespace idemgate {

using error_code = boost::system::error_code;

enum class errc {
    ok = 0,
    key_invalid,          // 400 idempotency_key_invalid
    key_required,         // 400 idempotency_key_required
    bad_request,          // 400 bad_request
    bad_framing,          // 400 bad_request (Transfer-Encoding on HTTP/1.0, framing conflicts)
    bad_target,           // 400 bad_request (target not origin-form, or leaving the base path)
    bad_header,           // 400 bad_request (a singleton field missing, repeated or hidden)
    method_case,          // 400 bad_request (`post` where `POST` is protected)
    method_not_allowed,   // 405 method_not_allowed (CONNECT: a reverse proxy tunnels nothing)
    coding_unsupported,   // 501 not_implemented (a transfer coding other than chunked)
    key_in_use,           // 409 idempotency_key_in_use
    request_in_progress,  // 409 idempotency_request_in_progress
    request_too_large,    // 413 request_too_large
    header_too_large,     // 431 request_header_fields_too_large
    request_timeout,      // 408 request_timeout
    upstream_unavailable, // 502 upstream_unavailable (nothing was sent)
    upstream_failed,      // 502 upstream_unavailable (sent, outcome unknown)
    upstream_timeout,     // 504 upstream_timeout (sent, outcome unknown)
    store_unavailable,    // 503 idempotency_store_unavailable
    store_full,           // 503 idempotency_store_unavailable (memory cap reached)
    not_owner,            // store: the lock belongs to another request now
    record_unreadable,    // 503 idempotency_store_unavailable (a sealed record does not open)
    credential_limit,     // 429 idempotency_key_limit_reached (store.max_records_per_credential)
    overloaded,           // 503 overloaded (limits.max_inflight, limits.max_buffered_bytes)
    webhook_signature_invalid, // 401 webhook_signature_invalid (route verify: no good signature)
    webhook_timestamp_invalid, // 401 webhook_timestamp_invalid (route verify: outside tolerance)
};

/// What a client sees for an error: contract §5.
struct error_info {
    unsigned status;
    std::string_view code;
    std::string_view message;
};

/// Total over errc; `ok` and `not_owner` map to 500 internal_error (never sent by design).
error_info info_of(errc e) noexcept;

boost::system::error_category const& idemgate_category() noexcept;

inline boost::system::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), idemgate_category()};
}

} // namespace idemgate

template <>
struct boost::system::is_error_code_enum<idemgate::errc> : std::true_type {};
