// Contract §2 "fingerprint": SHA-256 of the body, or of its canonical JSON form.
#include "idemgate/engine/fingerprint.hpp"

#include <gtest/gtest.h>

#include <string>

namespace idemgate::engine {
namespace {

using config::fingerprint_mode;

struct vector_row {
    std::string input;
    std::string hex;
};

TEST(sha256, matches_the_fips_180_test_vectors) {
    vector_row const rows[] = {
        {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
        {std::string(1'000'000, 'a'),
         "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"},
    };
    for (auto const& r : rows) {
        EXPECT_EQ(to_hex(sha256(r.input)), r.hex) << "input of " << r.input.size() << " bytes";
    }
}

TEST(to_hex, writes_two_lowercase_digits_per_byte) {
    EXPECT_EQ(to_hex(std::string_view("\x00\xff\x10\xab", 4)), "00ff10ab");
    EXPECT_EQ(to_hex(std::string_view()), "");
}

TEST(fingerprint, in_body_mode_is_the_sha256_of_the_bytes) {
    std::string const body = R"({"b":1, "a":2})";
    EXPECT_EQ(fingerprint_of(body, fingerprint_mode::body), sha256(body));
    EXPECT_NE(fingerprint_of(body, fingerprint_mode::body),
              fingerprint_of(R"({"a":2,"b":1})", fingerprint_mode::body));
}

TEST(fingerprint, in_canonical_json_mode_matches_reserialised_equal_bodies) {
    auto const a = fingerprint_of(R"({"b":1, "a":[1,2]})", fingerprint_mode::canonical_json);
    auto const b =
        fingerprint_of("{\n  \"a\": [1, 2],\n  \"b\": 1\n}\n", fingerprint_mode::canonical_json);
    EXPECT_EQ(a, b);
    EXPECT_EQ(a, sha256(R"({"a":[1,2],"b":1})"));
    EXPECT_NE(a, fingerprint_of(R"({"a":[2,1],"b":1})", fingerprint_mode::canonical_json));
}

TEST(fingerprint, in_canonical_json_mode_falls_back_to_the_bytes_of_non_json) {
    for (std::string const body : {"", "amount=10&currency=eur", "{\"a\":1", "{} {}"}) {
        EXPECT_EQ(fingerprint_of(body, fingerprint_mode::canonical_json), sha256(body)) << body;
    }
    EXPECT_NE(fingerprint_of("a=1 ", fingerprint_mode::canonical_json),
              fingerprint_of("a=1", fingerprint_mode::canonical_json));
}

} // namespace
} // namespace idemgate::engine
