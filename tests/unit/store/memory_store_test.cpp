// Memory-only behaviour: caps, eviction of expired records only, sharing, size().
#include "idemgate/error.hpp"
#include "idemgate/store/factory.hpp"
#include "idemgate/store/memory_store.hpp"
#include "support/run_task.hpp"

#include <gtest/gtest.h>

namespace idemgate::store {
namespace {

using namespace std::chrono_literals;
using test::run_task;

scope_key key(int n) {
    return {std::string(64, 'a') + std::to_string(n)};
}

fingerprint fp() {
    return fingerprint{1, 2, 3};
}

stored_response response_of(std::size_t body_bytes) {
    stored_response r;
    r.status = 200;
    r.headers = {{"Content-Type", "text/plain"}};
    r.body.assign(body_bytes, 'x');
    return r;
}

class memory_store_test : public ::testing::Test {
protected:
    void open(std::uint64_t max_records, std::uint64_t max_bytes) {
        config::memory_store_config cfg;
        cfg.max_records = max_records;
        cfg.max_bytes = config::byte_size{max_bytes};
        db_ = std::make_shared<memory_db>(cfg, clock_);
        store_ = std::make_unique<memory_store>(db_);
    }

    result<begin_result> begin(scope_key k, std::chrono::milliseconds lock_ttl = 60s) {
        return run_task(store_->begin(std::move(k), fp(), lock_ttl));
    }

    error_code complete(scope_key k, owner_token owner, std::size_t body_bytes,
                        std::chrono::milliseconds ttl = 24h) {
        return run_task(
            store_->complete(std::move(k), std::move(owner), response_of(body_bytes), ttl));
    }

    begin_kind kind_of(scope_key k) {
        auto const r = begin(std::move(k));
        EXPECT_TRUE(r.has_value());
        return r ? r->kind : begin_kind::acquired;
    }

