// The faulty_store decorator fails exactly the calls its plan names, applied or not.
#include "support/faulty_store.hpp"

#include "idemgate/error.hpp"
#include "idemgate/store/factory.hpp"
#include "support/run_task.hpp"

#include <gtest/gtest.h>

namespace idemgate::test {
namespace {

using namespace std::chrono_literals;
using store::begin_kind;

class faulty_store_test : public ::testing::Test {
protected:
    void arm(fault_plan plan) {
        faulty_ = std::make_unique<faulty_store>(factory_->make(ioc_.get_executor()), plan);
    }

    result<store::begin_result> begin(std::string const& k) {
        return run_task(ioc_, faulty_->begin({k}, store::fingerprint{9}, 60s));
    }

    /// The kind of a begin that must succeed.
    begin_kind kind_of(std::string const& k) {
        auto const r = begin(k);
        if (!r) throw std::runtime_error("begin failed: " + r.error().message());
        return r->kind;
    }

    error_code complete(std::string const& k, store::owner_token owner) {
        store::stored_response res;
        res.status = 201;
        res.body = "done";
        return run_task(ioc_, faulty_->complete({k}, std::move(owner), res, 24h));
    }

    util::manual_clock clock_;
    net::io_context ioc_;
    std::unique_ptr<store::factory> factory_ = store::make_factory({}, clock_);
    std::unique_ptr<faulty_store> faulty_;
};

TEST_F(faulty_store_test, the_nth_call_of_any_kind_fails_without_reaching_the_store) {
    arm({.op = store_op::any, .fail_at = 2});
    auto const a = begin("a");
    ASSERT_TRUE(a.has_value());
    auto const failed = begin("b");
    ASSERT_FALSE(failed.has_value());
    EXPECT_EQ(failed.error(), errc::store_unavailable);
    EXPECT_EQ(kind_of("b"), begin_kind::acquired); // the failed call claimed nothing
    EXPECT_EQ(complete("a", a->owner), error_code{});
    EXPECT_EQ(faulty_->failures(), 1U);
    EXPECT_EQ(faulty_->calls(store_op::any), 4U);
    EXPECT_EQ(faulty_->calls(store_op::begin), 3U);
    EXPECT_EQ(faulty_->calls(store_op::complete), 1U);
}

TEST_F(faulty_store_test, only_the_chosen_method_is_counted_and_failed) {
    arm({.op = store_op::complete, .fail_at = 1});
    auto const a = begin("a");
    ASSERT_TRUE(a.has_value());
    EXPECT_EQ(complete("a", a->owner), errc::store_unavailable);
    EXPECT_EQ(kind_of("a"), begin_kind::in_progress); // not applied: still in progress
    EXPECT_EQ(complete("a", a->owner), error_code{});
    EXPECT_EQ(kind_of("a"), begin_kind::replay);
}

TEST_F(faulty_store_test, apply_then_fail_stores_the_response_but_reports_a_failure) {
    arm({.op = store_op::complete, .fail_at = 1, .apply_then_fail = true});
    auto const a = begin("a");
    ASSERT_TRUE(a.has_value());
    EXPECT_EQ(complete("a", a->owner), errc::store_unavailable);
    EXPECT_EQ(kind_of("a"), begin_kind::replay);
}

TEST_F(faulty_store_test, apply_then_fail_on_begin_leaves_an_unowned_claim) {
    arm({.op = store_op::begin, .fail_at = 1, .apply_then_fail = true});
    EXPECT_FALSE(begin("a").has_value());
    EXPECT_EQ(kind_of("a"), begin_kind::in_progress);
}

TEST_F(faulty_store_test, a_sticky_plan_keeps_failing_after_the_nth_call) {
    arm({.op = store_op::begin, .fail_at = 2, .sticky = true});
    EXPECT_TRUE(begin("a").has_value());
    for (int i = 0; i < 3; ++i) EXPECT_FALSE(begin("b").has_value());
    EXPECT_EQ(faulty_->failures(), 3U);
}

TEST_F(faulty_store_test, arm_restarts_counting_and_fail_at_zero_never_fails) {
    arm({});
    for (int i = 0; i < 5; ++i) EXPECT_TRUE(begin("a" + std::to_string(i)).has_value());
    faulty_->arm({.op = store_op::any, .fail_at = 1});
    EXPECT_FALSE(begin("x").has_value());
    EXPECT_TRUE(begin("y").has_value());
    EXPECT_EQ(faulty_->failures(), 1U);
    EXPECT_EQ(faulty_->state(), store::store_state::up);
}

TEST_F(faulty_store_test, release_and_renew_fail_as_planned) {
    arm({.op = store_op::renew, .fail_at = 1});
    auto const a = begin("a");
    ASSERT_TRUE(a.has_value());
    EXPECT_EQ(run_task(ioc_, faulty_->renew({"a"}, a->owner, 60s)), errc::store_unavailable);
    EXPECT_EQ(run_task(ioc_, faulty_->renew({"a"}, a->owner, 60s)), error_code{});
    faulty_->arm({.op = store_op::release, .fail_at = 1});
    EXPECT_EQ(run_task(ioc_, faulty_->release({"a"}, a->owner)), errc::store_unavailable);
    EXPECT_EQ(kind_of("a"), begin_kind::in_progress);
    EXPECT_EQ(run_task(ioc_, faulty_->release({"a"}, a->owner)), error_code{});
    EXPECT_EQ(kind_of("a"), begin_kind::acquired);
}

} // namespace
} // namespace idemgate::test
