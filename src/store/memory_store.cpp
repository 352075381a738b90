#include "idemgate/store/memory_store.hpp"

#include "idemgate/error.hpp"

#include <openssl/rand.h>

#include <array>
#include <cstdint>
#include <exception>
#include <utility>

namespace idemgate::store {

namespace {

/// Expired entries dropped per write even when the store is not full, so that memory held by
/// dead records shrinks without a background task (amortised O(log n) per record).
constexpr std::size_t sweep_batch = 8;

/// Rough per-record cost of the map node, the index node and the record's own fields.
constexpr std::uint64_t record_overhead = 192;

std::uint64_t record_bytes(std::string const& key, record const& r) noexcept {
    std::uint64_t n = record_overhead + key.size() + r.owner.size() + r.response.body.size();
    for (auto const& [name, value] : r.response.headers) n += name.size() + value.size();
    return n;
}

bool expired(std::int64_t expires_at_ms, std::int64_t now) noexcept {
    return expires_at_ms <= now;
}

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

memory_db::memory_db(config::memory_store_config const& cfg, util::clock const& clk)
    : cfg_(cfg), clock_(clk) {}

result<begin_result> memory_db::begin(scope_key const& key, fingerprint const& fp,
                                      std::chrono::milliseconds lock_ttl, owner_token new_owner) {
    std::shared_ptr<record const> found;
    {
        std::lock_guard const lock(mutex_);
        auto const now = clock_.now_ms();
        sweep(now, sweep_batch);
        auto const it = find_live(key.hash, now);
        if (it == entries_.end()) return acquire(key, fp, lock_ttl, std::move(new_owner), now);
        found = it->second.rec;
    }
    // A completed record is immutable once shared: copy it (maybe megabytes) unlocked.
    begin_result res;
    if (found->fp != fp) {
        res.kind = begin_kind::fingerprint_mismatch;
    } else if (found->state == record_state::in_progress) {
        res.kind = begin_kind::in_progress;
    } else {
        res.kind = begin_kind::replay;
        res.existing = *found;
    }
    return res;
}

result<begin_result> memory_db::acquire(scope_key const& key, fingerprint const& fp,
                                        std::chrono::milliseconds lock_ttl, owner_token owner,
                                        std::int64_t now) {
    auto rec = std::make_shared<record>();
    rec->state = record_state::in_progress;
    rec->fp = fp;
    rec->owner = owner;
    rec->created_ms = now;
    auto const size = record_bytes(key.hash, *rec);
    if (!make_room(now, 1, size)) return make_error_code(errc::store_full);

    auto const [it, inserted] = entries_.try_emplace(key.hash);
    it->second.rec = std::move(rec);
    it->second.bytes = size;
    it->second.expires_at_ms = now + lock_ttl.count();
    it->second.by_expiry = by_expiry_.emplace(it->second.expires_at_ms, &it->first);
    bytes_ += size;

    begin_result res;
    res.kind = begin_kind::acquired;
    res.owner = std::move(owner);
    return res;
}

error_code memory_db::complete(scope_key const& key, owner_token const& owner,
                               stored_response response, std::chrono::milliseconds ttl) {
    // Built before locking; only the fingerprint and start time come from the lock.
    auto done = std::make_shared<record>();
    done->state = record_state::completed;
    done->response = std::move(response);

    std::lock_guard const lock(mutex_);
    auto const now = clock_.now_ms();
    sweep(now, sweep_batch);
    auto const it = find_owned(key.hash, owner, now);
    if (it == entries_.end()) return errc::not_owner;
    done->fp = it->second.rec->fp;
    done->created_ms = it->second.rec->created_ms;

    // ttl counts from the first request (contract §3): a slow upstream may leave nothing to keep.
    auto const expires_at = done->created_ms + ttl.count();
    if (expired(expires_at, now)) {
        erase(it);
        return {};
    }
    auto const size = record_bytes(key.hash, *done);
    auto const grow = size > it->second.bytes ? size - it->second.bytes : 0;
    if (!make_room(now, 0, grow)) return errc::store_full;
    bytes_ = bytes_ - it->second.bytes + size;
    it->second.bytes = size;
    it->second.rec = std::move(done);
    set_expiry(it, expires_at);
    return {};
}

error_code memory_db::release(scope_key const& key, owner_token const& owner) {
    std::lock_guard const lock(mutex_);
    auto const now = clock_.now_ms();
    sweep(now, sweep_batch);
    auto const it = find_owned(key.hash, owner, now);
    if (it == entries_.end()) return errc::not_owner;
    erase(it);
    return {};
}

error_code memory_db::renew(scope_key const& key, owner_token const& owner,
                            std::chrono::milliseconds lock_ttl) {
    std::lock_guard const lock(mutex_);
    auto const now = clock_.now_ms();
    sweep(now, sweep_batch);
    auto const it = find_owned(key.hash, owner, now);
    if (it == entries_.end()) return errc::not_owner;
    set_expiry(it, now + lock_ttl.count());
    return {};
}

std::size_t memory_db::size() const {
    std::lock_guard const lock(mutex_);
    return entries_.size();
}

std::uint64_t memory_db::bytes() const {
    std::lock_guard const lock(mutex_);
    return bytes_;
}

memory_db::entry_map::iterator memory_db::find_live(std::string const& key, std::int64_t now) {
    auto const it = entries_.find(key);
    if (it == entries_.end() || !expired(it->second.expires_at_ms, now)) return it;
    erase(it);
    return entries_.end();
}

memory_db::entry_map::iterator memory_db::find_owned(std::string const& key,
                                                     owner_token const& owner, std::int64_t now) {
    auto const it = find_live(key, now);
    if (it == entries_.end()) return it;
    record const& r = *it->second.rec;
    if (r.state != record_state::in_progress || r.owner != owner) return entries_.end();
    return it;
}

void memory_db::erase(entry_map::iterator it) {
    by_expiry_.erase(it->second.by_expiry);
    bytes_ -= it->second.bytes;
    entries_.erase(it);
}

void memory_db::set_expiry(entry_map::iterator it, std::int64_t expires_at_ms) {
    by_expiry_.erase(it->second.by_expiry);
    it->second.expires_at_ms = expires_at_ms;
    it->second.by_expiry = by_expiry_.emplace(expires_at_ms, &it->first);
}

void memory_db::sweep(std::int64_t now, std::size_t max_entries) {
    for (std::size_t i = 0; i < max_entries && !by_expiry_.empty(); ++i) {
        auto const first = by_expiry_.begin();
        if (!expired(first->first, now)) return;
        erase(entries_.find(*first->second));
    }
}

bool memory_db::make_room(std::int64_t now, std::uint64_t extra_records,
                          std::uint64_t extra_bytes) {
    // Only expired entries may go; each is removed once, so this is amortised O(log n).
    while (!fits(extra_records, extra_bytes) && !by_expiry_.empty() &&
           expired(by_expiry_.begin()->first, now)) {
        erase(entries_.find(*by_expiry_.begin()->second));
    }
    return fits(extra_records, extra_bytes);
}

bool memory_db::fits(std::uint64_t extra_records, std::uint64_t extra_bytes) const noexcept {
    return entries_.size() + extra_records <= cfg_.max_records &&
           bytes_ + extra_bytes <= cfg_.max_bytes.bytes;
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
