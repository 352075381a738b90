// What the Redis store holds (contract §2, docs/redis.md "Record layout"): after protected
// requests, a scan of every key and value finds no API key and no Authorization value in
// clear, and every key is `<key_prefix>{<64 hex>}` (a record) or `<key_prefix>cred:<64 hex>`
// (a credential's set, store.max_records_per_credential).
#include "replica_fixture.hpp"

#include <regex>
#include <set>

namespace idemgate::test {
namespace {

constexpr char const* bearer_key = "sk_live_SECRET_abc123";
constexpr char const* basic_user = "sk_live_SECRET_basic_77";
constexpr char const* basic_password = "pw_SECRET_basic_99";
// base64("sk_live_SECRET_basic_77:pw_SECRET_basic_99")
constexpr char const* basic_credentials =
    "c2tfbGl2ZV9TRUNSRVRfYmFzaWNfNzc6cHdfU0VDUkVUX2Jhc2ljXzk5";
constexpr char const* body_marker = "card_SECRET_body_4242";

/// One key of the scan with everything Redis returns about it, concatenated.
struct dumped_key {
    std::string name;
    std::string type;
    std::string contents; // HGETALL fields and values, or GET, plus DUMP
};

class redis_contents : public redis_gateways_test {
protected:
    /// SCAN over the whole keyspace (bounded), then TYPE, HGETALL or GET, and DUMP each key.
    std::vector<dumped_key> scan_everything() const {
        std::set<std::string> names;
        std::string cursor = "0";
        for (int round = 0; round < 1000; ++round) {
            auto const r = redis_.command({"SCAN", cursor, "COUNT", "100"});
            EXPECT_EQ(r.elements.size(), 2U) << "SCAN reply";
            if (r.elements.size() != 2) break;
            for (auto const& k : r.elements[1].elements) names.insert(k.str);
            cursor = r.elements[0].str;
            if (cursor == "0") break;
        }
        std::vector<dumped_key> out;
        for (auto const& name : names) {
            dumped_key k{name, redis_.command({"TYPE", name}).str, {}};
            if (k.type == "hash") {
                for (auto const& e : redis_.command({"HGETALL", name}).elements)
                    k.contents += e.str + '\n';
            } else if (k.type == "string") {
                k.contents += redis_.command({"GET", name}).str + '\n';
            }
            k.contents += redis_.command({"DUMP", name}).str;
            out.push_back(std::move(k));
        }
        return out;
    }

    /// `req` with its Authorization value replaced.
    static http_request with_auth(http_request req, std::string authorization) {
        return with_header(without_header(std::move(req), "Authorization"), "Authorization",
                           std::move(authorization));
    }

    /// Three scopes: a Bearer key (executed and replayed), a Basic key, a second account.
    void send_protected_requests() {
        auto const calls = upstream_.calls();
        auto const body = std::string(R"({"card":")") + body_marker + "\"}";
        auto const bearer =
            with_auth(protected_post("sec-1", body), std::string("Bearer ") + bearer_key);
        ASSERT_EQ(send_to(0, bearer).status, 201U);
        ASSERT_EQ(send_to(0, bearer).header(replay_header), "true");
        auto const basic =
            with_auth(protected_post("sec-2", body), std::string("Basic ") + basic_credentials);
        ASSERT_EQ(send_to(0, basic).status, 201U);
        auto const account = with_header(bearer, "Chronapilot-Account", "acct_1");
        ASSERT_EQ(send_to(0, account).status, 201U);
        ASSERT_EQ(upstream_.calls(), calls + 3U); // three scopes, three executions
    }

    /// None of `secrets` appears in any key name or value.
    static void expect_no_secret(std::vector<dumped_key> const& keys,
                                 std::vector<std::string> const& secrets) {
        for (auto const& k : keys) {
            for (auto const& s : secrets) {
                EXPECT_EQ(k.name.find(s), std::string::npos) << s << " in key " << k.name;
                EXPECT_EQ(k.contents.find(s), std::string::npos) << s << " in value of " << k.name;
            }
        }
    }
};

/// Every credential the requests carried, whole and as the header values that held them.
std::vector<std::string> all_secrets() {
    return {bearer_key,
            basic_user,
            basic_password,
            basic_credentials,
            std::string("Bearer ") + bearer_key,
            std::string("Basic ") + basic_credentials,
            "SECRET"}; // any fragment of the distinctive markers
}

TEST_F(redis_contents, no_api_key_or_authorization_value_is_stored_in_clear) {
    start_replica();
    send_protected_requests();
    auto const keys = scan_everything();
    ASSERT_EQ(keys.size(), 5U) << "one record per scope, one set per credential (2)";
    expect_no_secret(keys, all_secrets());
    std::size_t records = 0;
    for (auto const& k : keys) {
        if (k.type == "zset") continue;        // the credential's set: scope hashes only
        EXPECT_EQ(k.type, "string") << k.name; // one string per record (docs/redis.md)
        ++records;
        // Sanity: the scan did read the records (the stored response body is in them).
        EXPECT_NE(k.contents.find("obj_"), std::string::npos) << k.name;
    }
    EXPECT_EQ(records, 3U);
}

TEST_F(redis_contents, the_request_body_is_not_stored_only_its_fingerprint) {
    start_replica();
    send_protected_requests();
    auto const keys = scan_everything();
    ASSERT_EQ(keys.size(), 5U); // 3 records, 2 credential sets
    expect_no_secret(keys, {body_marker});
}

TEST_F(redis_contents, every_key_is_the_prefix_and_a_hash_tag_of_64_hex_characters) {
    key_prefix_ = "acme:idem:";
    start_replica();
    send_protected_requests();
    auto const keys = scan_everything();
    ASSERT_EQ(keys.size(), 5U);
    std::regex const shape(R"(acme:idem:(\{[0-9a-f]{64}\}|cred:[0-9a-f]{64}))");
    for (auto const& k : keys) EXPECT_TRUE(std::regex_match(k.name, shape)) << k.name;
}

TEST_F(redis_contents, with_a_scope_secret_neither_the_api_key_nor_the_secret_is_stored) {
    start_replica(gateway_config{}.set("idempotency.scope_secret", "\"hmac_SECRET_k3y\""));
    send_protected_requests();
    auto const keys = scan_everything();
    ASSERT_EQ(keys.size(), 5U); // 3 records, 2 credential sets
    auto secrets = all_secrets();
    secrets.emplace_back("hmac_SECRET_k3y");
    expect_no_secret(keys, secrets);
}

TEST_F(redis_contents, a_scope_secret_changes_every_store_key) {
    start_replica();
    send_protected_requests();
    std::set<std::string> plain;
    for (auto const& k : scan_everything()) plain.insert(k.name);
    EXPECT_EQ(replica(0).terminate(), 0);
    replicas_.clear();
    redis_.command({"FLUSHALL"});
    start_replica(gateway_config{}.set("idempotency.scope_secret", "\"hmac_SECRET_k3y\""));
    send_protected_requests();
    auto const keyed = scan_everything();
    ASSERT_EQ(keyed.size(), 5U);
    for (auto const& k : keyed) EXPECT_EQ(plain.count(k.name), 0U) << k.name;
}

} // namespace
} // namespace idemgate::test
