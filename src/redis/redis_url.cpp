#include "idemgate/redis/redis_url.hpp"

#include <charconv>

namespace idemgate::redis {

namespace {

int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/// RFC 3986 percent-decoding; nullopt on a malformed escape.
std::optional<std::string> percent_decode(std::string_view in) {
    std::string out;
    out.reserve(in.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
        if (in[i] != '%') {
            out.push_back(in[i]);
            continue;
        }
        if (i + 2 >= in.size()) return std::nullopt;
        int const hi = hex_value(in[i + 1]);
        int const lo = hex_value(in[i + 2]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
    }
    return out;
}

template <class T>
bool parse_number(std::string_view s, T& out) {
    if (s.empty()) return false;
    auto const [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc{} && p == s.data() + s.size();
}

bool parse_userinfo(std::string_view info, redis_url& u, std::string& error) {
    auto const colon = info.find(':');
    auto user = percent_decode(info.substr(0, colon));
    std::optional<std::string> pass = std::string();
    if (colon != std::string_view::npos) pass = percent_decode(info.substr(colon + 1));
    if (!user || !pass) {
        error = "bad percent-escape in the user or password";
        return false;
    }
    // `redis://secret@host` (no colon) is the password, as redis-cli and most clients read it.
    if (colon == std::string_view::npos) {
        u.password = std::move(*user);
    } else {
        u.user = std::move(*user);
        u.password = std::move(*pass);
    }
    return true;
}

bool parse_host_port(std::string_view hp, redis_url& u, std::string& error) {
    std::optional<std::string_view> port; // set when a ':' follows the host
    if (!hp.empty() && hp.front() == '[') {
        auto const close = hp.find(']');
        if (close == std::string_view::npos) {
            error = "unterminated IPv6 address";
            return false;
        }
        u.host = std::string(hp.substr(1, close - 1));
        auto const rest = hp.substr(close + 1);
        if (!rest.empty() && rest.front() != ':') {
            error = "unexpected text after the IPv6 address";
            return false;
        }
        if (!rest.empty()) port = rest.substr(1);
    } else {
        auto const colon = hp.find(':');
        u.host = std::string(hp.substr(0, colon));
        if (colon != std::string_view::npos) port = hp.substr(colon + 1);
    }
    if (u.host.empty()) {
        error = "missing host";
        return false;
    }
    if (port && (!parse_number(*port, u.port) || u.port == 0)) {
        error = "port must be a number from 1 to 65535";
        return false;
    }
    return true;
}

} // namespace

std::optional<redis_url> parse_redis_url(std::string_view text, std::string& error) {
    redis_url u;
    constexpr std::string_view plain = "redis://";
    constexpr std::string_view secure = "rediss://";
    if (text.starts_with(secure)) {
        u.tls = true;
        text.remove_prefix(secure.size());
    } else if (text.starts_with(plain)) {
        text.remove_prefix(plain.size());
    } else {
        error = "must start with redis:// or rediss://";
        return std::nullopt;
    }
    auto const slash = text.find('/');
    auto authority = text.substr(0, slash);
    auto const path = slash == std::string_view::npos ? std::string_view() : text.substr(slash + 1);
    if (authority.find_first_of("?#") != std::string_view::npos ||
        path.find_first_of("?#/") != std::string_view::npos) {
        error = "query strings, fragments and extra path segments are not supported";
        return std::nullopt;
    }
    // The last '@' ends the userinfo: a password may contain '@' when percent-encoded or not.
    if (auto const at = authority.rfind('@'); at != std::string_view::npos) {
        if (!parse_userinfo(authority.substr(0, at), u, error)) return std::nullopt;
        authority.remove_prefix(at + 1);
    }
    if (!parse_host_port(authority, u, error)) return std::nullopt;
    if (!path.empty() && !parse_number(path, u.db)) {
        error = "database must be a non-negative number";
        return std::nullopt;
    }
    return u;
}

std::string endpoint_of(redis_url const& u) {
    bool const v6 = u.host.find(':') != std::string::npos;
    return (v6 ? "[" + u.host + "]" : u.host) + ":" + std::to_string(u.port);
}

} // namespace idemgate::redis
