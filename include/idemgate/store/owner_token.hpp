#pragma once
// The token that fences a claim: only its owner may complete, release or renew it.
#include "idemgate/store/record.hpp"

#include <optional>

namespace idemgate::store {

/// 32 hex chars: 8 random bytes drawn once per thread (OpenSSL), then a per-thread counter:
/// unique across threads, processes and replicas. nullopt if the RNG fails. Thread-safe.
std::optional<owner_token> make_owner_token();

} // namespace idemgate::store
