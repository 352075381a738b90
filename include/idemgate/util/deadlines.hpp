#pragma once
// Coarse I/O deadlines for the sockets of one io_context: one periodic timer checks them
// all, so that setting a deadline is a store of a time point rather than a timer armed and
// cancelled (a system call each) around every read and write.

#include "idemgate/net.hpp"
#include "idemgate/util/clock.hpp"

#include <chrono>
#include <list>
#include <memory>

namespace idemgate::util {

/// A deadline fires between its time and one tick later: it cancels the socket's pending
/// operations (they end with operation_aborted) and marks the watch as fired, so the owner
/// can tell a timeout from other cancellations. The socket stays open.
/// @par Thread Safety: not thread-safe; one per io_context.
class deadline_set {
    using clock = std::chrono::steady_clock;
    struct slot {
        void* socket;                   // an Asio socket, of any executor type
        void (*cancel)(void*) noexcept; // cancels its pending operations
        clock::time_point at = clock::time_point::max();
        bool fired = false;
    };
    using slots = std::list<slot>;

public:
    /// `tick`: the check period, which is also the deadlines' resolution. `clk`: the time
    /// deadlines are set and checked against; null means std::chrono::steady_clock (a test
    /// passes a manual clock, which must outlive the set). The ticks are real timers.
    deadline_set(net::any_io_executor ex, std::chrono::milliseconds tick,
                 monotonic_clock const* clk = nullptr);

    /// The deadline of one socket; registered while alive. Move-only. It shares the set's
    /// list, so a coroutine frame destroyed after the set at shutdown can still let go of it.
    class watch {
    public:
        watch(watch&& other) noexcept;
        watch& operator=(watch&&) = delete;
        watch(watch const&) = delete;
        watch& operator=(watch const&) = delete;
        ~watch();

        void expires_after(clock::duration d) noexcept {
            it_->at = steady_now(clock_) + d;
            it_->fired = false;
        }
        void expires_never() noexcept { it_->at = clock::time_point::max(); }
        /// The last deadline passed (and cancelled the socket's operations).
        bool fired() const noexcept { return it_->fired; }

    private:
        friend class deadline_set;
        watch(std::shared_ptr<slots> list, slots::iterator it, monotonic_clock const* clk)
            : list_(std::move(list)), it_(it), clock_(clk) {}
        std::shared_ptr<slots> list_;
        slots::iterator it_;
        monotonic_clock const* clock_; // null: the real steady clock
    };

    /// Watches `socket`, which must outlive the watch; starts the ticker when it is idle.
    template <class Socket>
    watch add(Socket& socket) {
        return add(&socket, [](void* s) noexcept {
            error_code ignored;
            static_cast<Socket*>(s)->cancel(ignored);
        });
    }

    std::chrono::milliseconds tick() const noexcept { return tick_; }
    std::size_t size() const noexcept { return slots_->size(); }

    /// A tick period for timeouts as short as `shortest`: an eighth of it, 5–100 ms.
    static std::chrono::milliseconds tick_for(std::chrono::milliseconds shortest) noexcept;

private:
    watch add(void* socket, void (*cancel)(void*) noexcept);
    /// Runs while any socket is watched, then ends (no wake-ups on an idle thread).
    static task<void> run(std::shared_ptr<slots> list, std::shared_ptr<bool> ticking,
                          std::chrono::milliseconds tick, monotonic_clock const* clk);

    net::any_io_executor ex_;
    std::chrono::milliseconds tick_;
    monotonic_clock const* clock_; // null: the real steady clock
    std::shared_ptr<slots> slots_ = std::make_shared<slots>();
    std::shared_ptr<bool> ticking_ = std::make_shared<bool>(false);
};

} // namespace idemgate::util
