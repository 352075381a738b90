#include "authority.hpp"

#include <cctype>
#include <charconv>

namespace idemgate::config {
namespace detail {
namespace {

namespace urls = boost::urls;

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

std::string port_range(std::uint16_t min) {
    return "the port must be a number from " + std::to_string(min) + " to 65535";
}

std::string not_a_host(std::string_view host) {
    return "\"" + std::string(host) + "\" is not an IPv4 address or a host name";
}

std::string not_ipv6(std::string_view host) {
    return "\"" + std::string(host) + "\" is not an IPv6 address";
}

std::string_view view(urls::string_view text) {
    return {text.data(), text.size()};
}

bool all_digits(std::string_view text) {
    return text.find_first_not_of("0123456789") == std::string_view::npos;
}

} // namespace

std::optional<host_port> checked_host_port(urls::authority_view const& a, port_rule rule,
                                           std::string& why) {
    host_port out;
    switch (a.host_type()) {
    case urls::host_type::ipv4:
        out.host = std::string(view(a.encoded_host()));
        break;
    case urls::host_type::ipv6:
        out.host = std::string(view(a.encoded_host_address())); // as written, without brackets
        out.ipv6 = true;
        break;
    case urls::host_type::ipvfuture:
        why = not_ipv6(view(a.host_ipvfuture()));
        return std::nullopt;
    case urls::host_type::name:
    case urls::host_type::none: {
        // The name as written: a %-escape is no part of a DNS name. Digits and dots only
        // that Boost.URL did not read as IPv4 ("01.2.3.4", "1.2.3") are neither.
        auto const name = view(a.encoded_host());
        bool const dotted = name.find_first_not_of("0123456789.") == std::string_view::npos;
        if (name.empty()) {
            why =
                rule.default_port ? "missing host" : "missing host (0.0.0.0 means every interface)";
            return std::nullopt;
        }
        if (dotted || !is_hostname(name)) {
            why = not_a_host(name);
            return std::nullopt;
        }
        out.host = std::string(name);
        break;
    }
    }
    if (!a.has_port()) {
        if (!rule.default_port) {
            why = "missing :port";
            return std::nullopt;
        }
        out.port = *rule.default_port;
        return out;
    }
    auto const port = port_of(view(a.port()));
    if (!port || *port < rule.min) {
        why = port_range(rule.min);
        return std::nullopt;
    }
    out.port = *port;
    return out;
}

std::string why_not_host_port(std::string_view text, std::uint16_t min_port) {
    if (text.starts_with('[')) {
        auto const close = text.find(']');
        if (close == text.npos) return "missing ] after an IPv6 address";
        auto const rest = text.substr(close + 1);
        if (!rest.empty() && !rest.starts_with(':')) return "expected :port after ]";
        if (!rest.empty() && !all_digits(rest.substr(1))) return port_range(min_port);
        return not_ipv6(text.substr(1, close - 1));
    }
    auto const colon = text.rfind(':');
    auto const host = text.substr(0, colon);
    if (host.find(':') != text.npos) return "write an IPv6 address as [address]:port";
    if (colon != text.npos && !all_digits(text.substr(colon + 1))) return port_range(min_port);
    return not_a_host(host);
}

} // namespace detail

std::optional<host_port> parse_host_port(std::string_view text, std::string& why) {
    if (text.find(':') == text.npos) {
        why = "missing :port (write host:port, e.g. 0.0.0.0:8080)";
        return std::nullopt;
    }
    auto const a = boost::urls::parse_authority(text);
    if (!a) {
        why = detail::why_not_host_port(text, 0);
        return std::nullopt;
    }
    if (a->has_userinfo()) { // "user@host:80": the '@' belongs to no host name
        why = detail::not_a_host(text.substr(0, text.rfind(':')));
        return std::nullopt;
    }
    return detail::checked_host_port(*a, {std::nullopt, 0}, why);
}

std::optional<host_port> parse_host_port(std::string_view text) {
    std::string ignored;
    return parse_host_port(text, ignored);
}

} // namespace idemgate::config
