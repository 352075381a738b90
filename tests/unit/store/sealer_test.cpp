// store.encryption: records sealed with AES-256-GCM under per-record HKDF keys, the scope as
// associated data, rotation by key id.
#include "idemgate/store/sealer.hpp"

#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include <array>
#include <memory>
#include <set>
#include <string>

namespace idemgate::store {
namespace {

std::vector<sealing_key> keys_of(std::string const& text) {
    std::string why;
    auto keys = parse_keys(text, why);
    EXPECT_TRUE(keys.has_value()) << why;
    return keys.value_or(std::vector<sealing_key>{});
}

std::string const key_a = "a:" + std::string(43, 'A') + "=";
std::string const key_b = "b:" + std::string(42, 'B') + "A=";
std::string const scope = "5f1c0e7a9b2d4c6e8f0a1b3c5d7e9f1a2b4c6d8e0f1a3b5c7d9e1f2a4b6c8d0e";

TEST(sealer, opens_what_it_sealed_and_shows_none_of_it) {
    sealer const s(keys_of(key_a));
    std::string const plain = "HTTP 201 Set-Cookie: session=abc; {\"amount\":4200}";
    auto const sealed = s.seal(scope, plain);
    ASSERT_FALSE(sealed.empty());
    EXPECT_TRUE(sealer::looks_sealed(sealed));
    EXPECT_EQ(sealed.find("session=abc"), std::string::npos);
    EXPECT_EQ(sealed.find("4200"), std::string::npos);
    EXPECT_EQ(s.open(scope, sealed), plain);
}

/// A record sealed the way the layout says, with OpenSSL's own HKDF (EVP_KDF) and AES-256-GCM:
/// what earlier versions wrote, and what the sealer's own HKDF must agree with.
std::string seal_by_the_book(std::array<unsigned char, 32> master, std::string const& id,
                             std::string_view aad, std::string_view plain) {
    std::array<unsigned char, 16> salt{};
    std::array<unsigned char, 12> nonce{};
    for (std::size_t i = 0; i < salt.size(); ++i) salt[i] = static_cast<unsigned char>(3 * i + 1);
    for (std::size_t i = 0; i < nonce.size(); ++i) nonce[i] = static_cast<unsigned char>(7 * i);
    std::array<unsigned char, 32> key{};
    std::unique_ptr<EVP_KDF, decltype(&EVP_KDF_free)> kdf(EVP_KDF_fetch(nullptr, "HKDF", nullptr),
                                                          &EVP_KDF_free);
    std::unique_ptr<EVP_KDF_CTX, decltype(&EVP_KDF_CTX_free)> kctx(EVP_KDF_CTX_new(kdf.get()),
                                                                   &EVP_KDF_CTX_free);
    char digest[] = "SHA256";
    char info[] = "idemgate record v1";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, master.data(), master.size()),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, salt.data(), salt.size()),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, sizeof info - 1),
        OSSL_PARAM_construct_end()};
    EXPECT_EQ(EVP_KDF_derive(kctx.get(), key.data(), key.size(), params), 1);
    std::string out = "S\x01";
    out.push_back(static_cast<char>(id.size()));
    out += id;
    out.append(reinterpret_cast<char const*>(salt.data()), salt.size());
    out.append(reinterpret_cast<char const*>(nonce.data()), nonce.size());
    std::string body(plain.size() + 16, '\0');
    auto* const b = reinterpret_cast<unsigned char*>(body.data());
    std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> c(EVP_CIPHER_CTX_new(),
                                                                      &EVP_CIPHER_CTX_free);
    int n = 0;
    EXPECT_EQ(EVP_EncryptInit_ex2(c.get(), EVP_aes_256_gcm(), key.data(), nonce.data(), nullptr),
              1);
    EXPECT_EQ(EVP_EncryptUpdate(c.get(), nullptr, &n,
                                reinterpret_cast<unsigned char const*>(aad.data()),
                                static_cast<int>(aad.size())),
              1);
    EXPECT_EQ(EVP_EncryptUpdate(c.get(), b, &n,
                                reinterpret_cast<unsigned char const*>(plain.data()),
                                static_cast<int>(plain.size())),
              1);
    EXPECT_EQ(EVP_EncryptFinal_ex(c.get(), b + n, &n), 1);
    EXPECT_EQ(EVP_CIPHER_CTX_ctrl(c.get(), EVP_CTRL_GCM_GET_TAG, 16, b + plain.size()), 1);
    return out + body;
}

TEST(sealer, opens_a_record_sealed_with_openssls_hkdf_as_earlier_versions_did) {
    // key_a's base64 is 43 'A's and '=': 32 zero bytes.
    sealer const s(keys_of(key_a));
    std::string const plain = "a record written before the sealer derived keys itself";
    EXPECT_EQ(s.open(scope, seal_by_the_book({}, "a", scope, plain)), plain);
    EXPECT_EQ(s.open(scope, seal_by_the_book({}, "a", scope, "")), "");
    std::array<unsigned char, 32> other{};
    other[0] = 1;
    EXPECT_EQ(s.open(scope, seal_by_the_book(other, "a", scope, plain)), std::nullopt);
}

