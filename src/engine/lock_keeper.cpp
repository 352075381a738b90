#include "idemgate/engine/lock_keeper.hpp"

#include "idemgate/error.hpp"
#include "idemgate/log/log.hpp"

#include <algorithm>
#include <utility>
#include <vector>

namespace idemgate::engine {

namespace {

std::chrono::milliseconds period_of(std::chrono::milliseconds lock_ttl) noexcept {
    return std::max(lock_ttl / 3, std::chrono::milliseconds(10));
}

} // namespace

lock_keeper::lock_keeper(store::store& st, std::chrono::milliseconds lock_ttl,
                         util::monotonic_clock const* clk)
    : store_(st), clock_(clk), lock_ttl_(lock_ttl), period_(period_of(lock_ttl)) {}

lock_keeper::hold::hold(hold&& other) noexcept : list_(std::move(other.list_)), it_(other.it_) {}

lock_keeper::hold::~hold() {
    release();
}

void lock_keeper::hold::release() noexcept {
    if (!list_) return;
    (*it_)->held = false; // a renewal in flight sees it and stays quiet
    std::exchange(list_, nullptr)->erase(it_);
}

lock_keeper::hold lock_keeper::keep(net::any_io_executor const& ex, store::scope_key const& key,
                                    store::owner_token const& owner,
                                    std::chrono::milliseconds lock_ttl) {
    if (!ticking_) {
        // Runs until the io_context stops: the gateway stops its workers after draining.
        ticking_ = true;
        net::co_spawn(ex, tick(), log::on_failure{"lock keeper"});
    }
    // A shorter lock than the ticks were set for could wait too long for its renewal.
    lock_ttl = std::max(lock_ttl, lock_ttl_);
    auto const period = period_of(lock_ttl);
    auto s = std::make_shared<slot>(
        slot{key, owner, lock_ttl, period, util::steady_now(clock_) + period});
    slots_->push_back(std::move(s));
    return hold{slots_, std::prev(slots_->end())};
}

task<void> lock_keeper::tick() {
    steady_timer timer(co_await net::this_coro::executor);
    auto const every = std::max(period_ / 2, std::chrono::milliseconds(5));
    std::vector<std::shared_ptr<slot>> due;
    for (;;) {
        timer.expires_after(every);
        co_await timer.async_wait();
        auto const now = util::steady_now(clock_);
        due.clear();
        for (auto const& s : *slots_) {
            if (s->due <= now && !s->renewing && !s->lost) due.push_back(s);
        }
        // Each renewal on its own: they pipeline on the store's connections, and a slow one
        // does not hold back the others.
        for (auto& s : due) {
            s->renewing = true;
            net::co_spawn(timer.get_executor(), renew(std::move(s)),
                          log::on_failure{"lock renewal"});
        }
    }
}

task<void> lock_keeper::renew(std::shared_ptr<slot> s) {
    auto const e = co_await store_.renew(s->key, s->owner, s->lock_ttl);
    s->renewing = false;
    // Renewed: due again in a period. Failed (store down): the next tick tries again.
    s->due = util::steady_now(clock_) + (e ? std::chrono::milliseconds(0) : s->period);
    if (e == errc::not_owner && s->held) {
        s->lost = true;
        log::warn("lock lost while the upstream was working", {{"scope", s->key.hash}});
    }
}

} // namespace idemgate::engine
