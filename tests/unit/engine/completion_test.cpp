// Contract §3: what happens to the in-progress record once the upstream answered or failed.
#include "idemgate/engine/completion.hpp"

#include <gtest/gtest.h>

#include <string>

namespace idemgate::engine {
namespace {

TEST(on_response, releases_the_record_for_every_default_no_store_status) {
    config::idempotency_config const cfg;
    for (unsigned const status : {401U, 403U, 408U, 429U, 502U, 503U, 504U}) {
        EXPECT_EQ(on_response(status, cfg), completion::release) << status;
    }
}

TEST(on_response, stores_every_other_status_as_is) {
    config::idempotency_config const cfg;
    for (unsigned const status :
         {200U, 201U, 204U, 302U, 400U, 404U, 409U, 422U, 500U, 501U, 505U}) {
        EXPECT_EQ(on_response(status, cfg), completion::store) << status;
    }
}

TEST(on_response, follows_a_configured_no_store_list) {
    config::idempotency_config cfg;
    cfg.no_store_statuses = {500};
    EXPECT_EQ(on_response(500, cfg), completion::release);
    EXPECT_EQ(on_response(503, cfg), completion::store);
    cfg.no_store_statuses.clear();
    EXPECT_EQ(on_response(503, cfg), completion::store);
}

TEST(on_failure, releases_only_when_nothing_was_sent) {
    EXPECT_EQ(on_failure(errc::upstream_unavailable), completion::release);
    EXPECT_EQ(on_failure(errc::upstream_timeout), completion::keep);
    EXPECT_EQ(on_failure(errc::upstream_failed), completion::keep);
}

TEST(to_stored, keeps_the_fields_it_is_given_in_their_order) {
    // The hop-by-hop ones are gone before (proxy::drop_connection_fields, forward_test.cpp).
    store::header_list const in{
        {"Content-Type", "application/json"},
        {"Set-Cookie", "a=1"},
        {"Set-Cookie", "b=2"},
        {"Request-Id", "req_1"},
    };
    auto const out = to_stored(201, in, "{}", config::idempotency_config{});
    EXPECT_EQ(out.headers, in);
    EXPECT_EQ(out.status, 201U);
    EXPECT_EQ(out.body, "{}");
    EXPECT_FALSE(out.body_omitted);
}

TEST(to_stored, keeps_any_status_as_is) {
    for (unsigned const status : {200U, 400U, 500U}) {
        EXPECT_EQ(to_stored(status, {}, "x", config::idempotency_config{}).status, status);
    }
}

TEST(to_stored, keeps_a_body_of_exactly_max_stored_body_and_omits_a_larger_one) {
    config::idempotency_config cfg;
    cfg.max_stored_body = config::byte_size{10};
    auto const kept = to_stored(200, {}, std::string(10, 'b'), cfg);
    EXPECT_EQ(kept.body, std::string(10, 'b'));
    EXPECT_FALSE(kept.body_omitted);

    auto const omitted =
        to_stored(200, {{"Content-Type", "text/plain"}}, std::string(11, 'b'), cfg);
    EXPECT_TRUE(omitted.body.empty());
    EXPECT_TRUE(omitted.body_omitted);
    EXPECT_EQ(omitted.status, 200U);
    EXPECT_EQ(omitted.headers.size(), 1U);
}

TEST(to_stored, applies_the_default_limit_of_4_mib) {
    config::idempotency_config const cfg;
    std::size_t const limit = 4 * 1024 * 1024;
    EXPECT_FALSE(to_stored(200, {}, std::string(limit, 'x'), cfg).body_omitted);
    EXPECT_TRUE(to_stored(200, {}, std::string(limit + 1, 'x'), cfg).body_omitted);
}

TEST(to_stored, keeps_an_empty_body) {
    auto const out = to_stored(204, {}, "", config::idempotency_config{});
    EXPECT_TRUE(out.body.empty());
    EXPECT_FALSE(out.body_omitted);
}

} // namespace
} // namespace idemgate::engine
