#pragma once
// Keeps the in-progress records of the requests an engine is executing alive while their
// upstream works (contract §2), with one timer per thread rather than one per request.

#include "idemgate/net.hpp"
#include "idemgate/store/store.hpp"
#include "idemgate/util/clock.hpp"

#include <chrono>
#include <list>
#include <memory>

namespace idemgate::engine {

/// A claim held at t is first renewed at the first tick after t + period, then every period:
/// with ticks every period / 2, no lock waits longer than 1.5 × period for its renewal, and
/// period = lock_ttl / 3 keeps that under lock_ttl / 2.
/// @par Thread Safety: not thread-safe; one per io_context, like the engine.
class lock_keeper {
    struct slot {
        store::scope_key key;
        store::owner_token owner;
        std::chrono::milliseconds lock_ttl; // each renewal's
        std::chrono::milliseconds period;   // between renewals: lock_ttl / 3
        std::chrono::steady_clock::time_point due;
        bool held = true;      // false once the request is done with its lock
        bool renewing = false; // a renewal is in flight
        bool lost = false;     // the store said another owner has it (logged once)
    };
    using slots = std::list<std::shared_ptr<slot>>;

public:
    /// `lock_ttl`: of keep() without one, and the shortest any keep() may be given (the
    /// ticks come every period / 2 of it, so a lock of any longer lock_ttl keeps the bound
    /// too). `clk`: when renewals are due; null means std::chrono::steady_clock (a test
    /// passes a manual clock, which must outlive the keeper). The ticks are real timers.
    lock_keeper(store::store& st, std::chrono::milliseconds lock_ttl,
                util::monotonic_clock const* clk = nullptr);

    /// Renews while alive. Move-only. It shares the keeper's list, so a request frame that
    /// the io_context destroys at shutdown, after the engine, can still let go of it.
    class hold {
    public:
        hold(hold&& other) noexcept;
        hold& operator=(hold&&) = delete;
        hold(hold const&) = delete;
        hold& operator=(hold const&) = delete;
        ~hold();
        /// Stops renewing now (the destructor does it otherwise).
        void release() noexcept;

    private:
        friend class lock_keeper;
        hold(std::shared_ptr<slots> list, slots::iterator it) : list_(std::move(list)), it_(it) {}
        std::shared_ptr<slots> list_;
        slots::iterator it_;
    };

    /// Starts renewing `key` for `owner`; the first call starts the ticker on `ex`.
    hold keep(net::any_io_executor const& ex, store::scope_key const& key,
              store::owner_token const& owner) {
        return keep(ex, key, owner, lock_ttl_);
    }
    /// The same for a lock of its own `lock_ttl` (a route's), at least the keeper's.
    hold keep(net::any_io_executor const& ex, store::scope_key const& key,
              store::owner_token const& owner, std::chrono::milliseconds lock_ttl);

    std::chrono::milliseconds period() const noexcept { return period_; }
    std::size_t held() const noexcept { return slots_->size(); }

private:
    task<void> tick();
    task<void> renew(std::shared_ptr<slot> s);

    store::store& store_;
    util::monotonic_clock const* clock_; // null: the real steady clock
    std::chrono::milliseconds lock_ttl_;
    std::chrono::milliseconds period_;
    std::shared_ptr<slots> slots_ = std::make_shared<slots>();
    bool ticking_ = false;
};

} // namespace idemgate::engine
