#include "idemgate/engine/webhook.hpp"

#include "idemgate/util/hmac.hpp"

#include <nlohmann/json.hpp>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <array>
#include <charconv>

namespace idemgate::engine {

namespace {

/// The most signatures of one webhook-signature field that are looked at (a sender rotating
/// keys sends two or three).
constexpr std::size_t max_signatures = 16;

std::string base64(unsigned char const* data, std::size_t size) {
    std::string out(4 * ((size + 2) / 3), '\0');
    int const n =
        EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(size));
    out.resize(n < 0 ? 0 : static_cast<std::size_t>(n));
    return out;
}

/// The base64 HMAC-SHA-256 of the signed content; empty when OpenSSL fails (never matches).
std::string mac_base64(std::string_view secret, std::string_view content) {
    util::sha256_digest md{};
    if (!util::hmac_sha256::once(secret, {content}, md)) return {};
    return base64(md.data(), md.size());
}

std::string signed_content(std::string_view id, std::string_view timestamp, std::string_view body) {
    std::string content;
    content.reserve(id.size() + timestamp.size() + body.size() + 2);
    content.append(id).append(".").append(timestamp).append(".").append(body);
    return content;
}

std::string_view trimmed(std::string_view s) noexcept {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

/// Seconds since the epoch: digits only (at most 18, no sign); nullopt otherwise.
std::optional<std::int64_t> seconds_of(std::string_view text) {
    text = trimmed(text);
    if (text.empty() || text.size() > 18) return std::nullopt;
    std::int64_t v = 0;
    auto const [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc{} || end != text.data() + text.size() || text.front() == '-')
        return std::nullopt;
    return v;
}

} // namespace

std::string sign_webhook(std::string_view secret, std::string_view id, std::string_view timestamp,
                         std::string_view body) {
    return "v1," + mac_base64(secret, signed_content(id, timestamp, body));
}

webhook_verdict verify_webhook(std::vector<std::string> const& secrets, webhook_headers const& h,
                               std::string_view body, std::chrono::seconds now,
                               std::chrono::seconds tolerance) {
    if (!h.timestamp) return webhook_verdict::timestamp;
    auto const ts = seconds_of(*h.timestamp);
    if (!ts) return webhook_verdict::timestamp;
    auto const at = std::chrono::seconds(*ts);
    if (at < now - tolerance || at > now + tolerance) return webhook_verdict::timestamp;
    if (!h.id || !h.signature || h.id->empty()) return webhook_verdict::signature;

    std::vector<std::string_view> offered;
    std::string_view rest = *h.signature;
    while (!rest.empty() && offered.size() < max_signatures) {
        auto const space = rest.find(' ');
        auto const one = rest.substr(0, space);
        rest = space == std::string_view::npos ? std::string_view{} : rest.substr(space + 1);
        if (one.starts_with("v1,") && one.size() > 3) offered.push_back(one.substr(3));
    }
    if (offered.empty()) return webhook_verdict::signature;

    auto const content = signed_content(*h.id, trimmed(*h.timestamp), body);
    bool matched = false;
    for (auto const& secret : secrets) {
        auto const expected = mac_base64(secret, content);
        if (expected.empty()) continue;
        for (auto const sig : offered) {
            // Constant time over the signature's bytes; the length is public (fixed by the
            // hash).
            if (sig.size() == expected.size() &&
                CRYPTO_memcmp(sig.data(), expected.data(), expected.size()) == 0)
                matched = true;
        }
    }
    return matched ? webhook_verdict::ok : webhook_verdict::signature;
}

std::optional<std::string> delivery_key(config::key_source const& from, std::string_view body,
                                        std::optional<std::string_view> header_value) {
    if (from.from == config::key_source::kind::header) {
        if (!header_value) return std::nullopt;
        auto const v = trimmed(*header_value);
        if (v.empty()) return std::nullopt;
        return std::string(v);
    }
    auto const doc = nlohmann::json::parse(body, nullptr, false);
    if (doc.is_discarded()) return std::nullopt;
    try {
        auto const& v = doc.at(nlohmann::json::json_pointer(from.where));
        std::string key;
        if (v.is_string())
            key = v.get<std::string>();
        else if (v.is_number())
            key = v.dump();
        if (key.empty()) return std::nullopt;
        return key;
    } catch (nlohmann::json::exception const&) {
        return std::nullopt; // the pointer names nothing in this body
    }
}

} // namespace idemgate::engine
