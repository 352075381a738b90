#include "address.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>

namespace idemgate::config {
namespace detail {
namespace {

bool is_ip(int family, std::string const& text) {
    std::array<unsigned char, 16> buffer{};
    return inet_pton(family, text.c_str(), buffer.data()) == 1;
}

/// RFC 1123 names, plus '_' which container runtimes use in service names.
bool is_hostname(std::string_view name) {
    if (name.empty() || name.size() > 253 || name.back() == '-') return false;
    std::size_t label = 0;
    for (std::size_t i = 0; i < name.size(); ++i) {
        char const c = name[i];
        if (c == '.') {
            if (label == 0 || name[i - 1] == '-') return false;
            label = 0;
            continue;
        }
        bool const allowed =
            std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || (c == '-' && label > 0);
        if (!allowed || ++label > 63) return false;
    }
    return true;
}

std::optional<std::uint16_t> port_of(std::string_view text) {
    unsigned value = 0;
    auto const* const end = text.data() + text.size();
    auto const [ptr, ec] = std::from_chars(text.data(), end, value);
    if (text.empty() || text.size() > 5 || ec != std::errc{} || ptr != end || value > 65535) {
        return std::nullopt;
    }
    return static_cast<std::uint16_t>(value);
}

/// host and optional port of "host", "host:port", "[v6]" or "[v6]:port".
struct authority {
    host_port address;
    bool has_port = false;
};

parsed<authority> authority_of(std::string_view text) {
    authority out;
    auto& host = out.address.host;
    std::string_view rest;
    if (text.starts_with('[')) {
        auto const close = text.find(']');
        if (close == text.npos) return "missing ] after an IPv6 address";
        host = std::string(text.substr(1, close - 1));
        out.address.ipv6 = true;
        if (!is_ip(AF_INET6, host)) return "\"" + host + "\" is not an IPv6 address";
        rest = text.substr(close + 1);
        if (!rest.empty() && !rest.starts_with(':')) return "expected :port after ]";
    } else {
        auto const colon = text.rfind(':');
        host = std::string(text.substr(0, colon));
        rest = colon == text.npos ? std::string_view{} : text.substr(colon);
        if (host.find(':') != std::string::npos) return "write an IPv6 address as [address]:port";
        if (host.empty()) return "missing host (0.0.0.0 means every interface)";
        bool const dotted = host.find_first_not_of("0123456789.") == std::string::npos;
        if (dotted ? !is_ip(AF_INET, host) : !is_hostname(host)) {
            return "\"" + host + "\" is not an IPv4 address or a host name";
        }
    }
    if (rest.empty()) return out;
    auto const port = port_of(rest.substr(1));
    if (!port) return "the port must be a number from 0 to 65535";
    out.address.port = *port;
    out.has_port = true;
    return out;
}

/// "%40" -> "@"; nullopt on a bad escape.
std::optional<std::string> percent_decoded(std::string_view text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '%') {
            out += text[i];
            continue;
        }
        if (i + 2 >= text.size()) return std::nullopt;
        unsigned byte = 0;
        auto const* const end = text.data() + i + 3;
        auto const [ptr, ec] = std::from_chars(text.data() + i + 1, end, byte, 16);
        if (ec != std::errc{} || ptr != end) return std::nullopt;
        out += static_cast<char>(byte);
        i += 2;
    }
    return out;
}

/// "scheme://rest" with the scheme matched case-insensitively; the rest, or nullopt.
std::optional<std::string_view> after_scheme(std::string_view url, std::string_view scheme) {
    if (url.size() < scheme.size() + 3 || url.substr(scheme.size(), 3) != "://") return {};
    for (std::size_t i = 0; i < scheme.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(url[i])) != scheme[i]) return {};
    }
    return url.substr(scheme.size() + 3);
}

