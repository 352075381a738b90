#pragma once
// Injectable clocks, so TTL, lock expiry, lock renewal and I/O deadlines are testable without
// sleeping: a wall clock in milliseconds (the stores' records) and a monotonic one (the lock
// keeper's renewals, the coarse I/O deadlines).
#include <atomic>
#include <chrono>
#include <cstdint>

namespace idemgate::util {

/// Thread-safe. Milliseconds since the Unix epoch.
class clock {
public:
    virtual ~clock() = default;
    virtual std::int64_t now_ms() const noexcept = 0;
};

class system_clock final : public clock {
public:
    std::int64_t now_ms() const noexcept override {
        return std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
            .count();
    }
};

/// For tests: time moves only when told to.
class manual_clock final : public clock {
public:
    explicit manual_clock(std::int64_t start_ms = 1'700'000'000'000) : now_(start_ms) {}
    std::int64_t now_ms() const noexcept override { return now_.load(std::memory_order_relaxed); }
    void advance(std::chrono::milliseconds d) noexcept {
        now_.fetch_add(d.count(), std::memory_order_relaxed);
    }

private:
    std::atomic<std::int64_t> now_;
};

/// The process-wide real clock (stateless, so not mutable global state).
clock const& real_clock() noexcept;

/// Monotonic time for bookkeeping that real timers check periodically (lock_keeper,
/// deadline_set): a test injects one to decide when a renewal is due or a deadline has
/// passed, while the real timers keep ticking. Thread-safe.
class monotonic_clock {
public:
    using time_point = std::chrono::steady_clock::time_point;
    virtual ~monotonic_clock() = default;
    virtual time_point now() const noexcept = 0;
};

/// For tests: starts at the real steady time and moves only when told to.
class manual_monotonic_clock final : public monotonic_clock {
public:
    manual_monotonic_clock() : now_(std::chrono::steady_clock::now().time_since_epoch().count()) {}
    time_point now() const noexcept override {
        return time_point(time_point::duration(now_.load(std::memory_order_relaxed)));
    }
    void advance(std::chrono::steady_clock::duration d) noexcept {
        now_.fetch_add(d.count(), std::memory_order_relaxed);
    }

private:
    std::atomic<time_point::rep> now_;
};

/// `clk` when a test injected one, else std::chrono::steady_clock: users hold a nullable
/// pointer so that production pays a predictable branch, not a virtual call, per reading.
inline monotonic_clock::time_point steady_now(monotonic_clock const* clk) noexcept {
    return clk ? clk->now() : std::chrono::steady_clock::now();
}

} // namespace idemgate::util
