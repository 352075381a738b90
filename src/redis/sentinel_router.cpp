#include "idemgate/redis/sentinel_router.hpp"

#include "idemgate/error.hpp"
#include "idemgate/log/log.hpp"
#include "idemgate/redis/sentinel_replies.hpp"
#include "idemgate/redis/sentinel_watch.hpp"

#include <algorithm>

namespace idemgate::redis {

namespace {

using std::chrono::steady_clock;

error_code unavailable() noexcept {
    return make_error_code(errc::store_unavailable);
}

/// The error replies of a node that is no longer the master: the command did not run.
bool is_demoted(std::string_view error) noexcept {
    return error.starts_with("READONLY") || error.starts_with("MASTERDOWN");
}

} // namespace

sentinel_router::sentinel_router(net::any_io_executor ex,
                                 std::shared_ptr<connection_config const> base,
                                 sentinel_config sentinels, std::uint32_t pool_size,
                                 std::shared_ptr<topology_stats> stats)
    : ex_(std::move(ex)), base_(std::move(base)), resolver_(std::move(sentinels)),
      pool_size_(std::max<std::uint32_t>(pool_size, 1)),
      stats_(stats ? std::move(stats) : std::make_shared<topology_stats>()), timer_(ex_) {}

sentinel_router::~sentinel_router() {
    stop();
}

void sentinel_router::start() {
    if (started_ || stopped_) return;
    started_ = true;
    // The watch's handlers hold the router weakly: the router owns the watch.
    std::weak_ptr<router> const weak = weak_from_this();
    auto const wake = [weak] {
        if (auto const self = weak.lock()) static_cast<sentinel_router&>(*self).request_resolve();
    };
    sentinel_watch::handlers h;
    h.on_switch = [wake](node_address const&) { wake(); };
    h.on_subscribed = wake;
    watch_ = std::make_shared<sentinel_watch>(ex_, resolver_.config(), std::move(h));
    watch_->start();
    net::co_spawn(ex_, run(), log::on_failure{"redis sentinel router"});
}

void sentinel_router::stop() {
    if (stopped_) return;
    stopped_ = true;
    confirmed_ = false;
    if (watch_) watch_->stop();
    timer_.cancel();
    for (auto const& c : pool_) c->stop();
}

bool sentinel_router::subscribed() const noexcept {
    return watch_ && watch_->subscribed();
}

void sentinel_router::request_resolve() {
    resolve_wanted_ = true;
    timer_.cancel();
}

bool sentinel_router::any_up() const noexcept {
    return std::any_of(pool_.begin(), pool_.end(),
                       [](auto const& c) { return c->link() == link_state::up; });
}

bool sentinel_router::ready() const noexcept {
    if (!confirmed_.load(std::memory_order_relaxed)) return false;
    std::lock_guard const lock(pool_mutex_);
    return any_up();
}

std::shared_ptr<connection> sentinel_router::pick() {
    for (std::size_t i = 0; i < pool_.size(); ++i) {
        auto const idx = (next_ + i) % pool_.size();
        if (pool_[idx]->link() != link_state::up) continue;
        next_ = (idx + 1) % pool_.size();
        return pool_[idx];
    }
    return nullptr;
}

void sentinel_router::adopt(node_address const& master) {
    if (master_) {
        log::info("redis sentinel: the master changed",
                  {{"from", master_->to_string()}, {"to", master.to_string()}});
    }
    // Counted once per process, not once per thread's router.
    (void)stats_->saw_primaries({master});
    confirmed_ = false;
    master_ = master;
    stats_->nodes.store(1);
    auto fresh = connections_to(ex_, *base_, master, pool_size_);
    {
        std::lock_guard const lock(pool_mutex_);
        pool_.swap(fresh);
    }
    next_ = 0;
    // Calls pending on the old master fail (they may have run there: never re-sent).
    for (auto const& c : fresh) c->stop();
    for (auto const& c : pool_) c->start();
}

task<bool> sentinel_router::confirm(std::vector<std::shared_ptr<connection>> pool) {
    // A connection still making its first attempt is waited for (connect_timeout), then ROLE.
    auto const deadline = steady_clock::now() + 2 * base_->connect_timeout;
    for (auto const& conn : pool) {
        if (conn->link() == link_state::down) continue;
        command role{"ROLE"};
        auto const r = co_await conn->execute(std::move(role), deadline);
        if (stopped_) co_return false;
        if (!r) continue;
        co_return is_master_role(*r);
    }
    co_return false;
}

task<bool> sentinel_router::resolve_once() {
    auto const found = co_await resolver_.resolve();
    if (stopped_) co_return false;
    if (!found) {
        // No sentinel answers: a confirmed master keeps serving; the watch looks for them.
        if (!warned_) log::warn("redis sentinel: no sentinel names the master");
        warned_ = true;
        co_return confirmed_.load() && any_up();
    }
    stats_->refreshes.fetch_add(1);
    if (master_ != *found) adopt(*found);
    auto const pool = pool_;
    auto const ok = co_await confirm(pool);
    // Another resolution cannot have replaced the pool (only this loop adopts), stop() can.
    if (stopped_ || pool != pool_) co_return false;
    confirmed_ = ok;
    if (ok && warned_)
        log::info("redis sentinel: master confirmed", {{"master", found->to_string()}});
    if (ok) warned_ = false;
    if (!ok && !warned_) {
        log::warn("redis sentinel: the named master is not reachable or not a master (yet)",
                  {{"master", found->to_string()}});
        warned_ = true;
    }
    co_return ok&& any_up();
}

task<void> sentinel_router::run() {
    auto const self = shared_from_this();
    auto backoff = retry_min;
    while (!stopped_) {
        resolve_wanted_ = false;
        bool const healthy = co_await resolve_once();
        if (stopped_) break;
        if (!healthy) {
            // Until the sentinels name a master that says it is one (a failover takes seconds):
            // again after the backoff, or at once on a +switch-master or a request.
            if (!resolve_wanted_) {
                timer_.expires_after(backoff);
                co_await timer_.async_wait(use_nothrow);
            }
            backoff = std::min(backoff * 2, retry_max);
            continue;
        }
        backoff = retry_min;
        // Healthy: look at the links now and then; all down is a loss to resolve again after.
        while (!stopped_ && !resolve_wanted_) {
            if (!any_up()) {
                confirmed_ = false;
                break;
            }
            timer_.expires_after(health_interval);
            co_await timer_.async_wait(use_nothrow);
        }
    }
}

task<bool> sentinel_router::pause(std::chrono::milliseconds& backoff, time_point deadline) {
    auto const self = shared_from_this();
    bool const time_left = co_await backoff_pause(ex_, backoff, deadline);
    co_return time_left && !stopped_;
}

task<routed> sentinel_router::execute(std::string_view, std::span<std::string_view const> args,
                                      time_point deadline) {
    auto const self = shared_from_this();
    auto backoff = std::chrono::milliseconds(5);
    bool demoted = false; // a READONLY was answered: wait for the new master within deadline
    while (!stopped_) {
        auto const conn = confirmed_ ? pick() : nullptr;
        if (!conn) {
            // Nothing sent. Every connection of a confirmed master down is a loss: resolve
            // again (once: while none is confirmed the loop keeps resolving by itself).
            if (confirmed_) {
                confirmed_ = false;
                request_resolve();
            }
            if (!demoted || !co_await pause(backoff, deadline)) break;
            continue;
        }
        auto r = co_await conn->execute(command(args), deadline);
        if (!r) {
            // Lost or timed out after it was written: it may have run, so it is not re-sent.
            if (conn->link() != link_state::up) request_resolve();
            co_return routed{std::move(r), conn};
        }
        if (!r->is_error() || !is_demoted(r->str)) co_return routed{std::move(r), conn};
        // The node became a replica: the command did not run. A late answer of an old pool
        // says nothing about the current master.
        if (std::find(pool_.begin(), pool_.end(), conn) != pool_.end()) {
            if (confirmed_) {
                log::warn("redis sentinel: the master answers as a replica; resolving again",
                          {{"error", r->str}});
                confirmed_ = false;
                request_resolve();
            }
        }
        demoted = true;
        if (!co_await pause(backoff, deadline)) break;
    }
    co_return routed{unavailable(), nullptr};
}

} // namespace idemgate::redis
