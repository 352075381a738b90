// The per-io_context face of the memory backend (memory_store) and the owner tokens every
// backend draws; the records themselves live in memory_db (memory_store.cpp).
#include "idemgate/error.hpp"
#include "idemgate/store/memory_store.hpp"
#include "idemgate/store/owner_token.hpp"

#include <array>
#include <cstdint>
#include <exception>
#include <utility>

namespace idemgate::store {

namespace {

/// A store never throws (store.hpp): an allocation failure becomes store_unavailable.
template <class F>
auto guarded(F const& f) noexcept -> decltype(f()) {
    try {
        return f();
    } catch (std::exception const&) {
        return decltype(f())(make_error_code(errc::store_unavailable));
    }
}

} // namespace

memory_store::memory_store(std::shared_ptr<memory_db> db) : db_(std::move(db)) {}

task<result<begin_result>> memory_store::begin(scope_key key, fingerprint fp,
                                               std::chrono::milliseconds lock_ttl) {
    co_return guarded([&]() -> result<begin_result> {
        auto owner = make_owner_token();
        if (!owner) return make_error_code(errc::store_unavailable);
        return db_->begin(key, fp, lock_ttl, std::move(*owner));
    });
}

task<error_code> memory_store::complete(scope_key key, owner_token owner, stored_response response,
                                        std::chrono::milliseconds ttl) {
    co_return guarded([&] { return db_->complete(key, owner, std::move(response), ttl); });
}

task<error_code> memory_store::release(scope_key key, owner_token owner) {
    co_return guarded([&] { return db_->release(key, owner); });
}

task<error_code> memory_store::renew(scope_key key, owner_token owner,
                                     std::chrono::milliseconds lock_ttl) {
    co_return guarded([&] { return db_->renew(key, owner, lock_ttl); });
}

task<result<std::optional<record_found>>> memory_store::lookup(scope_key key) {
    co_return guarded([&]() -> result<std::optional<record_found>> { return db_->lookup(key); });
}

task<result<eviction>> memory_store::evict(scope_key key) {
    co_return guarded([&]() -> result<eviction> { return db_->evict(key); });
}

} // namespace idemgate::store