TEST(sealer, never_seals_the_same_record_twice_alike) {
    sealer const s(keys_of(key_a));
    std::set<std::string> seen;
    for (int i = 0; i < 100; ++i) seen.insert(s.seal(scope, "same"));
    EXPECT_EQ(seen.size(), 100U); // a fresh salt and nonce each time
}

TEST(sealer, refuses_a_record_of_another_scope_a_changed_byte_and_an_unknown_key) {
    sealer const s(keys_of(key_a));
    auto const sealed = s.seal(scope, "response");
    auto other_scope = scope;
    other_scope[0] = '6';
    EXPECT_FALSE(s.open(other_scope, sealed).has_value());
    for (std::size_t i = 0; i < sealed.size(); ++i) {
        auto changed = sealed;
        changed[i] = static_cast<char>(changed[i] ^ 0x01);
        EXPECT_FALSE(s.open(scope, changed).has_value()) << "byte " << i;
    }
    EXPECT_FALSE(s.open(scope, sealed.substr(0, sealed.size() - 1)).has_value());
    EXPECT_FALSE(s.open(scope, "").has_value());
    sealer const other(keys_of(key_b));
    EXPECT_FALSE(other.open(scope, sealed).has_value());
}

TEST(sealer, opens_with_any_listed_key_and_seals_with_the_first) {
    sealer const old_keys(keys_of(key_a));
    auto const by_a = old_keys.seal(scope, "before the rotation");
    sealer const rotated(keys_of(key_b + "\n" + key_a + "\n"));
    EXPECT_EQ(rotated.open(scope, by_a), "before the rotation");
    auto const by_b = rotated.seal(scope, "after");
    EXPECT_FALSE(old_keys.open(scope, by_b).has_value()); // sealed with b, which a lacks
    sealer const b_only(keys_of(key_b));
    EXPECT_EQ(b_only.open(scope, by_b), "after");
}

TEST(sealer, seals_an_empty_record) {
    sealer const s(keys_of(key_a));
    auto const sealed = s.seal(scope, "");
    EXPECT_EQ(s.open(scope, sealed), "");
}

TEST(sealer, a_clear_record_does_not_look_sealed) {
    EXPECT_FALSE(sealer::looks_sealed(std::string("I\x01\x02", 3)));
    EXPECT_FALSE(sealer::looks_sealed("S"));
}

struct bad_file {
    std::string text;
    std::string why; // a part of the message
};

TEST(parse_keys, says_which_line_is_wrong_and_never_echoes_a_key) {
    bad_file const rows[] = {
        {"", "no key"},
        {"# only a comment\n\n", "no key"},
        {"nocolon", "line 1: expected <id>:<base64"},
        {"\n" + key_a + "\nbad id!:" + std::string(43, 'A') + "=", "line 3: the key id"},
        {"k:" + std::string(40, 'A') + "==", "line 1: the key must be the base64 of exactly 32"},
        {"k:" + std::string(44, 'A'), "line 1: the key must be"},
        {"k:" + std::string(42, '*') + "A=", "line 1: the key must be"},
        {key_a + "\n" + key_a, "line 2: key id \"a\" is listed twice"},
        {std::string(33, 'i') + ":" + std::string(43, 'A') + "=", "line 1: the key id"},
    };
    for (auto const& r : rows) {
        std::string why;
        EXPECT_FALSE(parse_keys(r.text, why).has_value()) << r.text;
        EXPECT_NE(why.find(r.why), std::string::npos) << why;
        EXPECT_EQ(why.find(std::string(40, 'A')), std::string::npos) << why;
    }
}

TEST(parse_keys, reads_ids_and_keys_ignoring_comments_blanks_and_spaces) {
    auto const keys = keys_of("# rotated 2026-11\n  " + key_b + " \r\n\n" + key_a + "\n");
    ASSERT_EQ(keys.size(), 2U);
    EXPECT_EQ(keys[0].id, "b");
    EXPECT_EQ(keys[1].id, "a");
    EXPECT_EQ(keys[1].key[0], 0U); // base64 "AAAA..." is zero bytes
}

TEST(generate_key_line, gives_a_line_the_parser_takes_and_a_new_key_each_time) {
    auto const one = generate_key_line();
    auto const two = generate_key_line();
    EXPECT_NE(one, two);
    auto const keys = keys_of(one + "\n" + two);
    ASSERT_EQ(keys.size(), 2U);
    EXPECT_NE(keys[0].key, keys[1].key);
    sealer const s(keys);
    EXPECT_EQ(s.open(scope, s.seal(scope, "x")), "x");
}

} // namespace
} // namespace idemgate::store
