#pragma once
// Process-wide bounds on the work the sessions hold at once (issue 9 "memory held by slow
// readers"): requests being handled (limits.max_inflight) and body bytes buffered
// (limits.max_buffered_bytes). Over either, a new request gets 503 overloaded. One relaxed
// atomic add and one sub per request: no lock on the hot path.
#include <atomic>
#include <cstdint>

namespace idemgate::util {

/// Shared by the sessions of every thread; owned by the gateway.
struct admission {
    std::atomic<std::uint64_t> inflight{0};
    std::atomic<std::uint64_t> buffered_bytes{0};
};

/// One request counted in admission::inflight while the object lives (and entered).
class inflight_slot {
public:
    explicit inflight_slot(admission& a) noexcept : a_(a) {}
    ~inflight_slot() { leave(); }
    inflight_slot(inflight_slot const&) = delete;
    inflight_slot& operator=(inflight_slot const&) = delete;

    /// False, counting nothing, when `max` requests are already in flight.
    bool enter(std::uint64_t max) noexcept {
        if (a_.inflight.fetch_add(1, std::memory_order_relaxed) >= max) {
            a_.inflight.fetch_sub(1, std::memory_order_relaxed);
            return false;
        }
        entered_ = true;
        return true;
    }
    void leave() noexcept {
        if (entered_) a_.inflight.fetch_sub(1, std::memory_order_relaxed);
        entered_ = false;
    }

private:
    admission& a_;
    bool entered_ = false;
};

/// Body bytes one session holds, counted in admission::buffered_bytes until released.
class held_bytes {
public:
    explicit held_bytes(admission& a) noexcept : a_(a) {}
    ~held_bytes() { release(); }
    held_bytes(held_bytes const&) = delete;
    held_bytes& operator=(held_bytes const&) = delete;

    /// Bytes about to be read: false, holding nothing more, when they would take the total
    /// over `max` (the request is refused before its body is read).
    bool try_hold(std::uint64_t n, std::uint64_t max) noexcept {
        if (n == 0) return true;
        if (a_.buffered_bytes.fetch_add(n, std::memory_order_relaxed) + n > max) {
            a_.buffered_bytes.fetch_sub(n, std::memory_order_relaxed);
            return false;
        }
        held_ += n;
        return true;
    }
    /// Bytes already in memory (a response being written): counted even over the budget,
    /// so that new requests are refused while they are held.
    void hold(std::uint64_t n) noexcept {
        a_.buffered_bytes.fetch_add(n, std::memory_order_relaxed);
        held_ += n;
    }
    void release() noexcept {
        if (held_ != 0) a_.buffered_bytes.fetch_sub(held_, std::memory_order_relaxed);
        held_ = 0;
    }
    std::uint64_t held() const noexcept { return held_; }

private:
    admission& a_;
    std::uint64_t held_ = 0;
};

} // namespace idemgate::util
