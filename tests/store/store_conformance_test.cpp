// One suite every store backend must pass (contract §2–3 as store calls). Backends are listed
// at the bottom of this file.
//
// Time: a backend either reads all time from the injected util::clock (`real_time = false`:
// the test drives a manual_clock and pass_time() is instant), or expires records on a clock the
// test cannot drive, e.g. redis-server's (`real_time = true`: it gets util::real_clock() and
// pass_time() sleeps). Expiry tests therefore use TTLs of a few hundred ms with >= 100 ms
// margins on both sides, so the same assertions hold in both modes.
#include "store/store_conformance.hpp"

#include "idemgate/error.hpp"
#include "idemgate/store/factory.hpp"
#include "idemgate/store/redis_store.hpp"

#include <gtest/gtest.h>

namespace idemgate::test {
namespace {

using namespace std::chrono_literals;
using store::begin_kind;

TEST_P(store_conformance, the_store_reports_itself_up) {
    EXPECT_EQ(store_->state(), store::store_state::up);
}

TEST_P(store_conformance, begin_on_an_empty_scope_acquires_it_with_a_fresh_owner_token) {
    auto const a = begin(key("a"), fp(1));
    auto const b = begin(key("b"), fp(1));
    ASSERT_EQ(a.kind, begin_kind::acquired);
    ASSERT_EQ(b.kind, begin_kind::acquired);
    EXPECT_EQ(a.owner.size(), 32U);
    EXPECT_EQ(a.owner.find_first_not_of("0123456789abcdef"), std::string::npos) << a.owner;
    EXPECT_NE(a.owner, b.owner);
    EXPECT_FALSE(a.existing.has_value());
}

TEST_P(store_conformance, a_second_begin_with_the_same_fingerprint_sees_the_request_in_progress) {
    ASSERT_EQ(begin(key("a"), fp(1)).kind, begin_kind::acquired);
    auto const second = begin(key("a"), fp(1));
    EXPECT_EQ(second.kind, begin_kind::in_progress);
    EXPECT_TRUE(second.owner.empty());
}

TEST_P(store_conformance, a_different_fingerprint_while_in_progress_is_a_mismatch) {
    ASSERT_EQ(begin(key("a"), fp(1)).kind, begin_kind::acquired);
    EXPECT_EQ(begin(key("a"), fp(2)).kind, begin_kind::fingerprint_mismatch);
    EXPECT_EQ(begin(key("a"), fp(1)).kind, begin_kind::in_progress);
}

TEST_P(store_conformance, a_different_fingerprint_after_completion_is_a_mismatch) {
    auto const a = begin(key("a"), fp(1));
    ASSERT_EQ(complete(key("a"), a.owner, sample_response()), error_code{});
    auto const other = begin(key("a"), fp(2));
    EXPECT_EQ(other.kind, begin_kind::fingerprint_mismatch);
    EXPECT_TRUE(other.owner.empty());
}

TEST_P(store_conformance, complete_then_begin_replays_the_exact_stored_response) {
    auto const before = clock().now_ms();
    auto const a = begin(key("a"), fp(7));
    auto const after = clock().now_ms();
    pass_time(100ms);
    ASSERT_EQ(complete(key("a"), a.owner, sample_response()), error_code{});

    auto const replay = begin(key("a"), fp(7));
    ASSERT_EQ(replay.kind, begin_kind::replay);
    ASSERT_TRUE(replay.existing.has_value());
    EXPECT_EQ(replay.existing->state, store::record_state::completed);
    EXPECT_EQ(replay.existing->fp, fp(7));
    EXPECT_EQ(replay.existing->response, sample_response()); // status, header order, bytes
    EXPECT_GE(replay.existing->created_ms, before);          // the first request's start,
    EXPECT_LE(replay.existing->created_ms, after);           // not the completion time
    EXPECT_TRUE(replay.owner.empty());
}

TEST_P(store_conformance, a_replay_keeps_the_body_omitted_flag_and_an_empty_header_list) {
    store::stored_response omitted;
    omitted.status = 200;
    omitted.body_omitted = true;
    auto const a = begin(key("a"), fp(1));
    ASSERT_EQ(complete(key("a"), a.owner, omitted), error_code{});
    auto const replay = begin(key("a"), fp(1));
    ASSERT_EQ(replay.kind, begin_kind::replay);
    ASSERT_TRUE(replay.existing.has_value());
    EXPECT_TRUE(replay.existing->response.body_omitted);
    EXPECT_EQ(replay.existing->response, omitted);
}

TEST_P(store_conformance, calls_on_an_empty_scope_are_not_owner) {
    auto const token = std::string(32, 'a');
    EXPECT_EQ(complete(key("a"), token, sample_response()), errc::not_owner);
    EXPECT_EQ(release(key("a"), token), errc::not_owner);
    EXPECT_EQ(renew(key("a"), token, 60s), errc::not_owner);
    EXPECT_EQ(begin(key("a"), fp(1)).kind, begin_kind::acquired);
}

TEST_P(store_conformance, complete_by_a_wrong_owner_is_refused_and_leaves_the_record_as_it_was) {
    auto const a = begin(key("a"), fp(1));
    auto const intruder = begin(key("b"), fp(1)).owner; // a real token, of another scope
    EXPECT_EQ(complete(key("a"), intruder, other_response()), errc::not_owner);
    EXPECT_EQ(begin(key("a"), fp(1)).kind, begin_kind::in_progress);

    ASSERT_EQ(complete(key("a"), a.owner, sample_response()), error_code{});
    auto const replay = begin(key("a"), fp(1));
    ASSERT_EQ(replay.kind, begin_kind::replay);
    EXPECT_EQ(replay.existing->response, sample_response());
}

TEST_P(store_conformance, release_by_a_wrong_owner_is_refused_and_the_lock_stays) {
    auto const a = begin(key("a"), fp(1));
    EXPECT_EQ(release(key("a"), a.owner + "0"), errc::not_owner);
    EXPECT_EQ(begin(key("a"), fp(1)).kind, begin_kind::in_progress);
    EXPECT_EQ(complete(key("a"), a.owner, sample_response()), error_code{});
}

TEST_P(store_conformance, renew_by_a_wrong_owner_is_refused_and_does_not_extend_the_lock) {
    auto const a = begin(key("a"), fp(1), 300ms);
    EXPECT_EQ(renew(key("a"), std::string(32, 'f'), 60s), errc::not_owner);
    pass_time(400ms);
    EXPECT_EQ(begin(key("a"), fp(1)).kind, begin_kind::acquired);
}

TEST_P(store_conformance, release_then_begin_acquires_again_with_a_new_owner) {
    auto const first = begin(key("a"), fp(1));
    ASSERT_EQ(release(key("a"), first.owner), error_code{});
    auto const second = begin(key("a"), fp(2)); // the old fingerprint is gone with it
    ASSERT_EQ(second.kind, begin_kind::acquired);
    EXPECT_NE(second.owner, first.owner);
    EXPECT_EQ(complete(key("a"), first.owner, sample_response()), errc::not_owner);
    EXPECT_EQ(release(key("a"), first.owner), errc::not_owner);
}

TEST_P(store_conformance, a_completed_record_can_be_neither_released_nor_completed_again) {
    auto const a = begin(key("a"), fp(1));
    ASSERT_EQ(complete(key("a"), a.owner, sample_response()), error_code{});
    EXPECT_EQ(release(key("a"), a.owner), errc::not_owner);
    EXPECT_EQ(complete(key("a"), a.owner, other_response()), errc::not_owner);
    EXPECT_EQ(renew(key("a"), a.owner, 60s), errc::not_owner);
    auto const replay = begin(key("a"), fp(1));
    ASSERT_EQ(replay.kind, begin_kind::replay);
    EXPECT_EQ(replay.existing->response, sample_response());
}

TEST_P(store_conformance, an_expired_lock_goes_to_a_new_owner_and_the_old_owner_is_locked_out) {
    auto const old_owner = begin(key("a"), fp(1), 300ms).owner;
    pass_time(150ms);
    EXPECT_EQ(begin(key("a"), fp(1)).kind, begin_kind::in_progress);
    pass_time(250ms);
    auto const next = begin(key("a"), fp(1), 60s);
    ASSERT_EQ(next.kind, begin_kind::acquired);
    EXPECT_NE(next.owner, old_owner);

    EXPECT_EQ(complete(key("a"), old_owner, other_response()), errc::not_owner);
    EXPECT_EQ(renew(key("a"), old_owner, 60s), errc::not_owner);
    EXPECT_EQ(release(key("a"), old_owner), errc::not_owner);
    EXPECT_EQ(begin(key("a"), fp(1)).kind, begin_kind::in_progress);
    ASSERT_EQ(complete(key("a"), next.owner, sample_response()), error_code{});
    EXPECT_EQ(begin(key("a"), fp(1)).existing->response, sample_response());
}

TEST_P(store_conformance, renew_keeps_the_lock_alive_past_the_original_lock_ttl) {
    in_time([&](int attempt) {
        auto const k = key("a" + std::to_string(attempt));
        auto const t0 = std::chrono::steady_clock::now();
        auto const a = begin(k, fp(1), 400ms);
        pass_time(250ms);
        if (late(t0, 350ms)) return false; // the renewal could meet an expired lock
        auto const t1 = std::chrono::steady_clock::now();
        auto const renewed = renew(k, a.owner, 400ms);
        pass_time(250ms); // 500 ms after the claim, 250 ms after the renewal
        auto const state = begin(k, fp(1)).kind;
        if (late(t1, 350ms)) return false;
        EXPECT_EQ(renewed, error_code{});
        EXPECT_EQ(state, begin_kind::in_progress);
        EXPECT_EQ(complete(k, a.owner, sample_response()), error_code{});
        return true;
    });
}

TEST_P(store_conformance, a_renewed_lock_still_expires_lock_ttl_after_the_renewal) {
    auto const a = begin(key("a"), fp(1), 400ms);
    pass_time(200ms);
    ASSERT_EQ(renew(key("a"), a.owner, 300ms), error_code{});
    pass_time(400ms);
    EXPECT_EQ(begin(key("a"), fp(1)).kind, begin_kind::acquired);
}

TEST_P(store_conformance, a_completed_record_outlives_the_lock_ttl) {
    auto const a = begin(key("a"), fp(1), 300ms);
    ASSERT_EQ(complete(key("a"), a.owner, sample_response(), 60s), error_code{});
    pass_time(400ms);
    EXPECT_EQ(begin(key("a"), fp(1)).kind, begin_kind::replay);
}

TEST_P(store_conformance, a_completed_record_expires_ttl_after_its_creation_not_its_completion) {
    in_time([&](int attempt) {
        auto const k = key("a" + std::to_string(attempt));
        auto const t0 = std::chrono::steady_clock::now();
        auto const a = begin(k, fp(1), 60s);
        pass_time(200ms);
        auto const completed = complete(k, a.owner, sample_response(), 400ms);
        pass_time(100ms); // 300 ms after creation
        auto const alive = begin(k, fp(1)).kind;
        if (late(t0, 380ms)) return false; // the replay could meet an expired record
        EXPECT_EQ(completed, error_code{});
        EXPECT_EQ(alive, begin_kind::replay);
        pass_time(200ms); // 500 ms after creation, 300 ms after completion
        EXPECT_EQ(begin(k, fp(1)).kind, begin_kind::acquired);
        return true;
    });
}

TEST_P(store_conformance, a_renewed_then_completed_record_expires_ttl_after_its_first_request) {
    // The redis store's plain claim keeps its created time in the lock's expiry, which a
    // renewal moves: the renewal must not move the record's creation with it.
    auto const before = clock().now_ms();
    auto const a = begin(key("a"), fp(1), 300ms);
    auto const after = clock().now_ms();
    pass_time(150ms);
    ASSERT_EQ(renew(key("a"), a.owner, 400ms), error_code{});
    pass_time(100ms); // 250 ms after creation
    ASSERT_EQ(complete(key("a"), a.owner, sample_response(), 600ms), error_code{});
    pass_time(100ms); // 350 ms after creation
    auto const replay = begin(key("a"), fp(1));
    ASSERT_EQ(replay.kind, begin_kind::replay);
    ASSERT_TRUE(replay.existing.has_value());
    EXPECT_GE(replay.existing->created_ms, before);
    EXPECT_LE(replay.existing->created_ms, after);
    pass_time(400ms); // 750 ms after creation, 500 ms after completion
    EXPECT_EQ(begin(key("a"), fp(1)).kind, begin_kind::acquired);
}

TEST_P(store_conformance, scopes_are_independent) {
    auto const a = begin(key("a"), fp(1));
    auto const b = begin(key("b"), fp(1));
    ASSERT_EQ(b.kind, begin_kind::acquired);
    ASSERT_EQ(complete(key("a"), a.owner, sample_response()), error_code{});
    EXPECT_EQ(begin(key("b"), fp(1)).kind, begin_kind::in_progress);
    EXPECT_EQ(complete(key("b"), a.owner, other_response()), errc::not_owner);
    ASSERT_EQ(release(key("b"), b.owner), error_code{});
    EXPECT_EQ(begin(key("a"), fp(1)).kind, begin_kind::replay);
    EXPECT_EQ(begin(key("b"), fp(2)).kind, begin_kind::acquired);
}

TEST_P(store_conformance, a_credential_at_its_bound_cannot_claim_a_new_scope) {
    use_credential_bound(3);
    for (auto const* name : {"a", "b", "c"})
        ASSERT_EQ(begin(key_of("alice", name), fp(1)).kind, begin_kind::acquired) << name;
    auto const refused = run_task(ioc_, store_->begin(key_of("alice", "d"), fp(1), 60s));
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error(), errc::credential_limit);
    // Another credential is not affected; a refused scope was not claimed.
    EXPECT_EQ(begin(key_of("bob", "d"), fp(1)).kind, begin_kind::acquired);
    auto const again = run_task(ioc_, store_->begin(key_of("alice", "d"), fp(1), 60s));
    EXPECT_FALSE(again);
}

TEST_P(store_conformance, completed_records_count_against_the_credential_bound) {
    use_credential_bound(2);
    for (auto const* name : {"a", "b"}) {
        auto const a = begin(key_of("alice", name), fp(1));
        ASSERT_EQ(complete(key_of("alice", name), a.owner, sample_response()), error_code{});
    }
    auto const refused = run_task(ioc_, store_->begin(key_of("alice", "c"), fp(1), 60s));
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error(), errc::credential_limit);
}

