#include "idemgate/redis/cluster_router.hpp"

#include "idemgate/error.hpp"
#include "idemgate/log/log.hpp"
#include "idemgate/redis/key_slot.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>

#include <algorithm>
#include <exception>
#include <set>

namespace idemgate::redis {

namespace {

using std::chrono::steady_clock;

error_code unavailable() noexcept {
    return make_error_code(errc::store_unavailable);
}

/// Error replies that say the command did not run and may run soon: a multi-key command
/// during a migration (TRYAGAIN), a cluster without full coverage or mid-failover
/// (CLUSTERDOWN), a write on a node that became a replica (READONLY).
enum class transient { none, retry, stale_map };

transient transient_of(std::string_view error) {
    if (error.starts_with("TRYAGAIN") || error.starts_with("CLUSTERDOWN")) return transient::retry;
    if (error.starts_with("READONLY") || error.starts_with("MASTERDOWN"))
        return transient::stale_map;
    return transient::none;
}

void log_loop_end(std::exception_ptr const& e) {
    if (!e) return;
    try {
        std::rethrow_exception(e);
    } catch (std::exception const& ex) {
        log::error("redis cluster refresh loop ended", {{"error", ex.what()}});
    }
}

} // namespace

cluster_router::cluster_router(net::any_io_executor ex,
                               std::shared_ptr<connection_config const> base,
                               std::vector<node_address> seeds, std::uint32_t pool_size,
                               std::shared_ptr<topology_stats> stats)
    : ex_(std::move(ex)), base_(std::move(base)), seeds_(std::move(seeds)),
      pool_size_(std::max<std::uint32_t>(pool_size, 1)),
      stats_(stats ? std::move(stats) : std::make_shared<topology_stats>()), refresh_timer_(ex_) {}

cluster_router::~cluster_router() {
    stop();
}

void cluster_router::start() {
    if (started_ || stopped_) return;
    started_ = true;
    net::co_spawn(ex_, refresh_loop(), log_loop_end);
}

void cluster_router::stop() {
    if (stopped_) return;
    stopped_ = true;
    refresh_timer_.cancel();
    for (auto& [node, pool] : nodes_)
        for (auto const& c : pool.conns) c->stop();
    nodes_.clear();
    publish();
}

std::uint64_t cluster_router::redirects(redirect_kind kind) const noexcept {
    return kind == redirect_kind::moved ? stats_->moved.load() : stats_->ask.load();
}

std::shared_ptr<connection> cluster_router::connection_to(node_address const& node) {
    if (stopped_) return nullptr;
    auto& pool = nodes_[node];
    if (pool.conns.empty()) {
        pool.conns = connections_to(ex_, *base_, node, pool_size_);
        for (auto const& c : pool.conns) c->start();
    }
    for (std::size_t i = 0; i < pool.conns.size(); ++i) {
        auto const idx = (pool.next + i) % pool.conns.size();
        if (pool.conns[idx]->link() == link_state::down) continue;
        pool.next = (idx + 1) % pool.conns.size();
        return pool.conns[idx];
    }
    return nullptr;
}

bool cluster_router::ready() const noexcept {
    std::lock_guard lock(ready_mu_);
    if (!whole_) return false;
    return std::all_of(primaries_.begin(), primaries_.end(), [](auto const& conns) {
        return std::any_of(conns.begin(), conns.end(),
                           [](auto const& c) { return c->link() != link_state::down; });
    });
}

void cluster_router::publish() {
    std::vector<std::vector<std::shared_ptr<connection>>> conns;
    if (!stopped_) {
        for (auto const& p : map_.primaries()) {
            auto const it = nodes_.find(p);
            conns.push_back(it == nodes_.end() ? std::vector<std::shared_ptr<connection>>{}
                                               : it->second.conns);
        }
    }
    std::lock_guard lock(ready_mu_);
    whole_ = !stopped_ && map_.covers_all();
    primaries_ = std::move(conns);
}

void cluster_router::adopt(slot_map map) {
    auto after = map.primaries();
    // A primary the process had not seen as one: a failover (or a node added); either way
    // the master of some slots changed.
    if (auto const fresh = stats_->saw_primaries(after); fresh > 0)
        log::info("redis cluster: new primaries in the slot map", {{"new", fresh}});
    map_ = std::move(map);
    stats_->nodes.store(static_cast<std::int64_t>(after.size()));
    // Connect to every primary now, so that readiness and the first request do not wait; drop
    // nodes the cluster no longer names (a replica stays known: a failover may promote it).
    std::set<node_address> named(after.begin(), after.end());
    for (auto const& range : map_.ranges())
        named.insert(range.replicas.begin(), range.replicas.end());
    for (auto it = nodes_.begin(); it != nodes_.end();) {
        if (named.contains(it->first)) {
            ++it;
            continue;
        }
        for (auto const& c : it->second.conns) c->stop();
        it = nodes_.erase(it);
    }
    for (auto const& p : after) (void)connection_to(p);
    publish();
}

task<bool> cluster_router::refresh(time_point deadline) {
    auto const self = shared_from_this();
    refreshing_ = true;
    auto const found = co_await ask_for_map(deadline);
    refreshing_ = false;
    co_return found;
}

task<bool> cluster_router::ask_for_map(time_point deadline) {
    auto candidates = map_.primaries();
    for (auto const& s : seeds_)
        if (std::find(candidates.begin(), candidates.end(), s) == candidates.end())
            candidates.push_back(s);
    for (auto const& node : candidates) {
        if (stopped_ || steady_clock::now() >= deadline) break;
        auto const conn = connection_to(node);
        if (!conn) continue; // down: reconnecting in the background
        // One node may not hold the whole budget: a silent one is skipped after
        // connect_timeout.
        auto const until = std::min(deadline, steady_clock::now() + base_->connect_timeout);
        // Built outside the co_await: GCC 12 miscompiles an initializer_list temporary there.
        command cmd{"CLUSTER", "SLOTS"};
        auto const r = co_await conn->execute(std::move(cmd), until);
        if (!r || stopped_) continue;
        std::string error;
        // An unknown endpoint in the reply is the host we asked.
        auto m = slot_map::parse(*r, node.host, error);
        if (!m) {
            log::warn("redis cluster: CLUSTER SLOTS unreadable",
                      {{"node", node.to_string()}, {"error", error}});
            continue;
        }
        stats_->refreshes.fetch_add(1);
        adopt(std::move(*m));
        co_return true;
    }
    co_return false;
}

void cluster_router::request_refresh() {
    refresh_wanted_ = true;
    refresh_timer_.cancel();
}

task<void> cluster_router::refresh_loop() {
    auto const self = shared_from_this();
    while (!stopped_) {
        refresh_wanted_ = false;
        auto const until = steady_clock::now() + 4 * base_->connect_timeout;
        co_await refresh(until);
        if (stopped_) break;
        // At least quick_refresh between two refreshes, however often one is asked for; every
        // quick_refresh while the map is not whole or a primary is unreachable.
        refresh_timer_.expires_after(quick_refresh);
        co_await refresh_timer_.async_wait(use_nothrow);
        if (stopped_ || refresh_wanted_ || !ready()) continue;
        refresh_timer_.expires_after(steady_refresh - quick_refresh);
        co_await refresh_timer_.async_wait(use_nothrow); // cancelled by request_refresh()
    }
}

task<bool> cluster_router::pause(std::chrono::milliseconds& backoff, time_point deadline) {
    auto const self = shared_from_this();
    bool const time_left = co_await backoff_pause(ex_, backoff, deadline);
    co_return time_left && !stopped_;
}

task<routed> cluster_router::execute(std::string_view key, std::span<std::string_view const> args,
                                     time_point deadline) {
    using namespace net::experimental::awaitable_operators;
    auto const self = shared_from_this();
    auto const slot = slot_of(key);
    std::optional<node_address> ask_target;
    auto backoff = std::chrono::milliseconds(5);
    int redirects = 0;
    while (!stopped_) {
        auto const* owner = ask_target ? &*ask_target : map_.primary_for(slot);
        auto const target = owner ? *owner : node_address{}; // the map may change meanwhile
        auto const conn = owner ? connection_to(target) : nullptr;
        if (!conn) {
            // No owner known, or it cannot be reached now: nothing was sent, so waiting for
            // a fresher map (a failover, a first discovery) and trying again is safe. One
            // caller refreshes at a time; the others wait for it.
            ask_target.reset();
            if (!owner && !refreshing_ && co_await refresh(deadline)) continue;
            if (owner) request_refresh(); // the owner is down: the background loop looks
            if (!co_await pause(backoff, deadline)) break;
            continue;
        }
        result<reply> r = unavailable();
        if (ask_target) {
            // ASKING applies to the next command on the connection: both are queued before
            // either is written (execute queues before it first suspends), so nothing of
            // another caller can come between them.
            command asking{"ASKING"};
            auto both = co_await (conn->execute(std::move(asking), deadline) &&
                                  conn->execute(command(args), deadline));
            r = std::move(std::get<1>(both));
            ask_target.reset();
        } else {
            r = co_await conn->execute(command(args), deadline);
        }
        if (!r) {
            // Lost or timed out after it was written: it may have run, so it is not re-sent.
            // The node may be gone: look again.
            request_refresh();
            co_return routed{std::move(r), conn};
        }
        if (!r->is_error()) co_return routed{std::move(r), conn};
        if (auto redirect = parse_redirect(r->str)) {
            if (++redirects > max_redirects) {
                log::warn("redis cluster: too many redirections", {{"slot", slot}});
                break;
            }
            // An empty endpoint means "the host you reached me on".
            if (redirect->target.host.empty()) redirect->target.host = target.host;
            if (redirect->kind == redirect_kind::moved) {
                stats_->moved.fetch_add(1);
                map_ = map_.with_owner(redirect->slot, redirect->target);
                (void)connection_to(redirect->target);
                publish();
                request_refresh(); // one moved slot often means more did
            } else {
                stats_->ask.fetch_add(1);
                ask_target = redirect->target;
            }
            continue;
        }
        auto const kind = transient_of(r->str);
        if (kind == transient::none) co_return routed{std::move(r), conn};
        if (kind == transient::stale_map) request_refresh();
        if (!co_await pause(backoff, deadline)) break;
    }
    co_return routed{unavailable(), nullptr};
}

} // namespace idemgate::redis
