#include "idemgate/http/target.hpp"

#include <boost/url/parse.hpp>

#include <vector>

namespace idemgate::http_server {

namespace {

char to_lower(char c) noexcept {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (to_lower(a[i]) != to_lower(b[i])) return false;
    return true;
}

int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    c = to_lower(c);
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/// RFC 3986 §2.3: ALPHA / DIGIT / "-" / "." / "_" / "~".
bool is_unreserved(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

/// One path segment with unreserved escapes decoded and the others upper cased (RFC 3986
/// §6.2.2.1–2). `encoded` was validated by Boost.URL: every '%' has two hex digits.
std::string normal_segment(std::string_view encoded) {
    constexpr std::string_view digits = "0123456789ABCDEF";
    std::string out;
    out.reserve(encoded.size());
    for (std::size_t i = 0; i < encoded.size(); ++i) {
        if (encoded[i] != '%' || i + 2 >= encoded.size()) {
            out.push_back(encoded[i]);
            continue;
        }
        auto const v =
            static_cast<unsigned>(hex_value(encoded[i + 1]) * 16 + hex_value(encoded[i + 2]));
        auto const c = static_cast<char>(v);
        if (is_unreserved(c)) {
            out.push_back(c);
        } else {
            out.push_back('%');
            out.push_back(digits[v >> 4]);
            out.push_back(digits[v & 0xF]);
        }
        i += 2;
    }
    return out;
}

/// True when decoding the segment's remaining escapes would reveal a dot segment between
/// slashes or backslashes (`..%2F`, `%2F..`, `..%5C`), or when a path parameter hides one
/// (`..;x`, which servlet containers read as `..`): an upstream that reads them so would
/// climb above our base path.
bool hides_dot_segment(std::string_view segment) {
    auto const before_parameter = segment.substr(0, segment.find(';'));
    if (before_parameter == "." || before_parameter == "..") return true;
    if (segment.find('%') == std::string_view::npos) return false;
    std::string decoded;
    for (std::size_t i = 0; i < segment.size(); ++i) {
        if (segment[i] == '%' && i + 2 < segment.size()) {
            auto const v = hex_value(segment[i + 1]) * 16 + hex_value(segment[i + 2]);
            decoded.push_back(v == '\\' ? '/' : static_cast<char>(v));
            i += 2;
        } else {
            decoded.push_back(segment[i]);
        }
    }
    if (decoded.find('/') == std::string::npos) return false;
    std::size_t start = 0;
    for (;;) {
        auto const end = decoded.find('/', start);
        auto const part = std::string_view(decoded).substr(start, end - start);
        if (part == "." || part == "..") return true;
        if (end == std::string::npos) return false;
        start = end + 1;
    }
}

/// Path and query of a valid origin-form target: the normal form, or nullopt.
std::optional<std::string> normal_origin_form(std::string_view path, std::string_view query,
                                              bool has_query) {
    std::vector<std::string> out;
    bool trailing_slash = false;
    std::size_t start = 1; // path starts with '/'
    while (start <= path.size()) {
        auto end = path.find('/', start);
        if (end == std::string_view::npos) end = path.size();
        auto const raw = path.substr(start, end - start);
        bool const last = end == path.size();
        start = end + 1;
        if (raw.empty()) { // "//" is one "/"; a final empty segment is a trailing slash
            trailing_slash = last;
            continue;
        }
        auto segment = normal_segment(raw);
        trailing_slash = last && (segment == "." || segment == "..");
        if (segment == ".") continue;
        if (segment == "..") {
            if (out.empty()) return std::nullopt; // would climb above the base path
            out.pop_back();
            continue;
        }
        if (hides_dot_segment(segment)) return std::nullopt;
        out.push_back(std::move(segment));
    }
    std::string normal;
    normal.reserve(path.size() + query.size() + 1);
    for (auto const& s : out) normal.append("/").append(s);
    if (normal.empty() || trailing_slash) normal.push_back('/');
    if (has_query) normal.append("?").append(query);
    return normal;
}

/// A path with no escape, no "//" and no dot segment is already in normal form: the common
/// case, kept without building a copy.
bool already_normal(std::string_view path) noexcept {
    return path.find('%') == std::string_view::npos && path.find("//") == std::string_view::npos &&
           path.find("/.") == std::string_view::npos;
}

} // namespace

std::optional<std::string> normalise_target(std::string_view target, std::string_view host) {
    std::string normal;
    switch (check_target(target, host, normal)) {
    case target_check::keep:
        return std::string(target);
    case target_check::rewritten:
        return normal;
    case target_check::refused:
        break;
    }
    return std::nullopt;
}

target_check check_target(std::string_view target, std::string_view host, std::string& normal) {
    auto const rewrite = [&normal](std::optional<std::string> n) {
        if (!n) return target_check::refused;
        normal = std::move(*n);
        return target_check::rewritten;
    };
    if (!target.empty() && target.front() == '/') {
        auto const u = boost::urls::parse_origin_form(target);
        if (!u) return target_check::refused;
        if (already_normal(u->encoded_path())) return target_check::keep;
        return rewrite(normal_origin_form(u->encoded_path(), u->encoded_query(), u->has_query()));
    }
    // RFC 9112 §3.2.2: a server must accept absolute-form; its authority must be the Host
    // the client sent, or the scope and the upstream could disagree about the target.
    auto const u = boost::urls::parse_absolute_uri(target);
    if (!u) return target_check::refused;
    if (!iequals(u->scheme(), "http") && !iequals(u->scheme(), "https"))
        return target_check::refused;
    if (!u->has_authority() || u->has_userinfo() || !iequals(u->encoded_authority(), host))
        return target_check::refused;
    auto const path = u->encoded_path();
    if (!path.empty() && path.front() != '/') return target_check::refused;
    return rewrite(
        normal_origin_form(path.empty() ? "/" : path, u->encoded_query(), u->has_query()));
}

} // namespace idemgate::http_server
