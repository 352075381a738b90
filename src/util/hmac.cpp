#include "idemgate/util/hmac.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <stdexcept>

namespace idemgate::util {

namespace {

/// The HMAC context with its digest chosen and no key: fetched once per process.
EVP_MAC_CTX const* unkeyed() noexcept {
    static EVP_MAC_CTX* const base = []() -> EVP_MAC_CTX* {
        EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
        if (mac == nullptr) return nullptr;
        EVP_MAC_CTX* ctx = EVP_MAC_CTX_new(mac);
        EVP_MAC_free(mac); // the context holds its own reference
        char digest[] = "SHA2-256";
        OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                               OSSL_PARAM_construct_end()};
        if (ctx != nullptr && EVP_MAC_CTX_set_params(ctx, params) != 1) {
            EVP_MAC_CTX_free(ctx);
            return nullptr;
        }
        return ctx;
    }();
    return base;
}

} // namespace

void hmac_sha256::ctx_free::operator()(EVP_MAC_CTX* c) const noexcept {
    EVP_MAC_CTX_free(c);
}

hmac_sha256::ctx_ptr hmac_sha256::prepare(std::string_view key) noexcept {
    auto const* base = unkeyed();
    if (base == nullptr) return {};
    ctx_ptr ctx(EVP_MAC_CTX_dup(base));
    // A null key means "keep the previous key" to OpenSSL: an empty key is passed as "".
    auto const* bytes = reinterpret_cast<unsigned char const*>(key.empty() ? "" : key.data());
    if (!ctx || EVP_MAC_init(ctx.get(), bytes, key.size(), nullptr) != 1) return {};
    return ctx;
}

bool hmac_sha256::finish(EVP_MAC_CTX& ctx, std::initializer_list<std::string_view> parts,
                         sha256_digest& out) noexcept {
    for (auto const part : parts) {
        if (EVP_MAC_update(&ctx, reinterpret_cast<unsigned char const*>(part.data()),
                           part.size()) != 1)
            return false;
    }
    std::size_t n = 0;
    return EVP_MAC_final(&ctx, out.data(), &n, out.size()) == 1 && n == out.size();
}

hmac_sha256::hmac_sha256(std::string_view key) : keyed_(prepare(key)) {
    if (!keyed_) throw std::runtime_error("HMAC-SHA-256 is unavailable");
}

bool hmac_sha256::mac(std::initializer_list<std::string_view> parts,
                      sha256_digest& out) const noexcept {
    // Copying a prepared context only reads it: concurrent calls need no lock.
    ctx_ptr ctx(EVP_MAC_CTX_dup(keyed_.get()));
    return ctx && finish(*ctx, parts, out);
}

bool hmac_sha256::once(std::string_view key, std::initializer_list<std::string_view> parts,
                       sha256_digest& out) noexcept {
    auto const ctx = prepare(key); // used once: no copy of it
    return ctx && finish(*ctx, parts, out);
}

bool hkdf_sha256(std::string_view ikm, std::string_view salt, std::string_view info,
                 sha256_digest& out) noexcept {
    sha256_digest prk{};
    constexpr char counter = 1;
    bool const ok =
        hmac_sha256::once(salt, {ikm}, prk) &&
        hmac_sha256::once(std::string_view(reinterpret_cast<char const*>(prk.data()), prk.size()),
                          {info, std::string_view(&counter, 1)}, out);
    OPENSSL_cleanse(prk.data(), prk.size());
    return ok;
}

} // namespace idemgate::util
