// Coarse per-thread deadlines: a pending read is cancelled once its deadline passes (within
// a tick), not before; a re-armed or cleared deadline does not fire; the ticker stops when
// nothing is watched, so an idle io_context has no work left. Rows that check that something
// did not happen run the set on a manual clock, or show with a witness that ticks ran.
#include "idemgate/util/deadlines.hpp"
#include "support/socket_pair.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <optional>

namespace idemgate {
namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

using test::socket_pair;

struct read_outcome {
    error_code ec;
    clock_type::duration took{};
};

/// Reads from `s` until something ends the read; records how and when.
task<void> read_once(tcp::socket& s, std::optional<read_outcome>& out) {
    char c;
    auto const t0 = clock_type::now();
    auto [ec, n] = co_await s.async_read_some(net::buffer(&c, 1), use_nothrow);
    out = read_outcome{ec, clock_type::now() - t0};
}

void start_read(net::io_context& ioc, tcp::socket& s, std::optional<read_outcome>& out) {
    net::co_spawn(ioc, read_once(s, out), net::detached);
}

/// Runs `ioc` until the read ended or `limit` (a watched socket keeps the ticker, hence
/// work, alive, so run() would not return).
void wait_for(net::io_context& ioc, std::optional<read_outcome> const& out,
              clock_type::duration limit) {
    auto const end = clock_type::now() + limit;
    ioc.restart();
    while (!out && clock_type::now() < end) ioc.run_one_for(10ms);
}

/// One io_context and one connected pair per test.
class deadlines : public ::testing::Test {
protected:
    net::io_context ioc;
    socket_pair p{ioc};
    std::optional<read_outcome> out;

    /// Shows that `set` ticked at its clock's current time: a witness socket whose deadline
    /// is now gets its read cut. Replaces a fixed wait before checking that something else
    /// did not fire.
    void expect_a_tick(util::deadline_set& set) {
        socket_pair wp(ioc);
        auto witness = set.add(wp.b);
        witness.expires_after(0ms);
        std::optional<read_outcome> seen;
        start_read(ioc, wp.b, seen);
        wait_for(ioc, seen, 5s);
        ASSERT_TRUE(seen) << "the deadline set did not tick";
        EXPECT_EQ(seen->ec, net::error::operation_aborted);
    }

    /// Arms `w` for `after`, reads from p.b and expects the deadline to end the read.
    void expect_read_cut_after(util::deadline_set::watch& w, std::chrono::milliseconds after) {
        w.expires_after(after);
        start_read(ioc, p.b, out);
        wait_for(ioc, out, after + 2s);
        ASSERT_TRUE(out);
        EXPECT_EQ(out->ec, net::error::operation_aborted);
        EXPECT_TRUE(w.fired());
    }
};

TEST_F(deadlines, a_passed_deadline_cancels_the_pending_read_within_a_tick) {
    util::deadline_set set(ioc.get_executor(), 20ms);
    auto w = set.add(p.b);
    expect_read_cut_after(w, 150ms);
    ASSERT_TRUE(out);
    EXPECT_GE(out->took, 150ms);
    EXPECT_LT(out->took, 150ms + 20ms + 200ms); // a tick, plus scheduling slack
    EXPECT_TRUE(p.b.is_open());                 // cancelled, not closed: a 408 can still be written
}

// The set's clock moves by hand, so "re-armed before it passed" holds however slowly this
// machine runs; a witness whose deadline does pass shows that ticks ran in between.
TEST_F(deadlines, a_rearmed_or_cleared_deadline_does_not_fire) {
    util::manual_monotonic_clock clk;
    util::deadline_set set(ioc.get_executor(), 10ms, &clk);
    auto w = set.add(p.b);
    w.expires_after(50ms);
    start_read(ioc, p.b, out);
    clk.advance(30ms);
    expect_a_tick(set);
    EXPECT_FALSE(out);    // not before its time
    w.expires_after(10s); // re-armed before it passed
    clk.advance(100ms);
    expect_a_tick(set);
    EXPECT_FALSE(out);
    w.expires_never();
    clk.advance(1h);
    expect_a_tick(set);
    EXPECT_FALSE(out);
    EXPECT_FALSE(w.fired());
    // The read still completes normally once data comes.
    net::write(p.a, net::buffer("x", 1));
    wait_for(ioc, out, 1s);
    ASSERT_TRUE(out);
    EXPECT_FALSE(out->ec);
}

TEST_F(deadlines, a_deadline_fires_at_the_first_tick_after_the_sets_clock_passes_it) {
    util::manual_monotonic_clock clk;
    util::deadline_set set(ioc.get_executor(), 5ms, &clk);
    auto w = set.add(p.b);
    w.expires_after(150ms);
    start_read(ioc, p.b, out);
    clk.advance(149ms);
    expect_a_tick(set);
    EXPECT_FALSE(out);
    EXPECT_FALSE(w.fired());
    clk.advance(1ms);
    wait_for(ioc, out, 5s);
    ASSERT_TRUE(out);
    EXPECT_EQ(out->ec, net::error::operation_aborted);
    EXPECT_TRUE(w.fired());
}

TEST_F(deadlines, the_ticker_stops_when_nothing_is_watched) {
    util::deadline_set set(ioc.get_executor(), 5ms);
    {
        auto w = set.add(p.b);
        EXPECT_EQ(set.size(), 1u);
        ioc.run_for(20ms);
    }
    EXPECT_EQ(set.size(), 0u);
    // Only the ticker's timer was work; it ends at its next tick.
    auto const t0 = clock_type::now();
    ioc.restart();
    ioc.run();
    EXPECT_LT(clock_type::now() - t0, 1s);
    // And starts again for the next watch.
    auto w = set.add(p.b);
    expect_read_cut_after(w, 10ms);
}

TEST_F(deadlines, one_deadline_firing_leaves_the_other_sockets_alone) {
    socket_pair& p1 = p;
    socket_pair p2(ioc);
    util::deadline_set set(ioc.get_executor(), 10ms);
    auto w1 = set.add(p1.b);
    auto w2 = set.add(p2.b);
    std::optional<read_outcome> out1, out2;
    w1.expires_after(20ms);
    w2.expires_after(10s);
    start_read(ioc, p1.b, out1);
    start_read(ioc, p2.b, out2);
    wait_for(ioc, out1, 5s);
    ASSERT_TRUE(out1);
    expect_a_tick(set); // a tick after w1 fired
    EXPECT_EQ(out1->ec, net::error::operation_aborted);
    EXPECT_FALSE(out2);
    EXPECT_FALSE(w2.fired());
}

TEST_F(deadlines, the_tick_is_an_eighth_of_the_shortest_timeout_within_5_to_100_ms) {
    EXPECT_EQ(util::deadline_set::tick_for(400ms), 50ms);
    EXPECT_EQ(util::deadline_set::tick_for(10ms), 5ms);
    EXPECT_EQ(util::deadline_set::tick_for(60s), 100ms);
}

} // namespace
} // namespace idemgate