TEST_P(store_conformance, a_released_claim_frees_a_slot_of_its_credential) {
    use_credential_bound(2);
    auto const a = begin(key_of("alice", "a"), fp(1));
    ASSERT_EQ(begin(key_of("alice", "b"), fp(1)).kind, begin_kind::acquired);
    ASSERT_FALSE(run_task(ioc_, store_->begin(key_of("alice", "c"), fp(1), 60s)));
    ASSERT_EQ(release(key_of("alice", "a"), a.owner), error_code{});
    EXPECT_EQ(begin(key_of("alice", "c"), fp(1)).kind, begin_kind::acquired);
    EXPECT_FALSE(run_task(ioc_, store_->begin(key_of("alice", "a"), fp(1), 60s)));
}

TEST_P(store_conformance, existing_records_are_still_answered_at_the_credential_bound) {
    use_credential_bound(2);
    auto const a = begin(key_of("alice", "a"), fp(1));
    ASSERT_EQ(complete(key_of("alice", "a"), a.owner, sample_response()), error_code{});
    ASSERT_EQ(begin(key_of("alice", "b"), fp(1)).kind, begin_kind::acquired);
    auto const replay = begin(key_of("alice", "a"), fp(1));
    EXPECT_EQ(replay.kind, begin_kind::replay);
    ASSERT_TRUE(replay.existing.has_value());
    EXPECT_EQ(replay.existing->response, sample_response());
    EXPECT_EQ(begin(key_of("alice", "a"), fp(2)).kind, begin_kind::fingerprint_mismatch);
    EXPECT_EQ(begin(key_of("alice", "b"), fp(1)).kind, begin_kind::in_progress);
    EXPECT_EQ(begin(key_of("alice", "b"), fp(2)).kind, begin_kind::fingerprint_mismatch);
}

