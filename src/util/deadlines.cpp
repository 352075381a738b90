#include "idemgate/util/deadlines.hpp"

#include "idemgate/log/log.hpp"

#include <algorithm>
#include <utility>

namespace idemgate::util {

deadline_set::deadline_set(net::any_io_executor ex, std::chrono::milliseconds tick,
                           monotonic_clock const* clk)
    : ex_(std::move(ex)), tick_(std::max(tick, std::chrono::milliseconds(1))), clock_(clk) {}

std::chrono::milliseconds deadline_set::tick_for(std::chrono::milliseconds shortest) noexcept {
    return std::clamp(shortest / 8, std::chrono::milliseconds(5), std::chrono::milliseconds(100));
}

deadline_set::watch::watch(watch&& other) noexcept
    : list_(std::move(other.list_)), it_(other.it_), clock_(other.clock_) {}

deadline_set::watch::~watch() {
    if (list_) list_->erase(it_);
}

deadline_set::watch deadline_set::add(void* socket, void (*cancel)(void*) noexcept) {
    slots_->push_back(slot{socket, cancel});
    if (!*ticking_) {
        *ticking_ = true;
        net::co_spawn(ex_, run(slots_, ticking_, tick_, clock_),
                      log::on_failure{"deadline ticker"});
    }
    return watch{slots_, std::prev(slots_->end()), clock_};
}

task<void> deadline_set::run(std::shared_ptr<slots> list, std::shared_ptr<bool> ticking,
                             std::chrono::milliseconds tick, monotonic_clock const* clk) {
    steady_timer timer(co_await net::this_coro::executor);
    while (!list->empty()) {
        timer.expires_after(tick);
        co_await timer.async_wait();
        auto const now = steady_now(clk);
        for (auto& s : *list) {
            if (s.at > now) continue;
            s.at = clock::time_point::max();
            s.fired = true;
            s.cancel(s.socket);
        }
    }
    *ticking = false;
}

} // namespace idemgate::util
