#include "idemgate/config/url.hpp"
#include "authority.hpp"

#include <boost/url/grammar/lut_chars.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/pct_string_view.hpp>
#include <boost/url/rfc/sub_delim_chars.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

#include <cctype>
#include <charconv>
#include <initializer_list>

namespace idemgate::config {
namespace {

namespace urls = boost::urls;

constexpr std::uint16_t http_port = 80;
constexpr std::uint16_t https_port = 443;
constexpr std::uint16_t redis_port = 6379;

/// The index in `schemes` of the scheme `url` starts with, followed by "://" (RFC 3986 §3.1:
/// schemes are case-insensitive); nullopt when none matches.
std::optional<std::size_t> scheme_of(std::string_view url,
                                     std::initializer_list<std::string_view> schemes) {
    std::size_t index = 0;
    for (auto const scheme : schemes) {
        bool match = url.size() >= scheme.size() + 3 && url.substr(scheme.size(), 3) == "://";
        for (std::size_t i = 0; match && i < scheme.size(); ++i) {
            match = std::tolower(static_cast<unsigned char>(url[i])) == scheme[i];
        }
        if (match) return index;
        ++index;
    }
    return std::nullopt;
}

/// What a failure of parse_absolute_uri means, for a URL whose scheme was already matched:
/// the authority first (user info, host, port), then the query or fragment, then the path.
struct failure_messages {
    std::string_view query;
    std::string_view path;
    std::uint16_t min_port = 1;
};

std::string why_not_url(std::string_view url, failure_messages const& says) {
    auto const start = url.find("://") + 3;
    auto const end = url.find_first_of("/?#", start);
    auto host_and_port = url.substr(start, end == url.npos ? url.npos : end - start);
    if (auto const info = find_userinfo(url)) {
        auto const userinfo = url.substr(info->begin, info->end - info->begin);
        if (!urls::make_pct_string_view(userinfo)) return "bad %-escape in the user info";
        host_and_port = url.substr(info->end + 1, end == url.npos ? url.npos : end - info->end - 1);
    }
    if (!urls::parse_authority(host_and_port)) {
        return detail::why_not_host_port(host_and_port, says.min_port);
    }
    if (end != url.npos && url.find_first_of("?#", end) != url.npos) return std::string(says.query);
    return std::string(says.path);
}

/// redis-cli reads everything up to the last '@' of the authority as the user info, so a
/// password may hold an unescaped '@' (or another character RFC 3986 wants escaped).
/// Boost.URL follows RFC 3986: escape those characters first; a '%' stays as written, so a
/// malformed escape is still refused.
std::string with_userinfo_escaped(std::string_view url) {
    auto const info = find_userinfo(url);
    if (!info) return std::string(url);
    // By hand: urls::encode always escapes '%' (its character set may not hold it; Boost
    // asserts so in a debug build), and a '%' here must stay as written.
    constexpr auto kept =
        urls::unreserved_chars + urls::sub_delim_chars + urls::grammar::lut_chars(":%");
    constexpr std::string_view hex = "0123456789ABCDEF";
    std::string out(url.substr(0, info->begin));
    for (char const c : url.substr(info->begin, info->end - info->begin)) {
        auto const u = static_cast<unsigned char>(c);
        if (kept(u)) {
            out.push_back(c);
            continue;
        }
        out.push_back('%');
        out.push_back(hex[u >> 4U]);
        out.push_back(hex[u & 0x0FU]);
    }
    out += url.substr(info->end);
    return out;
}

/// parse_absolute_uri, plus the rule Boost.URL 1.81 skips: after an authority the path is
/// empty or starts with '/' (RFC 3986 §3.3), so "http://h:80x" is no URL with path "x".
std::optional<urls::url_view> absolute_url(std::string_view text) {
    auto const url = urls::parse_absolute_uri(text);
    if (!url) return std::nullopt;
    auto const path = url->encoded_path();
    if (!path.empty() && path.front() != '/') return std::nullopt;
    return *url;
}

/// "" or "/" -> 0; "/7" -> 7; nullopt for anything else or a database above 15.
std::optional<std::uint32_t> database_of(std::string_view path) {
    if (path.empty() || path == "/") return 0;
    std::uint32_t db = 0;
    auto const digits = path.substr(1);
    auto const* const end = digits.data() + digits.size();
    auto const [ptr, ec] = std::from_chars(digits.data(), end, db);
    if (ec != std::errc{} || ptr != end || db > 15) return std::nullopt;
    return db;
}

} // namespace

std::optional<http_url> parse_http_url(std::string_view text, std::string& why) {
    auto const scheme = scheme_of(text, {"http", "https"});
    if (!scheme) {
        why = "the scheme must be http:// or https://";
        return std::nullopt;
    }
    http_url out;
    out.tls = *scheme == 1;
    auto const url = absolute_url(text);
    if (!url) {
        if (find_userinfo(text)) {
            why = "user info is not allowed";
        } else {
            why = why_not_url(text, {"a query or fragment is not allowed",
                                     "the path has a character that must be %-escaped"});
        }
        return std::nullopt;
    }
    if (url->has_query() || url->has_fragment()) {
        why = "a query or fragment is not allowed";
        return std::nullopt;
    }
    if (url->has_userinfo()) {
        why = "user info is not allowed";
        return std::nullopt;
    }
    auto host =
        detail::checked_host_port(url->authority(), {out.tls ? https_port : http_port}, why);
    if (!host) return std::nullopt;
    out.host = std::move(host->host);
    out.port = host->port;
    out.path = std::string(url->encoded_path());
    return out;
}

std::optional<redis_url> parse_redis_url(std::string_view text, std::string& why) {
    auto const scheme = scheme_of(text, {"redis", "rediss"});
    if (!scheme) {
        why = "the scheme must be redis:// or rediss://";
        return std::nullopt;
    }
    redis_url out;
    out.tls = *scheme == 1;
    auto const escaped = with_userinfo_escaped(text);
    auto const url = absolute_url(escaped);
    if (!url) {
        why = why_not_url(escaped, {"query parameters are not supported",
                                    "the database must be a number from 0 to 15"});
        return std::nullopt;
    }
    if (url->has_query() || url->has_fragment()) {
        why = "query parameters are not supported";
        return std::nullopt;
    }
    auto host = detail::checked_host_port(url->authority(), {redis_port}, why);
    if (!host) return std::nullopt;
    out.host = std::move(host->host);
    out.port = host->port;
    if (url->has_password()) {
        out.user = url->user();
        out.password = url->password();
    } else if (url->has_userinfo()) {
        // redis://secret@host: the lone user info is the password (redis-cli, and the IANA
        // `redis` URI scheme), so a URL copied from those clients authenticates the same.
        out.password = url->user();
    }
    auto const db = database_of(url->encoded_path());
    if (!db) {
        why = "the database must be a number from 0 to 15";
        return std::nullopt;
    }
    out.db = *db;
    return out;
}

std::optional<http_url> parse_http_url(std::string_view text) {
    std::string ignored;
    return parse_http_url(text, ignored);
}

std::optional<redis_url> parse_redis_url(std::string_view text) {
    std::string ignored;
    return parse_redis_url(text, ignored);
}

std::optional<text_span> find_userinfo(std::string_view url) {
    auto const scheme_end = url.find("://");
    auto const start = scheme_end == url.npos ? 0 : scheme_end + 3;
    auto const authority_end = url.find_first_of("/?#", start);
    auto const authority =
        url.substr(start, authority_end == url.npos ? url.npos : authority_end - start);
    auto const at = authority.rfind('@');
    if (at == authority.npos) return std::nullopt;
    return text_span{start, start + at};
}

} // namespace idemgate::config
