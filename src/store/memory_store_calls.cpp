// The per-io_context face of the memory backend (memory_store) and the owner tokens every
// backend draws; the records themselves live in memory_db (memory_store.cpp).
#include "idemgate/error.hpp"
#include "idemgate/store/memory_store.hpp"

#include <openssl/rand.h>

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

std::optional<owner_token> make_owner_token() {
    // 64 random bits drawn once per thread, then a counter: unique across threads, processes
    // and replicas without a RAND_bytes call (and its getpid fork check) on every request.
    struct source {
        std::uint64_t prefix = 0;
        std::uint64_t next = 0;
        bool seeded = false;
    };
    thread_local source src;
    if (!src.seeded) {
        std::array<unsigned char, 8> raw{};
        if (RAND_bytes(raw.data(), static_cast<int>(raw.size())) != 1) return std::nullopt;
        for (unsigned char const b : raw) src.prefix = (src.prefix << 8U) | b;
        src.seeded = true;
    }
    static constexpr char digits[] = "0123456789abcdef";
    owner_token token(32, '0');
    std::array<std::uint64_t, 2> const parts{src.prefix, src.next++};
    for (std::size_t p = 0; p < 2; ++p) {
        for (std::size_t i = 0; i < 16; ++i) {
            token[p * 16 + i] = digits[(parts[p] >> (60U - 4U * i)) & 0x0FU];
        }
    }
    return token;
}

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

} // namespace idemgate::store