    util::manual_clock clock_;
    std::shared_ptr<memory_db> db_;
    std::unique_ptr<memory_store> store_;
};

TEST_F(memory_store_test, a_full_record_count_refuses_new_claims_and_keeps_the_live_ones) {
    open(3, 1 << 20);
    auto const first = begin(key(1));
    ASSERT_TRUE(first.has_value());
    ASSERT_TRUE(begin(key(2)).has_value());
    ASSERT_TRUE(begin(key(3)).has_value());

    auto const refused = begin(key(4));
    ASSERT_FALSE(refused.has_value());
    EXPECT_EQ(refused.error(), errc::store_full);
    EXPECT_EQ(store_->size(), 3U);
    EXPECT_EQ(kind_of(key(1)), begin_kind::in_progress);

    // Completing does not add a record, so it still fits.
    EXPECT_EQ(complete(key(1), first->owner, 10), error_code{});
    EXPECT_EQ(kind_of(key(1)), begin_kind::replay);
}

TEST_F(memory_store_test, expired_locks_are_evicted_so_that_a_new_claim_fits) {
    open(2, 1 << 20);
    ASSERT_TRUE(begin(key(1), 100ms).has_value());
    ASSERT_TRUE(begin(key(2), 60s).has_value());
    ASSERT_FALSE(begin(key(3)).has_value());

    clock_.advance(150ms);
    auto const claimed = begin(key(3));
    ASSERT_TRUE(claimed.has_value());
    EXPECT_EQ(claimed->kind, begin_kind::acquired);
    EXPECT_EQ(store_->size(), 2U);
    EXPECT_EQ(kind_of(key(2)), begin_kind::in_progress); // the live lock was not dropped
}

TEST_F(memory_store_test, a_response_over_the_byte_cap_is_refused_and_the_lock_is_kept) {
    open(100, 4000);
    auto const a = begin(key(1));
    ASSERT_TRUE(a.has_value());
    EXPECT_EQ(complete(key(1), a->owner, 10'000), errc::store_full);
    EXPECT_EQ(kind_of(key(1)), begin_kind::in_progress);
    EXPECT_EQ(complete(key(1), a->owner, 100), error_code{});
    EXPECT_EQ(kind_of(key(1)), begin_kind::replay);
}

TEST_F(memory_store_test, stored_bodies_count_against_the_byte_cap_until_they_expire) {
    open(100, 5000);
    auto const a = begin(key(1));
    auto const b = begin(key(2));
    ASSERT_TRUE(a.has_value() && b.has_value());
    ASSERT_EQ(complete(key(1), a->owner, 3000, 1s), error_code{});
    EXPECT_GT(db_->bytes(), 3000U);

    EXPECT_EQ(complete(key(2), b->owner, 3000), errc::store_full);
    EXPECT_EQ(kind_of(key(1)), begin_kind::replay); // the live record was not dropped

    clock_.advance(2s); // key 1 expired; key 2's 60 s lock is still held
    EXPECT_EQ(complete(key(2), b->owner, 3000), error_code{});
    EXPECT_EQ(kind_of(key(2)), begin_kind::replay);
    EXPECT_EQ(kind_of(key(1)), begin_kind::acquired);
}

TEST_F(memory_store_test, release_and_expiry_give_back_records_and_bytes) {
    open(100, 1 << 20);
    auto const a = begin(key(1));
    ASSERT_TRUE(a.has_value());
    EXPECT_EQ(store_->size(), 1U);
    EXPECT_GT(db_->bytes(), 0U);
    EXPECT_EQ(run_task(store_->release(key(1), a->owner)), error_code{});
    EXPECT_EQ(store_->size(), 0U);
    EXPECT_EQ(db_->bytes(), 0U);

    for (int i = 0; i < 5; ++i) ASSERT_TRUE(begin(key(i), 100ms).has_value());
    EXPECT_EQ(store_->size(), 5U);
    clock_.advance(200ms);
    ASSERT_TRUE(begin(key(99)).has_value()); // any write sweeps a few expired entries
    EXPECT_EQ(store_->size(), 1U);
}

TEST_F(memory_store_test, a_completion_after_the_ttl_has_run_out_keeps_nothing) {
    open(100, 1 << 20);
    auto const a = begin(key(1), 10s);
    ASSERT_TRUE(a.has_value());
    clock_.advance(5s);
    EXPECT_EQ(complete(key(1), a->owner, 10, 2s), error_code{});
    EXPECT_EQ(store_->size(), 0U);
    EXPECT_EQ(kind_of(key(1)), begin_kind::acquired);
}

TEST(memory_factory, stores_made_by_one_factory_share_their_records) {
    util::manual_clock clk;
    auto const f = make_factory(config::store_config{}, clk);
    net::io_context ioc1;
    net::io_context ioc2;
    auto const s1 = f->make(ioc1.get_executor());
    auto const s2 = f->make(ioc2.get_executor());
    auto const a = run_task(ioc1, s1->begin(key(1), fp(), 60s));
    ASSERT_TRUE(a.has_value());
    ASSERT_EQ(a->kind, begin_kind::acquired);
    auto const b = run_task(ioc2, s2->begin(key(1), fp(), 60s));
    ASSERT_TRUE(b.has_value());
    EXPECT_EQ(b->kind, begin_kind::in_progress);
    EXPECT_EQ(run_task(ioc2, s2->release(key(1), a->owner)), error_code{});

    auto const other = make_factory(config::store_config{}, clk)->make(ioc1.get_executor());
    auto const c = run_task(ioc1, other->begin(key(1), fp(), 60s));
    ASSERT_TRUE(c.has_value());
    EXPECT_EQ(c->kind, begin_kind::acquired); // a second factory is a second map
}

TEST(memory_factory, reports_the_records_and_bytes_it_holds_for_the_gauges) {
    util::manual_clock clk;
    auto const f = make_factory(config::store_config{}, clk);
    net::io_context ioc;
    auto const s = f->make(ioc.get_executor());
    auto held = [&] { return f->held().value_or(usage{~0ULL, ~0ULL}); };
    EXPECT_EQ(held().records, 0U);
    EXPECT_EQ(held().bytes, 0U);

    auto const a = run_task(ioc, s->begin(key(1), fp(), 60s));
    auto const b = run_task(ioc, s->begin(key(2), fp(), 100ms));
    ASSERT_TRUE(a && b);
    EXPECT_EQ(held().records, 2U);
    auto const claims = held().bytes;
    // A claim costs more than its 64-char key and 32-char owner: nodes, record, allocations.
    EXPECT_GE(claims, 2U * 400);

    ASSERT_EQ(run_task(ioc, s->complete(key(1), a->owner, response_of(10'000), 24h)), error_code{});
    EXPECT_EQ(held().records, 2U);
    EXPECT_GE(held().bytes, claims + 10'000);

    clk.advance(200ms); // key 2's claim expires; the next write sweeps it
    ASSERT_TRUE(run_task(ioc, s->begin(key(3), fp(), 60s)));
    EXPECT_EQ(held().records, 2U);
    auto const c = run_task(ioc, s->begin(key(4), fp(), 60s));
    ASSERT_TRUE(c);
    auto const before_release = held();
    EXPECT_EQ(run_task(ioc, s->release(key(4), c->owner)), error_code{});
    EXPECT_EQ(held().records, before_release.records - 1);
    EXPECT_LT(held().bytes, before_release.bytes);
}
} // namespace
} // namespace idemgate::store