// The records API (issue 13): lookup and evict, not owner-checked.

TEST_P(store_conformance, lookup_of_an_empty_scope_finds_nothing_and_evict_reports_none) {
    EXPECT_FALSE(lookup(key("a")).has_value());
    EXPECT_FALSE(evict(key("a")));
}

TEST_P(store_conformance, lookup_shows_an_in_progress_claim_with_its_lock_expiry) {
    auto const before = clock().now_ms();
    auto const a = begin(key("a"), fp(5), 2s);
    auto const after = clock().now_ms();
    auto const found = lookup(key("a"));
    ASSERT_TRUE(found.has_value());
    EXPECT_EQ(found->rec.state, store::record_state::in_progress);
    EXPECT_EQ(found->rec.fp, fp(5));
    EXPECT_TRUE(found->rec.owner.empty()) << "the owner token is never shown";
    EXPECT_EQ(found->rec.response.status, 0U);
    EXPECT_GE(found->rec.created_ms, before);
    EXPECT_LE(found->rec.created_ms, after);
    EXPECT_GE(found->expires_ms, before + 1500); // lock_ttl after the claim (redis: its clock)
    EXPECT_LE(found->expires_ms, after + 2500);
    EXPECT_EQ(begin(key("a"), fp(5)).kind, begin_kind::in_progress) << "lookup changes nothing";
    (void)a;
}

