#include "idemgate/config/routes.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace idemgate::config {

std::string_view normal_match(std::string_view match) noexcept {
    while (match.size() > 1 && match.back() == '/') match.remove_suffix(1);
    return match;
}

idempotency_config policy_of(route_config const& route, idempotency_config const& global) {
    idempotency_config p = global;
    if (route.methods) p.methods = *route.methods;
    if (route.ttl) p.ttl = *route.ttl;
    if (route.lock_ttl) p.lock_ttl = *route.lock_ttl;
    if (route.missing_key) p.missing_key = *route.missing_key;
    if (route.concurrent) p.concurrent = *route.concurrent;
    if (route.wait_timeout) p.wait_timeout = *route.wait_timeout;
    if (route.fingerprint) p.fingerprint = *route.fingerprint;
    if (route.no_store_statuses) p.no_store_statuses = *route.no_store_statuses;
    if (route.max_stored_body) p.max_stored_body = *route.max_stored_body;
    return p;
}

std::vector<std::string> route_scoped_matches(config const& cfg) {
    std::vector<std::string> out;
    for (auto const& r : cfg.routes) {
        if (r.enabled && r.scope == route_scope::route) out.emplace_back(normal_match(r.match));
    }
    return out;
}

duration longest_ttl(config const& cfg) noexcept {
    auto longest = cfg.idempotency.ttl;
    for (auto const& r : cfg.routes) {
        if (r.enabled && r.ttl) longest = std::max(longest, *r.ttl);
    }
    return longest;
}

namespace {

/// RFC 9110 token characters: a field name.
bool is_tchar(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

std::string_view trimmed(std::string_view s) noexcept {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
        s.remove_suffix(1);
    return s;
}

} // namespace

std::optional<key_source> parse_key_from(std::string_view text, std::string& why) {
    if (text.starts_with("json:")) {
        auto const pointer = text.substr(5);
        if (!pointer.empty() && pointer.front() != '/') {
            why = "expected a JSON pointer starting with / after json: (RFC 6901), e.g. json:/id";
            return std::nullopt;
        }
        for (std::size_t i = 0; i < pointer.size(); ++i) {
            if (pointer[i] == '~' &&
                (i + 1 == pointer.size() || (pointer[i + 1] != '0' && pointer[i + 1] != '1'))) {
                why = "~ in a JSON pointer must be ~0 or ~1 (RFC 6901)";
                return std::nullopt;
            }
        }
        return key_source{key_source::kind::json_pointer, std::string(pointer)};
    }
    if (text.starts_with("header:")) {
        auto const name = text.substr(7);
        if (name.empty() || !std::all_of(name.begin(), name.end(), is_tchar)) {
            why = "expected a header name after header:, e.g. header:webhook-id";
            return std::nullopt;
        }
        return key_source{key_source::kind::header, std::string(name)};
    }
    why = "expected \"json:<pointer>\" (e.g. json:/id) or \"header:<Name>\" (e.g. "
          "header:webhook-id)";
    return std::nullopt;
}

std::optional<std::string> base64_decode(std::string_view text) {
    std::string in(text);
    if (in.empty() || in.size() % 4 == 1) return std::nullopt;
    while (in.size() % 4 != 0) in.push_back('=');
    auto const pad = static_cast<std::size_t>(in.ends_with("==") ? 2 : in.ends_with('=') ? 1 : 0);
    if (std::any_of(in.begin(), in.end() - static_cast<std::ptrdiff_t>(pad),
                    [](char c) { return c == '=' || c == ' ' || c == '\t'; }))
        return std::nullopt;
    std::string out(in.size() / 4 * 3, '\0');
    int const n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<unsigned char const*>(in.data()),
                                  static_cast<int>(in.size()));
    if (n < 0) return std::nullopt;
    // EVP_DecodeBlock counts the padding as zero bytes.
    out.resize(static_cast<std::size_t>(n) - pad);
    return out;
}

webhook_secrets read_webhook_secrets(std::string const& path) {
    webhook_secrets out;
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        out.error = "cannot open " + path + ": " + std::strerror(errno);
        return out;
    }
    std::string line;
    std::size_t number = 0;
    while (std::getline(in, line)) {
        ++number;
        if (number > 1000) {
            out.error = path + ": more than 1000 lines";
            return out;
        }
        auto const text = trimmed(line);
        if (text.empty()) continue;
        constexpr std::string_view prefix = "whsec_";
        std::optional<std::string> secret;
        if (text.starts_with(prefix)) secret = base64_decode(text.substr(prefix.size()));
        if (!secret || secret->empty()) {
            out.error = path + " line " + std::to_string(number) +
                        ": expected whsec_ followed by the secret in base64 (content not shown)";
            out.secrets.clear();
            return out;
        }
        out.secrets.push_back(std::move(*secret));
    }
    if (in.bad()) out.error = "cannot read " + path;
    if (out.error.empty() && out.secrets.empty())
        out.error = path + " holds no secret (one whsec_<base64> per line)";
    return out;
}

} // namespace idemgate::config
