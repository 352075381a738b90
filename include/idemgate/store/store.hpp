#pragma once
// Contract §2–4 as a narrow interface: each call is one atomic step.
#include "idemgate/net.hpp"
#include "idemgate/store/record.hpp"

#include <chrono>
#include <cstdint>
#include <optional>

namespace idemgate::store {

struct begin_result {
    begin_kind kind = begin_kind::acquired;
    owner_token owner;              // set when acquired
    std::optional<record> existing; // set when replay (completed record)
};

enum class store_state { up, down };

/// What store::lookup finds (the records API, issue 13): the record as kept, without its
/// owner token, and when it expires (ms since epoch, the store's clock).
struct record_found {
    record rec;
    std::int64_t expires_ms = 0;
};

/// What store::evict did (an enum: result<bool> cannot be built from an error_code).
enum class eviction { none, evicted };

/// store.max_records_per_credential, as a backend applies it in begin (issue 9: one client
/// must not fill the store for every tenant). Counted per scope_key::credential.
struct credential_bound {
    std::uint64_t max_records = 0;           // 0: unbounded
    std::chrono::milliseconds record_ttl{0}; // idempotency.ttl: the longest a record lives
};

/// Each call is one atomic step (one round trip for redis). On failure it returns
/// errc::store_unavailable (or store_full) within the command timeout; it never throws.
/// An instance is used from the io_context it was made for (one per thread); backends share
/// their data across instances as they need (memory: a mutex-guarded map; redis: the server).
class store {
public:
    virtual ~store() = default;

    /// Claims the scope or reports what holds it. `lock_ttl`: lifetime of a new in-progress
    /// record. `now_ms` of the record comes from the store's clock. errc::credential_limit when
    /// a new record would exceed the credential_bound (an existing one is still reported).
    virtual task<result<begin_result>> begin(scope_key key, fingerprint fp,
                                             std::chrono::milliseconds lock_ttl) = 0;

    /// Owner-checked: stores `response` as completed, expiring `ttl` after the record's
    /// created time. errc::not_owner when the lock is gone or held by another owner.
    virtual task<error_code> complete(scope_key key, owner_token owner, stored_response response,
                                      std::chrono::milliseconds ttl) = 0;

    /// Owner-checked: deletes the in-progress record so that a retry executes again.
    virtual task<error_code> release(scope_key key, owner_token owner) = 0;

    /// Owner-checked: pushes the in-progress record's expiry to now + lock_ttl.
    virtual task<error_code> renew(scope_key key, owner_token owner,
                                   std::chrono::milliseconds lock_ttl) = 0;

    /// The records API (issue 13), not owner-checked: the live record of `key`, or nullopt.
    /// A record that does not open or decode is errc::record_unreadable (logged without its
    /// content).
    virtual task<result<std::optional<record_found>>> lookup(scope_key key) = 0;

    /// The records API: deletes the record of `key` whatever its state; eviction::none when
    /// there was none. An evicted claim's owner then fails every owner-checked call
    /// (errc::not_owner).
    virtual task<result<eviction>> evict(scope_key key) = 0;

    /// Thread-safe; feeds /readyz and the store-up gauge.
    virtual store_state state() const noexcept = 0;
};

} // namespace idemgate::store