TEST_P(store_conformance, lookup_shows_a_completed_record_expiring_ttl_after_its_creation) {
    auto const a = begin(key("a"), fp(6));
    ASSERT_EQ(complete(key("a"), a.owner, sample_response(), 1h), error_code{});
    auto const found = lookup(key("a"));
    ASSERT_TRUE(found.has_value());
    EXPECT_EQ(found->rec.state, store::record_state::completed);
    EXPECT_EQ(found->rec.fp, fp(6));
    EXPECT_EQ(found->rec.response, sample_response());
    EXPECT_NEAR(static_cast<double>(found->expires_ms - found->rec.created_ms), 3'600'000.0,
                1000.0);
}

TEST_P(store_conformance, lookup_keeps_the_body_omitted_flag) {
    store::stored_response omitted;
    omitted.status = 200;
    omitted.body_omitted = true;
    auto const a = begin(key("a"), fp(1));
    ASSERT_EQ(complete(key("a"), a.owner, omitted), error_code{});
    auto const found = lookup(key("a"));
    ASSERT_TRUE(found.has_value());
    EXPECT_TRUE(found->rec.response.body_omitted);
    EXPECT_TRUE(found->rec.response.body.empty());
}

TEST_P(store_conformance, an_expired_record_is_not_found) {
    ASSERT_EQ(begin(key("a"), fp(1), 200ms).kind, begin_kind::acquired);
    pass_time(400ms);
    EXPECT_FALSE(lookup(key("a")).has_value());
    EXPECT_FALSE(evict(key("a")));
}

