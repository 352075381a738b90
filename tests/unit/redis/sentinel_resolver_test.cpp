// sentinel_resolver against the shared Sentinel set, with a silent and a closed sentinel in
// front of it.
#include "idemgate/error.hpp"
#include "idemgate/redis/sentinel_resolver.hpp"

#include "support/redis_sentinel.hpp"
#include "support/run_task.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <iostream>

namespace idemgate::redis {
namespace {

using namespace std::chrono_literals;
using resolver_clock = std::chrono::steady_clock;

/// A port with nothing listening: connecting is refused at once.
node_address closed_port() {
    net::io_context ioc;
    tcp::acceptor a(ioc, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
    auto const port = a.local_endpoint().port();
    a.close();
    return {"127.0.0.1", port};
}

class sentinel_resolver_test : public ::testing::Test {
protected:
    sentinel_resolver_test() : set_(test::shared_redis_sentinel()) { set_.restore_killed(); }

    sentinel_config config_with(std::vector<node_address> in_front) const {
        sentinel_config cfg;
        cfg.sentinels = std::move(in_front);
        for (auto const& s : set_.sentinel_addresses()) cfg.sentinels.push_back(s);
        cfg.master_name = set_.master_name();
        cfg.connect_timeout = 300ms;
        return cfg;
    }

    result<node_address> resolve(sentinel_resolver& r) {
        return test::run_task(ioc_, r.resolve(), 10s);
    }

    test::redis_sentinel& set_;
    net::io_context ioc_;
};

TEST_F(sentinel_resolver_test, names_the_master_the_sentinels_monitor) {
    sentinel_resolver r(config_with({}));
    auto const master = resolve(r);
    ASSERT_TRUE(master.has_value()) << master.error().message();
    EXPECT_EQ(*master, set_.primary_address());
    EXPECT_EQ(r.sentinels(), set_.sentinel_addresses()); // the first answered: order kept
}

TEST_F(sentinel_resolver_test,
       a_sentinel_that_accepts_and_never_answers_costs_one_connect_timeout) {
    // Listening but never accepting: the kernel completes the handshake, nothing reads.
    tcp::acceptor silent(ioc_, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
    node_address const silent_at{"127.0.0.1", silent.local_endpoint().port()};
    sentinel_resolver r(config_with({silent_at}));
    auto const started = resolver_clock::now();
    auto const master = resolve(r);
    auto const took = resolver_clock::now() - started;
    ASSERT_TRUE(master.has_value()) << master.error().message();
    EXPECT_EQ(*master, set_.primary_address());
    std::cout << "[ sentinel ] resolved past a silent sentinel in "
              << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms\n";
    EXPECT_GE(took, 290ms);
    EXPECT_LT(took, 300ms + 400ms);
    // The one that answered is asked first next time; the silent one keeps its place after.
    ASSERT_EQ(r.sentinels().size(), 4U);
    EXPECT_EQ(r.sentinels()[0], set_.sentinel_addresses()[0]);
    EXPECT_EQ(r.sentinels()[1], silent_at);
    auto const again_started = resolver_clock::now();
    EXPECT_EQ(resolve(r).value(), set_.primary_address());
    EXPECT_LT(resolver_clock::now() - again_started, 250ms);
}

TEST_F(sentinel_resolver_test, a_closed_port_is_skipped_at_once) {
    auto const closed = closed_port();
    sentinel_resolver r(config_with({closed, closed_port()}));
    auto const started = resolver_clock::now();
    auto const master = resolve(r);
    ASSERT_TRUE(master.has_value()) << master.error().message();
    EXPECT_EQ(*master, set_.primary_address());
    EXPECT_LT(resolver_clock::now() - started, 250ms);
    EXPECT_EQ(r.sentinels()[0], set_.sentinel_addresses()[0]);
}

TEST_F(sentinel_resolver_test, an_unknown_master_name_or_no_sentinel_at_all_is_unavailable) {
    auto cfg = config_with({});
    cfg.master_name = "sentinel_resolver_test-unknown";
    sentinel_resolver unknown(cfg);
    auto const none = resolve(unknown);
    ASSERT_FALSE(none.has_value());
    EXPECT_EQ(none.error(), make_error_code(errc::store_unavailable));

    sentinel_config nobody;
    nobody.sentinels = {closed_port()};
    nobody.master_name = set_.master_name();
    sentinel_resolver lonely(nobody);
    EXPECT_EQ(resolve(lonely).error(), make_error_code(errc::store_unavailable));
}

TEST_F(sentinel_resolver_test, a_sentinel_refusing_auth_is_skipped) {
    auto cfg = config_with({});
    cfg.password = "not-configured-there"; // the test sentinels have no password: AUTH fails
    sentinel_resolver r(cfg);
    EXPECT_EQ(resolve(r).error(), make_error_code(errc::store_unavailable));
}

} // namespace
} // namespace idemgate::redis
