#pragma once
// HMAC-SHA-256 and HKDF-SHA-256 without OpenSSL 3's per-call lookups. Its one-shot HMAC() and
// its HKDF fetch the MAC and the digest by name on every call (a global lock and a hash
// table), which costs more than hashing the short inputs the gateway has. Here the
// algorithm is fetched once, a key is prepared once (its pads hashed), and each call works on
// a copy of the prepared context, so one object serves every thread.
#include <openssl/types.h>

#include <array>
#include <initializer_list>
#include <memory>
#include <string_view>

namespace idemgate::util {

using sha256_digest = std::array<unsigned char, 32>;

class hmac_sha256 {
public:
    /// Throws std::runtime_error when OpenSSL offers no HMAC-SHA-256.
    explicit hmac_sha256(std::string_view key);

    /// The MAC of the concatenation of `parts`; false when OpenSSL fails (out unspecified).
    bool mac(std::initializer_list<std::string_view> parts, sha256_digest& out) const noexcept;

    /// One MAC under a key used once (no exception: false when OpenSSL fails).
    static bool once(std::string_view key, std::initializer_list<std::string_view> parts,
                     sha256_digest& out) noexcept;

private:
    struct ctx_free {
        void operator()(EVP_MAC_CTX* c) const noexcept;
    };
    using ctx_ptr = std::unique_ptr<EVP_MAC_CTX, ctx_free>;
    static ctx_ptr prepare(std::string_view key) noexcept;
    static bool finish(EVP_MAC_CTX& ctx, std::initializer_list<std::string_view> parts,
                       sha256_digest& out) noexcept;

    ctx_ptr keyed_;
};

/// HKDF-SHA-256 (RFC 5869) with an output of one hash length (32 bytes): PRK = HMAC(salt,
/// ikm), OKM = HMAC(PRK, info || 0x01). False when OpenSSL fails.
bool hkdf_sha256(std::string_view ikm, std::string_view salt, std::string_view info,
                 sha256_digest& out) noexcept;

} // namespace idemgate::util
