#include "idemgate/redis/sentinel_watch.hpp"

#include "idemgate/log/log.hpp"
#include "idemgate/redis/sentinel_replies.hpp"

#include "sentinel_session.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>

#include <algorithm>
#include <exception>

namespace idemgate::redis {

namespace {

constexpr std::string_view switch_channel = "+switch-master";

void log_watch_failure(std::exception_ptr const& e) {
    if (!e) return;
    try {
        std::rethrow_exception(e);
    } catch (std::exception const& ex) {
        log::error("redis sentinel watch ended", {{"error", ex.what()}});
    } catch (...) {
        log::error("redis sentinel watch ended by an unknown exception");
    }
}

/// The payload of a pub/sub message on `channel` (["message", channel, payload]), or nullopt.
std::optional<std::string_view> message_on(reply const& r, std::string_view channel) {
    if (r.type != reply_type::array || r.elements.size() != 3) return std::nullopt;
    auto const& kind = r.elements[0];
    if (!kind.is_string() || kind.str != "message" || r.elements[1].str != channel) {
        return std::nullopt;
    }
    return std::string_view(r.elements[2].str);
}

/// True for the confirmation of our SUBSCRIBE (["subscribe", channel, count]).
bool is_subscribed(reply const& r) {
    return r.type == reply_type::array && r.elements.size() == 3 &&
           r.elements[0].str == "subscribe" && r.elements[1].str == switch_channel;
}

} // namespace

sentinel_watch::sentinel_watch(net::any_io_executor ex, sentinel_config cfg, handlers h)
    : ex_(std::move(ex)), cfg_(std::move(cfg)), handlers_(std::move(h)), timer_(ex_) {}

sentinel_watch::~sentinel_watch() = default;

void sentinel_watch::start() {
    if (started_) return;
    started_ = true;
    net::co_spawn(ex_, run(), log_watch_failure);
}

void sentinel_watch::stop() {
    if (stopped_) return;
    stopped_ = true;
    subscribed_ = false;
    if (session_) session_->close();
    timer_.cancel();
}

std::optional<node_address> sentinel_watch::sentinel() const {
    if (!subscribed_ || cfg_.sentinels.empty()) return std::nullopt;
    return cfg_.sentinels.front();
}

task<void> sentinel_watch::run() {
    auto const self = shared_from_this();
    auto backoff = cfg_.backoff_min;
    bool warned = false; // one warning per outage, not one per round
    while (!stopped_) {
        bool listened = false;
        auto const order = cfg_.sentinels;
        for (auto const& sentinel : order) {
            if (stopped_) co_return;
            if (!co_await subscribe_to(sentinel)) continue;
            if (warned) log::info("redis sentinel watch subscribed again");
            warned = false;
            backoff = cfg_.backoff_min;
            co_await listen();
            listened = true;
            break;
        }
        if (stopped_) break;
        if (listened) continue; // lost: the next sentinels at once
        if (!warned) log::warn("redis sentinel watch: no sentinel accepts the subscription");
        warned = true;
        timer_.expires_after(backoff);
        co_await timer_.async_wait();
        backoff = std::min(backoff * 2, cfg_.backoff_max);
    }
    if (session_) session_->close();
}

task<bool> sentinel_watch::subscribe_to(node_address const& sentinel) {
    session_ = std::make_unique<sentinel_session>(ex_, cfg_);
    command const subscribe{"SUBSCRIBE", switch_channel};
    auto const deadline = std::chrono::steady_clock::now() + cfg_.connect_timeout;
    auto const confirmed = co_await session_->open(sentinel, subscribe, deadline);
    if (stopped_ || !confirmed || !is_subscribed(*confirmed)) {
        session_->close();
        co_return false;
    }
    auto const at = std::find(cfg_.sentinels.begin(), cfg_.sentinels.end(), sentinel);
    if (at != cfg_.sentinels.end()) std::rotate(cfg_.sentinels.begin(), at, at + 1);
    subscribed_ = true;
    last_heard_ = std::chrono::steady_clock::now();
    if (handlers_.on_subscribed) handlers_.on_subscribed();
    co_return !stopped_;
}

task<void> sentinel_watch::listen() {
    using namespace net::experimental::awaitable_operators;
    // Whichever ends first (the read on a loss, the pings on silence) cancels the other.
    co_await (read_loop() || ping_loop());
    subscribed_ = false;
    session_->close();
}

task<void> sentinel_watch::read_loop() {
    while (!stopped_) {
        auto r = co_await session_->read();
        if (!r || stopped_) break;
        last_heard_ = std::chrono::steady_clock::now();
        auto const payload = message_on(*r, switch_channel);
        if (!payload) continue; // the answer to a PING, or another channel's message
        auto const master = parse_switch_master(*payload, cfg_.master_name);
        if (!master) continue;
        ++switches_;
        log::info("redis sentinel announced a new master",
                  {{"master", cfg_.master_name}, {"address", master->to_string()}});
        if (handlers_.on_switch) handlers_.on_switch(*master);
    }
    // Ends ping_loop's write too, should it not take the cancellation.
    session_->close();
}

task<void> sentinel_watch::ping_loop() {
    // A subscribed connection carries nothing between failovers: the pings prove the sentinel
    // is still there (a subscribed client may send PING; the answer is ["pong", ""]).
    command const ping{"PING"};
    while (!stopped_) {
        timer_.expires_after(cfg_.ping_interval);
        auto [ec] = co_await timer_.async_wait();
        if (ec || stopped_) co_return;
        if (std::chrono::steady_clock::now() - last_heard_ > 3 * cfg_.ping_interval) {
            log::warn("redis sentinel watch: the sentinel fell silent; trying the next one");
            break;
        }
        if (co_await session_->write(ping.bytes())) break;
    }
    // Ends read_loop's read, should it not take the cancellation.
    session_->close();
}

} // namespace idemgate::redis
