#pragma once
// Contract §2's table: what to do with the store's answer. Pure.
#include "idemgate/config/config.hpp"
#include "idemgate/store/record.hpp"

namespace idemgate::engine {

enum class action {
    forward,     // acquired: call the upstream, then complete or release
    replay,      // completed, same fingerprint
    conflict,    // different fingerprint: 409 idempotency_key_in_use
    in_progress, // same fingerprint, still running, concurrent=reject: 409 + Retry-After: 1
    wait,        // same fingerprint, still running, concurrent=wait: poll again
};

action decide(store::begin_kind kind, config::concurrent_mode mode) noexcept;

} // namespace idemgate::engine
