#pragma once
// The URLs of the configuration, one parser per scheme family, built on Boost.URL
// (parse_absolute_uri): http(s) for upstream.url, redis(s) for store.redis.url. --check-config
// and the runtime (proxy::parse_upstream_url, the redis connection config) call the same
// functions, so what validates is what runs. Pure: no DNS, no I/O.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace idemgate::config {

/// upstream.url: scheme://host[:port][/path], no user info, query or fragment.
struct http_url {
    bool tls = false;       // https
    std::string host;       // without brackets for IPv6
    std::uint16_t port = 0; // 80 or 443 when not given
    std::string path;       // "" when not given, else starts with '/'; as written (encoded)
};
/// Scheme http or https (any case); the host as parse_host_port accepts it; port 1..65535.
/// On failure returns nullopt and sets `why` to one line naming the problem.
std::optional<http_url> parse_http_url(std::string_view text, std::string& why);
std::optional<http_url> parse_http_url(std::string_view text);

/// store.redis.url: redis[s]://[[user]:password@ | password@]host[:port][/db]. A user info
/// without ':' is the password, as redis-cli and the IANA `redis` URI scheme read it.
struct redis_url {
    bool tls = false; // rediss://
    std::string host; // name or address; IPv6 without brackets
    std::uint16_t port = 6379;
    std::string user;     // percent-decoded; empty: AUTH with the password only (or no AUTH)
    std::string password; // percent-decoded; empty: no AUTH
    std::uint32_t db = 0; // 0..15; SELECT when not 0
    friend bool operator==(redis_url const&, redis_url const&) = default;
};
/// Scheme redis or rediss (any case); user and password percent-decoded (an unescaped '@'
/// before the last one is kept in the password, as redis-cli does); the host as
/// parse_host_port accepts it, port 1..65535 (default 6379); an optional `/db` 0..15; no
/// query or fragment. On failure returns nullopt and sets `why` to one line naming the
/// problem, which never repeats the user info.
std::optional<redis_url> parse_redis_url(std::string_view text, std::string& why);
std::optional<redis_url> parse_redis_url(std::string_view text);

/// Where the user info of `url` lies, `[begin, end)` without its '@': from after
/// "scheme://" (the start when there is none) to the last '@' before the first '/', '?' or
/// '#'. Works on any text, a URL or not, so that redacted_url() hides the same user info
/// the parser reads even in a URL it refuses.
struct text_span {
    std::size_t begin = 0;
    std::size_t end = 0;
};
std::optional<text_span> find_userinfo(std::string_view url);

} // namespace idemgate::config
