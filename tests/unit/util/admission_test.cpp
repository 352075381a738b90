#include "idemgate/util/admission.hpp"

#include <gtest/gtest.h>

namespace idemgate::util {
namespace {

TEST(inflight_slot, refuses_over_max_and_frees_its_place_when_destroyed) {
    admission a;
    {
        inflight_slot first(a);
        ASSERT_TRUE(first.enter(1));
        inflight_slot second(a);
        EXPECT_FALSE(second.enter(1));
        EXPECT_EQ(a.inflight.load(), 1u);
    }
    EXPECT_EQ(a.inflight.load(), 0u);
    inflight_slot again(a);
    EXPECT_TRUE(again.enter(1));
    again.leave();
    again.leave(); // idempotent
    EXPECT_EQ(a.inflight.load(), 0u);
}

TEST(held_bytes, try_hold_refuses_what_would_go_over_and_holds_nothing_then) {
    admission a;
    held_bytes one(a);
    ASSERT_TRUE(one.try_hold(40, 64));
    held_bytes two(a);
    EXPECT_FALSE(two.try_hold(40, 64));
    EXPECT_EQ(two.held(), 0u);
    EXPECT_TRUE(two.try_hold(24, 64)); // exactly the rest
    EXPECT_EQ(a.buffered_bytes.load(), 64u);
    one.release();
    EXPECT_EQ(a.buffered_bytes.load(), 24u);
}

TEST(held_bytes, hold_counts_bytes_already_in_memory_even_over_the_budget) {
    admission a;
    {
        held_bytes response(a);
        response.hold(100);
        held_bytes request(a);
        EXPECT_FALSE(request.try_hold(1, 64)); // new requests refused meanwhile
        EXPECT_EQ(a.buffered_bytes.load(), 100u);
    }
    EXPECT_EQ(a.buffered_bytes.load(), 0u);
}

} // namespace
} // namespace idemgate::util
