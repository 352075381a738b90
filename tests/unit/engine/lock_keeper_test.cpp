// The lock keeper (contract §2: the owner renews its in-progress record while the upstream
// works), with a store that records the renewals it is asked for.
#include "idemgate/engine/lock_keeper.hpp"
#include "idemgate/error.hpp"

#include <gtest/gtest.h>

#include <map>
#include <optional>

namespace idemgate::engine {
namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

/// Only renew() is used by the keeper; it answers not_owner for the keys in `stolen`.
class renew_recorder final : public idemgate::store::store {
public:
    std::map<std::string, std::vector<clock_type::time_point>> renewals;
    std::map<std::string, idemgate::store::owner_token> owners;
    std::map<std::string, std::chrono::milliseconds> ttls; // of the last renewal
    std::string stolen;
    std::string failing; // answers store_unavailable, as when Redis is down

    task<result<idemgate::store::begin_result>> begin(idemgate::store::scope_key,
                                                      idemgate::store::fingerprint,
                                                      std::chrono::milliseconds) override {
        co_return make_error_code(errc::store_unavailable);
    }
    task<error_code> complete(idemgate::store::scope_key, idemgate::store::owner_token,
                              idemgate::store::stored_response,
                              std::chrono::milliseconds) override {
        co_return make_error_code(errc::store_unavailable);
    }
    task<error_code> release(idemgate::store::scope_key, idemgate::store::owner_token) override {
        co_return make_error_code(errc::store_unavailable);
    }
    task<error_code> renew(idemgate::store::scope_key key, idemgate::store::owner_token owner,
                           std::chrono::milliseconds lock_ttl) override {
        renewals[key.hash].push_back(clock_type::now());
        ttls[key.hash] = lock_ttl;
        owners[key.hash] = owner;
        if (key.hash == failing) co_return make_error_code(errc::store_unavailable);
        co_return key.hash == stolen ? make_error_code(errc::not_owner) : error_code{};
    }
    task<result<std::optional<idemgate::store::record_found>>>
    lookup(idemgate::store::scope_key) override {
        co_return make_error_code(errc::store_unavailable);
    }
    task<result<idemgate::store::eviction>> evict(idemgate::store::scope_key) override {
        co_return make_error_code(errc::store_unavailable);
    }
    idemgate::store::store_state state() const noexcept override {
        return idemgate::store::store_state::up;
    }
};

void run_for(net::io_context& ioc, std::chrono::milliseconds d) {
    ioc.restart();
    ioc.run_for(d);
}

/// Runs `ioc` until `done()` or `limit`; returns done().
template <class Done>
bool keeper_run_until(net::io_context& ioc, Done done, std::chrono::milliseconds limit = 5s) {
    auto const end = clock_type::now() + limit;
    ioc.restart();
    while (!done() && clock_type::now() < end) ioc.run_one_for(5ms);
    return done();
}

/// The longest time between `from`, the renewals and `to`.
clock_type::duration longest_gap(clock_type::time_point from,
                                 std::vector<clock_type::time_point> const& times,
                                 clock_type::time_point to) {
    clock_type::duration gap{0};
    for (auto const t : times) {
        gap = std::max(gap, t - from);
        from = t;
    }
    return std::max(gap, to - from);
}

TEST(lock_keeper, renews_every_held_lock_well_within_lock_ttl) {
    net::io_context ioc;
    renew_recorder st;
    lock_keeper keeper(st, 300ms);
    EXPECT_EQ(keeper.period(), 100ms);
    auto const start = clock_type::now();
    std::optional<lock_keeper::hold> a{keeper.keep(ioc.get_executor(), {"a"}, "owner-a")};
    std::optional<lock_keeper::hold> b{keeper.keep(ioc.get_executor(), {"b"}, "owner-b")};
    EXPECT_EQ(keeper.held(), 2U);
    run_for(ioc, 1000ms);
    auto const end = clock_type::now();
    for (std::string const k : {"a", "b"}) {
        SCOPED_TRACE(k);
        EXPECT_GE(st.renewals[k].size(), 4U); // every 100–150 ms over 1 s
        EXPECT_LT(longest_gap(start, st.renewals[k], end), 300ms) << "the lock would expire";
        EXPECT_EQ(st.owners[k], "owner-" + k);
    }
}

TEST(lock_keeper, renews_each_lock_with_its_own_lock_ttl_and_period) {
    net::io_context ioc;
    renew_recorder st;
    lock_keeper keeper(st, 90ms); // the shortest: ticks every 15 ms
    auto const start = clock_type::now();
    auto const short_lock = keeper.keep(ioc.get_executor(), {"short"}, "owner-a");
    auto const long_lock = keeper.keep(ioc.get_executor(), {"long"}, "owner-b", 600ms);
    auto const too_short = keeper.keep(ioc.get_executor(), {"shorter"}, "owner-c", 30ms);
    run_for(ioc, 700ms);
    auto const end = clock_type::now();
    EXPECT_EQ(st.ttls["short"], 90ms);
    EXPECT_EQ(st.ttls["long"], 600ms);
    EXPECT_EQ(st.ttls["shorter"], 90ms) << "raised to the keeper's: its ticks could not keep it";
    // Every 200 ms (a third of 600 ms), not every 30 ms as the short lock.
    EXPECT_GE(st.renewals["long"].size(), 2U);
    EXPECT_LE(st.renewals["long"].size(), 4U);
    EXPECT_LT(longest_gap(start, st.renewals["long"], end), 600ms);
    EXPECT_GE(st.renewals["short"].size(), 8U);
    EXPECT_LT(longest_gap(start, st.renewals["short"], end), 90ms);
}

TEST(lock_keeper, stops_renewing_a_released_lock) {
    net::io_context ioc;
    renew_recorder st;
    lock_keeper keeper(st, 60ms);
    auto held = keeper.keep(ioc.get_executor(), {"a"}, "owner-a");
    std::optional<lock_keeper::hold> other{keeper.keep(ioc.get_executor(), {"b"}, "owner-b")};
    run_for(ioc, 200ms);
    ASSERT_GE(st.renewals["a"].size(), 1U);
    held.release();
    other.reset(); // the destructor lets go too
    EXPECT_EQ(keeper.held(), 0U);
    auto const a = st.renewals["a"].size();
    auto const b = st.renewals["b"].size();
    run_for(ioc, 200ms);
    EXPECT_EQ(st.renewals["a"].size(), a);
    EXPECT_EQ(st.renewals["b"].size(), b);
}

TEST(lock_keeper, gives_up_on_a_lock_another_owner_took) {
    net::io_context ioc;
    renew_recorder st;
    st.stolen = "a";
    lock_keeper keeper(st, 60ms);
    auto lost = keeper.keep(ioc.get_executor(), {"a"}, "owner-a");
    auto kept = keeper.keep(ioc.get_executor(), {"b"}, "owner-b");
    run_for(ioc, 300ms);
    EXPECT_EQ(st.renewals["a"].size(), 1U); // asked once, told it is not ours: never again
    EXPECT_GE(st.renewals["b"].size(), 3U);
}

TEST(lock_keeper, retries_a_failed_renewal_at_the_next_tick_not_a_period_later) {
    net::io_context ioc;
    renew_recorder st;
    st.failing = "down";
    lock_keeper keeper(st, 120ms); // period 40 ms, ticks every 20 ms
    auto failed = keeper.keep(ioc.get_executor(), {"down"}, "owner-a");
    auto renewed = keeper.keep(ioc.get_executor(), {"up"}, "owner-b");
    run_for(ioc, 600ms);
    // ~28 tries against ~14 renewals; a store that comes back soon gets the lock renewed.
    EXPECT_GE(st.renewals["up"].size(), 5U);
    EXPECT_GT(st.renewals["down"].size(), st.renewals["up"].size() + 3);
}

// On an injected clock, when a renewal is due no longer depends on how fast this machine
// runs: each lock is renewed at the first tick after its own period has passed, not before.
TEST(lock_keeper, renews_a_lock_once_the_keepers_clock_has_passed_its_period) {
    net::io_context ioc;
    renew_recorder st;
    util::manual_monotonic_clock clk;
    lock_keeper keeper(st, 300ms, &clk); // period 100 ms
    auto a = keeper.keep(ioc.get_executor(), {"a"}, "owner-a");
    clk.advance(50ms);
    auto b = keeper.keep(ioc.get_executor(), {"b"}, "owner-b");
    clk.advance(50ms); // a's period has passed, b's has not
    ASSERT_TRUE(keeper_run_until(ioc, [&] { return st.renewals["a"].size() == 1; }));
    EXPECT_EQ(st.renewals["b"].size(), 0U); // the tick that renewed a did not renew b
    clk.advance(50ms);
    ASSERT_TRUE(keeper_run_until(ioc, [&] { return st.renewals["b"].size() == 1; }));
    EXPECT_EQ(st.renewals["a"].size(), 1U); // due again 100 ms after its renewal
    clk.advance(50ms);
    ASSERT_TRUE(keeper_run_until(ioc, [&] { return st.renewals["a"].size() == 2; }));
    EXPECT_EQ(st.renewals["b"].size(), 1U);
}

} // namespace
} // namespace idemgate::engine
