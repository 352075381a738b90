#pragma once
// Sentinel mode's early warning: one connection subscribed to +switch-master on a sentinel, so
// that a failover is noticed when the sentinels announce it, not at the next failed command.
#include "idemgate/net.hpp"
#include "idemgate/redis/cluster_redirect.hpp"
#include "idemgate/redis/sentinel_config.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

namespace idemgate::redis {

class sentinel_session;

/// Keeps one subscription, to the first sentinel in cfg.sentinels that accepts it (that one
/// moves to the front), and moves on to the others in order when it is lost or the sentinel
/// falls silent (no answer to three pings); after a round where none accepted it waits
/// backoff_min, doubling to backoff_max. Same threading as connection: everything on the
/// io_context of `ex`, the handlers too (they must not block; they may call stop()). Owned
/// through shared_ptr: its coroutine keeps it alive until it ends; call stop() before dropping
/// the last external reference.
class sentinel_watch : public std::enable_shared_from_this<sentinel_watch> {
public:
    struct handlers {
        /// A `+switch-master` for cfg.master_name: the new master's address.
        std::function<void(node_address const&)> on_switch;
        /// Each time a subscription starts (the first and every one after a loss): a switch
        /// announced meanwhile was missed, so a router resolves the master again here.
        std::function<void()> on_subscribed;
    };

    sentinel_watch(net::any_io_executor ex, sentinel_config cfg, handlers h);
    sentinel_watch(sentinel_watch const&) = delete;
    sentinel_watch& operator=(sentinel_watch const&) = delete;
    ~sentinel_watch();

    void start();
    /// Closes the subscription and ends the loop. Idempotent.
    void stop();

    bool subscribed() const noexcept { return subscribed_; }
    /// The sentinel subscribed to, while subscribed().
    std::optional<node_address> sentinel() const;
    /// +switch-master messages for our master since start.
    std::uint64_t switches() const noexcept { return switches_; }

private:
    task<void> run();
    task<bool> subscribe_to(node_address const& sentinel);
    task<void> listen();
    task<void> read_loop();
    task<void> ping_loop();

    net::any_io_executor ex_;
    sentinel_config cfg_;
    handlers handlers_;
    std::unique_ptr<sentinel_session> session_;
    steady_timer timer_; // the backoff between rounds, and the pings
    std::chrono::steady_clock::time_point last_heard_{};
    bool started_ = false;
    bool stopped_ = false;
    bool subscribed_ = false;
    std::uint64_t switches_ = 0;
};

} // namespace idemgate::redis
