// Contract §2 "scope": (API key, account, method, path without query, key) -> store key.
#include "idemgate/engine/scope.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace idemgate::engine {
namespace {

constexpr std::string_view api_key = "sk_live_51f0e9a2b3c4d5e6";

bool is_lower_hex_64(std::string const& s) {
    if (s.size() != 64) return false;
    return s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

std::string scope_of(scope_hasher const& h, std::string_view key, std::string_view account,
                     std::string_view method, std::string_view target, std::string_view idem) {
    return h.make(key, account, method, target, idem).hash;
}

TEST(scope, is_64_lowercase_hex_characters_and_stable) {
    scope_hasher const h("");
    auto const a = scope_of(h, api_key, "acct_1", "POST", "/v1/charges", "k1");
    EXPECT_TRUE(is_lower_hex_64(a)) << a;
    EXPECT_EQ(a, scope_of(h, api_key, "acct_1", "POST", "/v1/charges", "k1"));
}

TEST(scope, differs_when_any_field_of_the_tuple_differs) {
    scope_hasher const h("");
    std::set<std::string> const hashes{
        scope_of(h, api_key, "acct_1", "POST", "/v1/charges", "k1"),
        scope_of(h, "sk_live_other", "acct_1", "POST", "/v1/charges", "k1"),
        scope_of(h, api_key, "acct_2", "POST", "/v1/charges", "k1"),
        scope_of(h, api_key, "", "POST", "/v1/charges", "k1"),
        scope_of(h, api_key, "acct_1", "PATCH", "/v1/charges", "k1"),
        scope_of(h, api_key, "acct_1", "POST", "/v1/refunds", "k1"),
        scope_of(h, api_key, "acct_1", "POST", "/v1/charges", "k2"),
    };
    EXPECT_EQ(hashes.size(), 7U);
}

TEST(scope, ignores_the_query_string) {
    scope_hasher const h("");
    auto const plain = scope_of(h, api_key, "a", "POST", "/v1/charges", "k1");
    EXPECT_EQ(plain, scope_of(h, api_key, "a", "POST", "/v1/charges?expand=customer", "k1"));
    EXPECT_EQ(plain, scope_of(h, api_key, "a", "POST", "/v1/charges?", "k1"));
    EXPECT_NE(plain, scope_of(h, api_key, "a", "POST", "/v1/charges/", "k1"));
}

TEST(scope, does_not_collide_when_bytes_move_between_fields) {
    scope_hasher const h("");
    EXPECT_NE(scope_of(h, api_key, "ab", "POST", "/p", "k"),
              scope_of(h, api_key, "a", "bPOST", "/p", "k"));
    EXPECT_NE(scope_of(h, api_key, "", "POST", "/pk", "1"),
              scope_of(h, api_key, "", "POST", "/p", "k1"));
}

TEST(scope, with_a_secret_differs_from_plain_sha256_and_between_secrets) {
    scope_hasher const plain("");
    scope_hasher const s1("secret-one");
    scope_hasher const s2("secret-two");
    auto const p = scope_of(plain, api_key, "a", "POST", "/p", "k");
    auto const h1 = scope_of(s1, api_key, "a", "POST", "/p", "k");
    auto const h2 = scope_of(s2, api_key, "a", "POST", "/p", "k");
    EXPECT_NE(p, h1);
    EXPECT_NE(h1, h2);
    EXPECT_TRUE(is_lower_hex_64(h1));
    EXPECT_EQ(h1, scope_of(scope_hasher("secret-one"), api_key, "a", "POST", "/p", "k"));
}

TEST(scope, never_contains_the_api_key) {
    // A hex-looking API key is the only kind that could show up inside hex output.
    std::string const hex_key = "0123456789abcdef0123";
    for (auto const& secret : {std::string(), std::string("s3cret")}) {
        scope_hasher const h(secret);
        EXPECT_EQ(scope_of(h, hex_key, "a", "POST", "/p", "k").find(hex_key), std::string::npos);
        EXPECT_EQ(h.api_key_hash(hex_key).find(hex_key), std::string::npos);
        EXPECT_NE(h.api_key_hash(hex_key), hex_key);
    }
}

TEST(scope, names_its_credential_by_the_api_key_hash_only) {
    // store.max_records_per_credential counts records by this; it must never be the key itself.
    for (auto const& secret : {std::string(), std::string("s3cret")}) {
        scope_hasher const h(secret);
        auto const a = h.make(api_key, "acct_1", "POST", "/v1/charges", "k1");
        auto const b = h.make(api_key, "acct_2", "PATCH", "/v1/refunds", "k2");
        EXPECT_EQ(a.credential, h.api_key_hash(api_key));
        EXPECT_EQ(a.credential, b.credential);
        EXPECT_NE(a.credential,
                  h.make("sk_other", "acct_1", "POST", "/v1/charges", "k1").credential);
        EXPECT_TRUE(is_lower_hex_64(a.credential));
    }
}

TEST(scope, hashes_the_api_key_with_sha256_without_a_secret) {
    EXPECT_EQ(scope_hasher("").api_key_hash("abc"),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(scope, hashes_the_api_key_with_hmac_sha256_given_a_secret) {
    // RFC 4231 test case 2.
    EXPECT_EQ(scope_hasher("Jefe").api_key_hash("what do ya want for nothing?"),
              "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

} // namespace
} // namespace idemgate::engine
