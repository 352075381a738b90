#include "idemgate/store/memory_store.hpp"

#include "idemgate/error.hpp"

#include <algorithm>
#include <cstdint>
#include <utility>

namespace idemgate::store {

namespace {

/// Expired entries dropped per write even when the store is not full, so that memory held by
/// dead records shrinks without a background task (amortised O(log n) per record).
constexpr std::size_t sweep_batch = 8;

/// What one heap block of `n` bytes takes from glibc malloc: an 8-byte header, rounded up to
/// 16, at least 32 (what malloc_usable_size shows; jemalloc's size classes are close).
constexpr std::uint64_t heap_block(std::uint64_t n) noexcept {
    return n == 0 ? 0 : std::max<std::uint64_t>(32, (n + 8 + 15) / 16 * 16);
}

/// The heap block of a std::string, none while it fits the small-string buffer.
std::uint64_t heap_of(std::string const& s) noexcept {
    return s.capacity() > 15 ? heap_block(s.capacity() + 1) : 0;
}

bool expired(std::int64_t expires_at_ms, std::int64_t now) noexcept {
    return expires_at_ms <= now;
}

} // namespace

std::uint64_t memory_db::record_bytes(std::string const& key, record const& r) noexcept {
    // Issue 9 §5: max_bytes must bound RSS, so count every block a record holds: its node in
    // the map (the value, the next pointer and the cached hash) and a bucket or two, its node
    // in the expiry index (a red-black node: colour and three pointers), the shared record
    // with its control block, and each string and vector that spills to the heap.
    constexpr std::uint64_t fixed =
        heap_block(sizeof(entry_map::value_type) + 2 * sizeof(void*)) + 2 * sizeof(void*) +
        heap_block(4 * sizeof(void*) + sizeof(expiry_index::value_type)) +
        heap_block(2 * sizeof(long) + sizeof(record));
    std::uint64_t n = fixed + heap_of(key) + heap_of(r.owner) + heap_of(r.response.body);
    auto const& headers = r.response.headers;
    n += heap_block(headers.capacity() * sizeof(header_list::value_type));
    for (auto const& [name, value] : headers) n += heap_of(name) + heap_of(value);
    return n;
}

memory_db::memory_db(config::memory_store_config const& cfg, util::clock const& clk,
                     credential_bound bound)
    : cfg_(cfg), bound_(bound), clock_(clk) {}

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
    bool const bounded = bound_.max_records != 0 && !key.credential.empty();
    if (bounded && credential_full(key.credential, now)) {
        return make_error_code(errc::credential_limit);
    }
    if (!make_room(now, 1, size)) return make_error_code(errc::store_full);

    auto const [it, inserted] = entries_.try_emplace(key.hash);
    if (bounded) {
        auto& count = *per_credential_.try_emplace(key.credential, 0).first;
        ++count.second;
        it->second.credential = &count;
    }
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
    // Kept for up to a day: give back what the upstream read reserved beyond the bytes.
    done->response.body.shrink_to_fit();
    done->response.headers.shrink_to_fit();

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
    // A record without its body is the engine's fallback after store_full (contract §7):
    // refusing it too would leave the claim to expire and a retry to run the operation again,
    // so it may overshoot max_bytes by its headers; begin refuses new claims until it shrinks.
    if (!make_room(now, 0, grow) && !done->response.body_omitted) return errc::store_full;
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

std::optional<record_found> memory_db::lookup(scope_key const& key) {
    std::shared_ptr<record const> found;
    std::int64_t expires_ms = 0;
    {
        std::lock_guard const lock(mutex_);
        auto const it = find_live(key.hash, clock_.now_ms());
        if (it == entries_.end()) return std::nullopt;
        found = it->second.rec;
        expires_ms = it->second.expires_at_ms;
    }
    // Copied unlocked, as begin's replay (a completed record is immutable once shared).
    record_found out{*found, expires_ms};
    out.rec.owner.clear();
    return out;
}

eviction memory_db::evict(scope_key const& key) {
    std::lock_guard const lock(mutex_);
    auto const it = find_live(key.hash, clock_.now_ms());
    if (it == entries_.end()) return eviction::none;
    erase(it);
    return eviction::evicted;
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
    if (auto* count = it->second.credential; count && --count->second == 0) {
        per_credential_.erase(per_credential_.find(count->first)); // found before it goes
    }
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

bool memory_db::credential_full(std::string const& credential, std::int64_t now) {
    auto const at_bound = [&] {
        auto const it = per_credential_.find(credential);
        return it != per_credential_.end() && it->second >= bound_.max_records;
    };
    if (!at_bound()) return false;
    // Expired records still count until swept: drop them all (each once, amortised) and look
    // again, as the redis backend does with ZREMRANGEBYSCORE.
    sweep(now, entries_.size());
    return at_bound();
}

bool memory_db::fits(std::uint64_t extra_records, std::uint64_t extra_bytes) const noexcept {
    return entries_.size() + extra_records <= cfg_.max_records &&
           bytes_ + extra_bytes <= cfg_.max_bytes.bytes;
}

} // namespace idemgate::store