/// The host part of a URL's authority, with `default_port` when none is written.
parsed<host_port> url_host(std::string_view text, std::uint16_t default_port) {
    if (text.empty()) return "missing host";
    auto a = authority_of(text);
    if (auto const* why = std::get_if<std::string>(&a)) return *why;
    auto& [address, has_port] = std::get<authority>(a);
    if (!has_port) address.port = default_port;
    if (address.port == 0) return "the port must be a number from 1 to 65535";
    return std::move(address);
}

} // namespace

parsed<host_port> host_port_of(std::string_view text) {
    if (text.find(':') == text.npos) return "missing :port (write host:port, e.g. 0.0.0.0:8080)";
    auto a = authority_of(text);
    if (auto const* why = std::get_if<std::string>(&a)) return *why;
    if (!std::get<authority>(a).has_port) return "missing :port";
    return std::move(std::get<authority>(a).address);
}

parsed<http_url> http_url_of(std::string_view text) {
    http_url out;
    auto rest = after_scheme(text, "http");
    if (!rest) {
        rest = after_scheme(text, "https");
        out.tls = true;
    }
    if (!rest) return "the scheme must be http:// or https://";
    if (rest->find_first_of("?#") != rest->npos) return "a query or fragment is not allowed";
    auto const slash = rest->find('/');
    auto const authority_text = rest->substr(0, slash);
    if (authority_text.find('@') != authority_text.npos) return "user info is not allowed";
    auto host = url_host(authority_text, out.tls ? 443 : 80);
    if (auto const* why = std::get_if<std::string>(&host)) return *why;
    out.host = std::move(std::get<host_port>(host).host);
    out.port = std::get<host_port>(host).port;
    if (slash != rest->npos) out.path = std::string(rest->substr(slash));
    return out;
}

parsed<redis_url> redis_url_of(std::string_view text) {
    redis_url out;
    auto rest = after_scheme(text, "redis");
    if (!rest) {
        rest = after_scheme(text, "rediss");
        out.tls = true;
    }
    if (!rest) return "the scheme must be redis:// or rediss://";
    if (rest->find_first_of("?#") != rest->npos) return "query parameters are not supported";
    auto const slash = rest->find('/');
    auto authority_text = rest->substr(0, slash);
    if (auto const at = authority_text.rfind('@'); at != authority_text.npos) {
        auto const userinfo = authority_text.substr(0, at);
        auto const colon = userinfo.find(':');
        if (colon == userinfo.npos) return "write the user info as user:password@ or :password@";
        auto user = percent_decoded(userinfo.substr(0, colon));
        auto password = percent_decoded(userinfo.substr(colon + 1));
        if (!user || !password) return "bad %-escape in the user info";
        out.username = std::move(*user);
        out.password = std::move(*password);
        authority_text = authority_text.substr(at + 1);
    }
    auto host = url_host(authority_text, 6379);
    if (auto const* why = std::get_if<std::string>(&host)) return *why;
    out.host = std::move(std::get<host_port>(host).host);
    out.port = std::get<host_port>(host).port;
    auto const db = slash == rest->npos ? std::string_view{} : rest->substr(slash + 1);
    if (!db.empty()) {
        auto const* const end = db.data() + db.size();
        auto const [ptr, ec] = std::from_chars(db.data(), end, out.database);
        if (ec != std::errc{} || ptr != end || out.database > 15) {
            return "the database must be a number from 0 to 15";
        }
    }
    return out;
}

} // namespace detail

std::optional<host_port> parse_host_port(std::string_view text) {
    auto r = detail::host_port_of(text);
    if (auto* v = std::get_if<host_port>(&r)) return std::move(*v);
    return std::nullopt;
}

std::optional<http_url> parse_http_url(std::string_view text) {
    auto r = detail::http_url_of(text);
    if (auto* v = std::get_if<http_url>(&r)) return std::move(*v);
    return std::nullopt;
}

std::optional<redis_url> parse_redis_url(std::string_view text) {
    auto r = detail::redis_url_of(text);
    if (auto* v = std::get_if<redis_url>(&r)) return std::move(*v);
    return std::nullopt;
}

} // namespace idemgate::config
