#include "idemgate/redis/cluster_redirect.hpp"

#include "idemgate/redis/key_slot.hpp"

#include <charconv>

namespace idemgate::redis {

namespace {

/// A decimal number of [0, limit], all of `text` (no sign, no spaces).
std::optional<std::uint32_t> parse_number(std::string_view text, std::uint32_t limit) {
    std::uint32_t value = 0;
    auto const* const end = text.data() + text.size();
    auto const [ptr, ec] = std::from_chars(text.data(), end, value);
    if (text.empty() || ec != std::errc{} || ptr != end || value > limit) return std::nullopt;
    return value;
}

} // namespace

std::string node_address::to_string() const {
    auto const p = std::to_string(port);
    return host.find(':') != std::string::npos ? "[" + host + "]:" + p : host + ":" + p;
}

std::optional<node_address> parse_node_address(std::string_view text) {
    auto const colon = text.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    auto host = text.substr(0, colon);
    if (host.starts_with('[')) {
        if (!host.ends_with(']')) return std::nullopt;
        host = host.substr(1, host.size() - 2);
    }
    // Spaces or brackets left in the host mean a garbled line, not a name to resolve.
    if (host.find_first_of(" []") != std::string_view::npos) return std::nullopt;
    auto const port = parse_number(text.substr(colon + 1), 65535);
    if (!port || *port == 0) return std::nullopt;
    return node_address{std::string(host), static_cast<std::uint16_t>(*port)};
}

std::optional<redirect> parse_redirect(std::string_view error) {
    if (error.starts_with('-')) error.remove_prefix(1);
    redirect out;
    if (error.starts_with("MOVED ")) {
        out.kind = redirect_kind::moved;
        error.remove_prefix(6);
    } else if (error.starts_with("ASK ")) {
        out.kind = redirect_kind::ask;
        error.remove_prefix(4);
    } else {
        return std::nullopt;
    }
    auto const space = error.find(' ');
    if (space == std::string_view::npos) return std::nullopt;
    auto const slot = parse_number(error.substr(0, space), cluster_slots - 1);
    auto target = parse_node_address(error.substr(space + 1));
    if (!slot || !target) return std::nullopt;
    out.slot = static_cast<std::uint16_t>(*slot);
    out.target = std::move(*target);
    return out;
}

} // namespace idemgate::redis
