#pragma once
// RFC 9110 §7.6.1: fields that describe one connection and never cross a proxy. Pure.
#include <string_view>

namespace idemgate::http_server {

/// True for Connection, Keep-Alive, Proxy-Connection, Proxy-Authenticate,
/// Proxy-Authorization, TE, Trailer, Transfer-Encoding, Upgrade (case-insensitive).
bool is_hop_by_hop(std::string_view name) noexcept;

/// True when `name` is one of the comma-separated tokens of a Connection field value
/// (case-insensitive, optional whitespace ignored).
bool named_by_connection(std::string_view name, std::string_view connection_value) noexcept;

} // namespace idemgate::http_server
