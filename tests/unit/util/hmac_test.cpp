// util::hmac_sha256 and util::hkdf_sha256 against the RFCs' test vectors and against
// OpenSSL's own one-shot HMAC, from several threads sharing one prepared key.
#include "idemgate/util/hmac.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace idemgate::util {
namespace {

std::string hex(sha256_digest const& d) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (auto const b : d) {
        out.push_back(digits[b >> 4U]);
        out.push_back(digits[b & 0x0FU]);
    }
    return out;
}

std::string bytes(std::initializer_list<int> values) {
    std::string out;
    for (int v : values) out.push_back(static_cast<char>(v));
    return out;
}

TEST(hmac_sha256, matches_rfc_4231_test_case_2) {
    sha256_digest out{};
    ASSERT_TRUE(hmac_sha256("Jefe").mac({"what do ya want ", "for nothing?"}, out));
    EXPECT_EQ(hex(out), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(hmac_sha256, once_and_prepared_agree_with_openssl_hmac_for_every_length) {
    for (std::size_t key_len : {0U, 1U, 31U, 32U, 64U, 65U, 200U}) {
        std::string const key(key_len, 'k');
        std::string data;
        for (std::size_t i = 0; i < 300; i += 37) {
            data.assign(i, static_cast<char>('a' + i % 26));
            sha256_digest expected{};
            unsigned int len = 0;
            ASSERT_NE(HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
                           reinterpret_cast<unsigned char const*>(data.data()), data.size(),
                           expected.data(), &len),
                      nullptr);
            sha256_digest prepared{};
            sha256_digest once{};
            ASSERT_TRUE(hmac_sha256(key).mac({data}, prepared));
            ASSERT_TRUE(hmac_sha256::once(key, {data.substr(0, i / 2), data.substr(i / 2)}, once));
            EXPECT_EQ(hex(prepared), hex(expected)) << key_len << " " << i;
            EXPECT_EQ(hex(once), hex(expected)) << key_len << " " << i;
        }
    }
}

TEST(hmac_sha256, one_prepared_key_serves_threads_at_once) {
    hmac_sha256 const mac("shared secret");
    sha256_digest expected{};
    ASSERT_TRUE(mac.mac({"payload"}, expected));
    std::vector<std::thread> threads;
    std::atomic<int> wrong{0};
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 2000; ++i) {
                sha256_digest out{};
                if (!mac.mac({"pay", "load"}, out) || out != expected) ++wrong;
            }
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(wrong.load(), 0);
}

TEST(hkdf_sha256, matches_rfc_5869_test_case_1) {
    std::string const ikm(22, '\x0b');
    auto const salt = bytes({0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
    auto const info = bytes({0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9});
    sha256_digest out{};
    ASSERT_TRUE(hkdf_sha256(ikm, salt, info, out));
    // The first 32 of the RFC's 42 bytes of OKM (T(1)).
    EXPECT_EQ(hex(out), "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf");
}

} // namespace
} // namespace idemgate::util
