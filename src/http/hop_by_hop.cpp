#include "idemgate/http/hop_by_hop.hpp"

#include <algorithm>
#include <array>

namespace idemgate::http_server {

namespace {

char to_lower(char c) noexcept {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

/// Field names are case-insensitive (RFC 9110 §5.1).
bool iequals(std::string_view a, std::string_view b) noexcept {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                      [](char x, char y) { return to_lower(x) == to_lower(y); });
}

/// RFC 9110 §7.6.1 plus the legacy fields (Keep-Alive, Proxy-Connection of RFC 7230 §A.1.2)
/// that proxies drop as well.
constexpr std::array<std::string_view, 9> hop_by_hop_fields{"Connection",
                                                            "Keep-Alive",
                                                            "Proxy-Connection",
                                                            "Proxy-Authenticate",
                                                            "Proxy-Authorization",
                                                            "TE",
                                                            "Trailer",
                                                            "Transfer-Encoding",
                                                            "Upgrade"};

std::string_view trim_ows(std::string_view s) noexcept {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

} // namespace

bool is_hop_by_hop(std::string_view name) noexcept {
    return std::any_of(hop_by_hop_fields.begin(), hop_by_hop_fields.end(),
                       [name](std::string_view h) { return iequals(name, h); });
}

bool named_by_connection(std::string_view name, std::string_view connection_value) noexcept {
    if (trim_ows(name).empty()) return false;
    // Connection = #connection-option: a comma list whose empty elements are ignored.
    while (!connection_value.empty()) {
        std::size_t const comma = connection_value.find(',');
        std::string_view const token = trim_ows(connection_value.substr(0, comma));
        if (!token.empty() && iequals(token, name)) return true;
        if (comma == std::string_view::npos) break;
        connection_value.remove_prefix(comma + 1);
    }
    return false;
}

} // namespace idemgate::http_server
