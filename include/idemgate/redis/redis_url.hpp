#pragma once
// `redis://[user[:password]@]host[:port][/db]` and `rediss://` (TLS). Pure; no I/O: the host
// is resolved later with Asio, never with blocking DNS.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace idemgate::redis {

struct redis_url {
    bool tls = false; // rediss://
    std::string host; // name or address; IPv6 without brackets
    std::uint16_t port = 6379;
    std::string user;     // empty: AUTH with the password only (or no AUTH)
    std::string password; // empty: no AUTH
    std::uint32_t db = 0; // SELECT when not 0
    friend bool operator==(redis_url const&, redis_url const&) = default;
};

/// Parses `text`; user and password are percent-decoded. On failure returns nullopt and sets
/// `error` to one line naming the problem (which never repeats the password).
std::optional<redis_url> parse_redis_url(std::string_view text, std::string& error);

/// `host:port` for logs (IPv6 in brackets); never includes credentials.
std::string endpoint_of(redis_url const& u);

} // namespace idemgate::redis
