// The owner token fences a claim: it must never repeat across threads, processes, replicas.
#include "idemgate/store/owner_token.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <thread>

namespace idemgate::store {
namespace {

TEST(owner_token, is_32_hex_chars_and_does_not_repeat) {
    std::set<owner_token> seen;
    for (int i = 0; i < 1000; ++i) {
        auto const t = make_owner_token();
        ASSERT_TRUE(t.has_value());
        ASSERT_EQ(t->size(), 32U);
        ASSERT_EQ(t->find_first_not_of("0123456789abcdef"), std::string::npos);
        seen.insert(*t);
    }
    EXPECT_EQ(seen.size(), 1000U);
    // Another thread (or process, or replica) draws its own random half.
    owner_token elsewhere;
    std::thread([&] { elsewhere = make_owner_token().value(); }).join();
    EXPECT_FALSE(seen.contains(elsewhere));
    EXPECT_NE(elsewhere.substr(0, 16), seen.begin()->substr(0, 16));
}

} // namespace
} // namespace idemgate::store