TEST_P(store_conformance, evicting_a_completed_record_lets_the_scope_be_claimed_again) {
    auto const a = begin(key("a"), fp(1));
    ASSERT_EQ(complete(key("a"), a.owner, sample_response()), error_code{});
    EXPECT_TRUE(evict(key("a")));
    EXPECT_FALSE(lookup(key("a")).has_value());
    EXPECT_FALSE(evict(key("a")));
    EXPECT_EQ(begin(key("a"), fp(2)).kind, begin_kind::acquired) << "even another fingerprint";
}

TEST_P(store_conformance, an_evicted_claims_owner_cannot_complete_renew_or_release) {
    auto const a = begin(key("a"), fp(1));
    EXPECT_TRUE(evict(key("a")));
    EXPECT_EQ(complete(key("a"), a.owner, sample_response()), errc::not_owner);
    EXPECT_EQ(renew(key("a"), a.owner, 60s), errc::not_owner);
    EXPECT_EQ(release(key("a"), a.owner), errc::not_owner);
    EXPECT_FALSE(lookup(key("a")).has_value()) << "the refused completion stored nothing";
}

TEST_P(store_conformance, the_retry_after_an_eviction_is_not_replaced_by_the_evicted_owner) {
    auto const first = begin(key("a"), fp(1));
    EXPECT_TRUE(evict(key("a")));
    auto const retry = begin(key("a"), fp(1));
    ASSERT_EQ(retry.kind, begin_kind::acquired);
    EXPECT_EQ(complete(key("a"), first.owner, other_response()), errc::not_owner);
    ASSERT_EQ(complete(key("a"), retry.owner, sample_response()), error_code{});
    auto const found = lookup(key("a"));
    ASSERT_TRUE(found.has_value());
    EXPECT_EQ(found->rec.response, sample_response());
}

