#include "idemgate/engine/decision.hpp"

namespace idemgate::engine {

action decide(store::begin_kind kind, config::concurrent_mode mode) noexcept {
    switch (kind) {
    case store::begin_kind::acquired:
        return action::forward;
    case store::begin_kind::replay:
        return action::replay;
    case store::begin_kind::fingerprint_mismatch:
        // Contract §2: a different body conflicts in any state, even while in progress.
        return action::conflict;
    case store::begin_kind::in_progress:
        return mode == config::concurrent_mode::wait ? action::wait : action::in_progress;
    }
    // Not reachable with a valid enumerator; refusing is the safe answer (no upstream call).
    return action::conflict;
}

} // namespace idemgate::engine
