#include "idemgate/engine/key_rules.hpp"

#include <cstdint>

namespace idemgate::engine {

namespace {

/// Contract §1: only 0x21–0x7E may appear in a key.
bool is_visible(char c) noexcept {
    auto const u = static_cast<unsigned char>(c);
    return u >= 0x21 && u <= 0x7E;
}

/// RFC 9110 §5.6.3: OWS = *( SP / HTAB ).
std::string_view trim_ows(std::string_view s) noexcept {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

bool is_valid_key(std::string_view key, std::size_t max_len) noexcept {
    if (key.empty() || key.size() > max_len) return false;
    for (char const c : key) {
        if (!is_visible(c)) return false;
    }
    return true;
}

/// RFC 8941 §4.2.5: `"` *( unescaped / "\" ( DQUOTE / "\" ) ) `"`, nothing after the closing
/// quote. `quoted` starts with the opening quote.
std::optional<std::string> unquote_sf_string(std::string_view quoted) {
    std::string out;
    for (std::size_t i = 1; i < quoted.size(); ++i) {
        char const c = quoted[i];
        if (c == '"') {
            if (i + 1 != quoted.size()) return std::nullopt; // trailing characters
            return out;
        }
        if (c == '\\') {
            if (++i == quoted.size()) return std::nullopt;
            if (quoted[i] != '"' && quoted[i] != '\\') return std::nullopt;
        }
        out.push_back(quoted[i]);
    }
    return std::nullopt; // no closing quote
}

char to_lower(char c) noexcept {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

/// Auth scheme names are case-insensitive (RFC 9110 §11.1).
bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (to_lower(a[i]) != to_lower(b[i])) return false;
    }
    return true;
}

/// Value of one base64 character, or -1.
int base64_value(char c) noexcept {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

/// RFC 4648 §4 alphabet. Padding is optional, but when present the text must be a whole
/// number of 4-character groups; a single dangling character is invalid.
std::optional<std::string> base64_decode(std::string_view in) {
    std::size_t const padded_size = in.size();
    std::size_t pad = 0;
    while (pad < 2 && !in.empty() && in.back() == '=') {
        in.remove_suffix(1);
        ++pad;
    }
    if (pad > 0 && padded_size % 4 != 0) return std::nullopt;
    if (in.size() % 4 == 1) return std::nullopt;
    std::string out;
    out.reserve(in.size() / 4 * 3 + 2);
    std::uint32_t acc = 0;
    int bits = 0;
    for (char const c : in) {
        int const v = base64_value(c);
        if (v < 0) return std::nullopt;
        acc = (acc << 6) | static_cast<std::uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<char>((acc >> bits) & 0xFFU));
        }
    }
    return out;
}

/// The whole decoded credential, user and password: a replay never reaches the upstream, so
/// nobody else checks the password (contract §2). RFC 7617 §2: user-id ":" password; a
/// value without ':' is taken as a bare user-id; an empty user-id is unusable.
std::optional<std::string> basic_credential(std::string_view credentials) {
    auto decoded = base64_decode(credentials);
    if (!decoded || decoded->empty() || decoded->front() == ':') return std::nullopt;
    return decoded;
}

} // namespace

std::optional<std::string> parse_idempotency_key(std::string_view field_value,
                                                 std::size_t max_len) {
    std::string_view const value = trim_ows(field_value);
    if (!value.empty() && value.front() == '"') {
        auto key = unquote_sf_string(value);
        // RFC 8941 allows SP inside a string; contract §1 allows visible ASCII only.
        if (!key || !is_valid_key(*key, max_len)) return std::nullopt;
        return key;
    }
    if (!is_valid_key(value, max_len)) return std::nullopt;
    return std::string(value);
}

std::optional<std::string> api_key_of(std::string_view authorization) {
    std::string_view const value = trim_ows(authorization);
    std::size_t const sp = value.find_first_of(" \t");
    if (sp == std::string_view::npos) return std::nullopt; // a scheme without credentials
    std::string_view const scheme = value.substr(0, sp);
    // Lenient on the token's characters: any non-empty credential is protected, and the
    // upstream judges whether it is valid (it answers 401 otherwise).
    std::string_view const credentials = trim_ows(value.substr(sp));
    if (credentials.empty()) return std::nullopt;
    if (iequals(scheme, "Bearer")) return std::string(credentials);
    if (iequals(scheme, "Basic")) return basic_credential(credentials);
    return std::nullopt;
}

std::optional<std::string> credential_of_header(std::string_view value) {
    std::string_view const v = trim_ows(value);
    if (v.empty()) return std::nullopt;
    return std::string(v);
}

} // namespace idemgate::engine
