#pragma once
// In-process store (backend `memory`): one map shared by the per-thread stores of a factory.
#include "idemgate/config/config.hpp"
#include "idemgate/store/store.hpp"
#include "idemgate/util/clock.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace idemgate::store {

/// The records of one process, guarded by one mutex. Every call is one short critical section
/// (never held across a suspension). Records and in-progress locks expire lazily on access;
/// an index ordered by expiry lets each write drop a few expired entries and lets a full store
/// evict expired entries first. A live record is never dropped: when `max_records` or
/// `max_bytes` would be exceeded after that, the call fails with errc::store_full.
class memory_db {
public:
    /// `clk` must outlive the db. `bound`: records per credential, counted exactly (its ttl
    /// is the redis backend's concern).
    memory_db(config::memory_store_config const& cfg, util::clock const& clk,
              credential_bound bound = {});
    memory_db(memory_db const&) = delete;
    memory_db& operator=(memory_db const&) = delete;

    /// store::begin: a new in-progress record is owned by `new_owner` (made by the caller so
    /// that no random bytes are drawn under the mutex).
    result<begin_result> begin(scope_key const& key, fingerprint const& fp,
                               std::chrono::milliseconds lock_ttl, owner_token new_owner);
    /// store::complete.
    error_code complete(scope_key const& key, owner_token const& owner, stored_response response,
                        std::chrono::milliseconds ttl);
    /// store::release.
    error_code release(scope_key const& key, owner_token const& owner);
    /// store::renew.
    error_code renew(scope_key const& key, owner_token const& owner,
                     std::chrono::milliseconds lock_ttl);

    /// store::lookup.
    std::optional<record_found> lookup(scope_key const& key);
    /// store::evict.
    eviction evict(scope_key const& key);

    /// Records held, including expired ones not yet evicted.
    std::size_t size() const;
    /// Estimated heap bytes held by the records (record_bytes): what max_bytes bounds.
    std::uint64_t bytes() const;

private:
    using expiry_index = std::multimap<std::int64_t, std::string const*>;
    /// Live records per credential; an entry points at its count (nodes never move).
    using credential_counts = std::unordered_map<std::string, std::uint64_t>;
    struct entry {
        std::shared_ptr<record const> rec; // shared so a replay copies it outside the mutex
        std::int64_t expires_at_ms = 0;
        std::uint64_t bytes = 0;
        expiry_index::iterator by_expiry;
        credential_counts::value_type* credential = nullptr; // null: not bounded
    };
    using entry_map = std::unordered_map<std::string, entry>;

    /// What a record takes from the heap, as max_bytes counts it (see memory_store.cpp).
    static std::uint64_t record_bytes(std::string const& key, record const& r) noexcept;
    result<begin_result> acquire(scope_key const& key, fingerprint const& fp,
                                 std::chrono::milliseconds lock_ttl, owner_token owner,
                                 std::int64_t now);
    entry_map::iterator find_live(std::string const& key, std::int64_t now);
    entry_map::iterator find_owned(std::string const& key, owner_token const& owner,
                                   std::int64_t now);
    void erase(entry_map::iterator it);
    void set_expiry(entry_map::iterator it, std::int64_t expires_at_ms);
    void sweep(std::int64_t now, std::size_t max_entries);
    bool make_room(std::int64_t now, std::uint64_t extra_records, std::uint64_t extra_bytes);
    bool fits(std::uint64_t extra_records, std::uint64_t extra_bytes) const noexcept;
    bool credential_full(std::string const& credential, std::int64_t now);

    config::memory_store_config const cfg_;
    credential_bound const bound_;
    util::clock const& clock_;
    mutable std::mutex mutex_;
    entry_map entries_;
    expiry_index by_expiry_; // keys point into entries_ (node keys never move)
    std::uint64_t bytes_ = 0;
    credential_counts per_credential_;
};

/// The store of one io_context over a shared memory_db. state() is always up.
class memory_store final : public store {
public:
    explicit memory_store(std::shared_ptr<memory_db> db);

    task<result<begin_result>> begin(scope_key key, fingerprint fp,
                                     std::chrono::milliseconds lock_ttl) override;
    task<error_code> complete(scope_key key, owner_token owner, stored_response response,
                              std::chrono::milliseconds ttl) override;
    task<error_code> release(scope_key key, owner_token owner) override;
    task<error_code> renew(scope_key key, owner_token owner,
                           std::chrono::milliseconds lock_ttl) override;
    task<result<std::optional<record_found>>> lookup(scope_key key) override;
    task<result<eviction>> evict(scope_key key) override;
    store_state state() const noexcept override { return store_state::up; }

    /// Records held by the shared db (tests, metrics).
    std::size_t size() const { return db_->size(); }

private:
    std::shared_ptr<memory_db> db_;
};

} // namespace idemgate::store
