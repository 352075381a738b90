#pragma once
// The decision a request ended with: the `outcome` label of idemgate_requests_total and of
// the access log (contract §6).
#include <array>
#include <cstddef>
#include <string_view>

namespace idemgate {

enum class outcome : std::size_t {
    executed,          // protected, the upstream ran
    replayed,          // protected, answered from the store
    conflict,          // 409 idempotency_key_in_use
    in_progress,       // 409 idempotency_request_in_progress
    passthrough,       // not protected, forwarded
    rejected,          // answered by idemgate with a 4xx (invalid/missing key, bad request)
    store_unavailable, // store down: 503 (fail_closed) or forwarded unprotected (fail_open)
    upstream_error,    // the upstream could not be reached or did not answer
};

inline constexpr std::size_t outcome_count = 8;

inline constexpr std::array<std::string_view, outcome_count> outcome_names{
    "executed",    "replayed", "conflict",          "in_progress",
    "passthrough", "rejected", "store_unavailable", "upstream_error"};

constexpr std::string_view name_of(outcome o) noexcept {
    return outcome_names[static_cast<std::size_t>(o)];
}

} // namespace idemgate
