// The gateway itself fails (issue 11), Redis backend: SIGKILL with requests in flight, then a
// restart; SIGSTOP for longer than lock_ttl while the upstream works (a paused owner). The
// claims outlive a dead gateway for lock_ttl (contract §2), and the owner token fences a
// paused one (contract §3): its late `complete` cannot overwrite the record of the replica
// that took the key after the claim expired. replicas_test.cpp covers one killed replica
// with one request; here N requests die together and the restarted gateway is checked.
#include "fault_fixture.hpp"

#include <csignal>

namespace idemgate::test {
namespace {

class when_the_gateway_fails : public redis_gateways_test {};

TEST_F(when_the_gateway_fails,
       after_sigkill_with_eight_requests_in_flight_no_retry_within_lock_ttl_runs_any_again) {
    constexpr std::size_t in_flight = 8;
    upstream_gate gate;
    upstream_.set_handler(gate.handler());
    gateway_config const cfg = gateway_config{}.set("idempotency.lock_ttl", "3s");
    start_replica(cfg);
    std::vector<http_response> lost(in_flight);
    std::vector<std::thread> clients;
    for (std::size_t k = 0; k < in_flight; ++k) {
        clients.emplace_back(
            [&, k] { lost[k] = send_to(0, protected_post("killed-" + std::to_string(k))); });
    }
    EXPECT_TRUE(upstream_.wait_for_calls(in_flight, 5s));
    kill_replica(0); // no drain, no release, no renewal: the claims stay in Redis
    for (auto& t : clients) t.join();
    auto const killed_at = std::chrono::steady_clock::now();
    for (auto const& r : lost) EXPECT_EQ(r.status, 0U) << "a killed gateway cannot answer";

    start_replica(cfg); // the restarted gateway (replica 1), same Redis and key prefix
    std::size_t refused = 0;
    for (std::size_t k = 0; k < in_flight; ++k) {
        auto const retry = send_to(1, protected_post("killed-" + std::to_string(k)));
        if (retry.status == 409) expect_error(retry, 409, "idempotency_request_in_progress");
        refused += retry.status == 409 ? 1U : 0U;
    }
    EXPECT_LT(ms_since(killed_at), 3s); // the retries were inside lock_ttl
    EXPECT_EQ(refused, in_flight);
    for (std::size_t k = 0; k < in_flight; ++k)
        EXPECT_EQ(executions_of(upstream_, "killed-" + std::to_string(k)), 1U) << k;
    EXPECT_EQ(outcome_count(1, "in_progress"), static_cast<double>(in_flight));
    EXPECT_EQ(outcome_count(1, "executed"), 0.0);
    gate.open();
}

TEST_F(when_the_gateway_fails,
       a_paused_owner_cannot_overwrite_the_record_of_the_replica_that_took_its_expired_key) {
    // Only the paused owner's call (the first) is held; the second replica's runs at once.
    upstream_gate gate;
    auto const held = gate.handler();
    upstream_.set_handler([held](recorded_request const& req, std::size_t n) {
        return n == 1 ? held(req, n) : upstream_stub::default_reply(n);
    });
    gateway_config const cfg = gateway_config{}.set("idempotency.lock_ttl", "600ms");
    start_replica(cfg);
    start_replica(cfg);
    http_response owner_answer;
    std::thread owner([&] { owner_answer = send_to(0, protected_post("fenced")); });
    EXPECT_TRUE(upstream_.wait_for_calls(1, 5s));
    replica(0).signal(SIGSTOP); // paused mid-request: no renewal, no complete
    // The claim expires within lock_ttl of its last renewal; then replica 1 runs the key.
    auto const taken = send_until([&] { return send_to(1, protected_post("fenced")); },
                                  [](http_response const& r) { return r.status != 409; }, 5s);
    gate.open(); // the paused owner's upstream answers now, into a stopped process
    EXPECT_TRUE(upstream_.wait_for_calls(2, 1s));
    replica(0).signal(SIGCONT);
    owner.join();
    EXPECT_EQ(taken.status, 201U) << taken.error << taken.body;
    EXPECT_FALSE(taken.has(replay_header));
    EXPECT_EQ(taken.header("X-Upstream-Call"), "2");
    // The owner's client still gets its own upstream answer...
    EXPECT_EQ(owner_answer.status, 201U) << owner_answer.error << owner_answer.body;
    EXPECT_EQ(owner_answer.header("X-Upstream-Call"), "1");
    // ...but its complete was fenced off by the owner token: the stored record is call 2's,
    // through either replica.
    EXPECT_TRUE(eventually(
        [&] { return metric(0, "idemgate_store_errors_total{kind=\"not_owner\"}") >= 1.0; }, 2s));
    for (std::size_t i = 0; i < 2; ++i) {
        auto const replay = send_to(i, protected_post("fenced"));
        EXPECT_EQ(replay.header(replay_header), "true") << "replica " << i;
        EXPECT_EQ(replay.body, taken.body) << "replica " << i;
    }
    // Two executions: the lock outlived the paused owner by lock_ttl, as the contract allows,
    // and not one more.
    EXPECT_EQ(executions_of(upstream_, "fenced"), 2U);
}

} // namespace
} // namespace idemgate::test
