#pragma once
// Injectable wall clock in milliseconds, so TTL and lock expiry are testable without sleeping.
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

} // namespace idemgate::util