TEST_P(store_conformance, an_evicted_record_frees_a_slot_of_its_credential) {
    use_credential_bound(1);
    auto const a = begin(key_of("alice", "a"), fp(1));
    ASSERT_EQ(complete(key_of("alice", "a"), a.owner, sample_response()), error_code{});
    ASSERT_FALSE(run_task(ioc_, store_->begin(key_of("alice", "b"), fp(1), 60s)));
    EXPECT_TRUE(evict(key_of("alice", "a")));
    EXPECT_EQ(begin(key_of("alice", "b"), fp(1)).kind, begin_kind::acquired);
}

TEST_P(store_conformance, sixteen_concurrent_begins_on_four_threads_acquire_exactly_once) {
    for (int round = 0; round < 5; ++round) { // a few rounds: one race is easy to win by luck
        begin_tally t;
        race_begins(key("race" + std::to_string(round)), fp(3), 4, 4, t);
        EXPECT_EQ(t.acquired.load(), 1) << "round " << round;
        EXPECT_EQ(t.in_progress.load(), 15) << "round " << round;
        EXPECT_EQ(t.other.load(), 0) << "round " << round;
    }
}

} // namespace

// ---------------------------------------------------------------------------------------------
// BACKENDS UNDER TEST. Adding a backend is one more entry in this list.
// ---------------------------------------------------------------------------------------------
std::string shared_redis_url(); // tests/support/redis_server.hpp: one server for the suite

std::vector<store_backend> store_backends() {
    std::vector<store_backend> all;
    all.push_back({"memory",
                   [](util::clock const& clk, config::store_config cfg) {
                       cfg.backend = config::store_backend::memory;
                       return store::make_factory(cfg, clk);
                   },
                   /*real_time=*/false});
    all.push_back({"redis",
                   [](util::clock const& clk, config::store_config cfg) {
                       cfg.backend = config::store_backend::redis;
                       cfg.redis.url = shared_redis_url();         // tests/support/redis_server.hpp
                       store::redis_store::force_lua_claim(false); // process-wide
                       return store::make_factory(cfg, clk);
                   },
                   /*real_time=*/true});
    // The same with every claim through the Lua script, as on Redis < 7 (the plain SET NX GET
    // otherwise serves every claim without a credential bound).
    all.push_back({"redis_lua_claim",
                   [](util::clock const& clk, config::store_config cfg) {
                       cfg.backend = config::store_backend::redis;
                       cfg.redis.url = shared_redis_url();
                       store::redis_store::force_lua_claim(true);
                       return store::make_factory(cfg, clk);
                   },
                   /*real_time=*/true});
    return all;
}

INSTANTIATE_TEST_SUITE_P(backends, store_conformance, ::testing::ValuesIn(store_backends()),
                         [](auto const& p) { return p.param.name; });

} // namespace idemgate::test
