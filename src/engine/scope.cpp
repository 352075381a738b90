#include "idemgate/engine/scope.hpp"

#include "idemgate/engine/fingerprint.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <stdexcept>
#include <utility>

namespace idemgate::engine {

namespace {

/// Versions the layout: a future change of the fields gives different keys instead of
/// colliding with records written by this version.
constexpr std::string_view scope_domain = "idemgate/scope/v1";
constexpr std::string_view fingerprint_domain = "idemgate/fingerprint/v1";
constexpr std::string_view route_scope_domain = "idemgate/route-scope/v1";
constexpr std::string_view route_credential_domain = "idemgate/route-credential/v1";

/// 8-byte little-endian length, then the bytes: ("ab","c") and ("a","bc") differ.
void append_field(std::string& out, std::string_view field) {
    auto n = static_cast<std::uint64_t>(field.size());
    for (int i = 0; i < 8; ++i) {
        out.push_back(static_cast<char>(n & 0xFFU));
        n >>= 8U;
    }
    out.append(field);
}

} // namespace

scope_hasher::scope_hasher(std::string_view secret) {
    if (!secret.empty()) mac_.emplace(secret);
}

std::string scope_hasher::hmac_hex(std::string_view data) const {
    util::sha256_digest md{};
    if (!mac_->mac({data}, md)) throw std::runtime_error("HMAC-SHA-256 failed");
    return to_hex(std::string_view(reinterpret_cast<char const*>(md.data()), md.size()));
}

std::string scope_hasher::api_key_hash(std::string_view api_key) const {
    return mac_ ? hmac_hex(api_key) : to_hex(sha256(api_key));
}

store::scope_key scope_hasher::make(std::string_view api_key, std::string_view account,
                                    std::string_view method, std::string_view target,
                                    std::string_view idempotency_key) const {
    // Contract §2: the path without its query string is part of the scope.
    std::string_view const path = target.substr(0, target.find('?'));
    std::string key_hash = api_key_hash(api_key); // the API key never enters the buffer
    std::string buf;
    buf.reserve(scope_domain.size() + key_hash.size() + account.size() + method.size() +
                path.size() + idempotency_key.size() + 6 * 8);
    append_field(buf, scope_domain);
    append_field(buf, key_hash);
    append_field(buf, account);
    append_field(buf, method);
    append_field(buf, path);
    append_field(buf, idempotency_key);
    return store::scope_key{to_hex(sha256(buf)), std::move(key_hash)}; // no second copy
}

store::scope_key scope_hasher::make_route(std::string_view route_match,
                                          std::string_view key) const {
    std::string credential;
    append_field(credential, route_credential_domain);
    append_field(credential, route_match);
    std::string route_hash = mac_ ? hmac_hex(credential) : to_hex(sha256(credential));
    std::string buf;
    buf.reserve(route_scope_domain.size() + route_hash.size() + key.size() + 3 * 8);
    append_field(buf, route_scope_domain);
    append_field(buf, route_hash);
    append_field(buf, key);
    return store::scope_key{to_hex(sha256(buf)), std::move(route_hash)};
}

store::fingerprint scope_hasher::keyed(store::scope_key const& scope,
                                       store::fingerprint const& digest) const {
    if (!mac_) return digest;
    std::string buf;
    buf.reserve(fingerprint_domain.size() + scope.hash.size() + digest.size() + 3 * 8);
    append_field(buf, fingerprint_domain);
    append_field(buf, scope.hash);
    append_field(buf,
                 std::string_view(reinterpret_cast<char const*>(digest.data()), digest.size()));
    util::sha256_digest md{};
    if (!mac_->mac({buf}, md)) throw std::runtime_error("HMAC-SHA-256 failed");
    store::fingerprint out{};
    std::copy(md.begin(), md.end(), out.begin());
    return out;
}

} // namespace idemgate::engine
