#include "idemgate/engine/fingerprint.hpp"

#include "idemgate/engine/canonical_json.hpp"

#include <openssl/evp.h>

#include <stdexcept>

namespace idemgate::engine {

namespace {

/// Fetched once: OpenSSL 3 would otherwise look the algorithm up on every digest. Kept for the
/// life of the process on purpose (no teardown ordering issues at exit).
EVP_MD const* sha256_md() noexcept {
    static EVP_MD const* const md = [] {
        EVP_MD const* fetched = EVP_MD_fetch(nullptr, "SHA2-256", nullptr);
        return fetched != nullptr ? fetched : EVP_sha256();
    }();
    return md;
}

} // namespace

store::fingerprint sha256(std::string_view data) {
    store::fingerprint out{};
    unsigned int len = 0;
    if (EVP_Digest(data.data(), data.size(), out.data(), &len, sha256_md(), nullptr) != 1 ||
        len != out.size()) {
        // Only a broken OpenSSL installation gets here; a zero fingerprint would make every
        // body look the same, so refuse instead.
        throw std::runtime_error("SHA-256 is unavailable");
    }
    return out;
}

store::fingerprint fingerprint_of(std::string_view body, config::fingerprint_mode mode) {
    // A ledger route's `none`: every body of a key is the same request (docs/webhooks.md).
    if (mode == config::fingerprint_mode::none) return sha256({});
    if (mode == config::fingerprint_mode::canonical_json) {
        // Contract §2: a body that is not JSON falls back to its bytes.
        if (auto canonical = canonical_json(body)) return sha256(*canonical);
    }
    return sha256(body);
}

std::string to_hex(std::string_view bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (char const c : bytes) {
        auto const u = static_cast<unsigned char>(c);
        out.push_back(digits[u >> 4U]);
        out.push_back(digits[u & 0x0FU]);
    }
    return out;
}

std::string to_hex(store::fingerprint const& fp) {
    return to_hex(std::string_view(reinterpret_cast<char const*>(fp.data()), fp.size()));
}

} // namespace idemgate::engine
