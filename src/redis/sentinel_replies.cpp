#include "idemgate/redis/sentinel_replies.hpp"

#include <array>
#include <charconv>
#include <string>

namespace idemgate::redis {

namespace {

/// A port as sentinels write it: decimal, 1..65535, nothing else.
std::optional<std::uint16_t> parse_port(std::string_view text) {
    unsigned value = 0;
    auto const* end = text.data() + text.size();
    auto const [at, ec] = std::from_chars(text.data(), end, value);
    if (ec != std::errc{} || at != end || value == 0 || value > 65535) return std::nullopt;
    return static_cast<std::uint16_t>(value);
}

} // namespace

bool is_master_role(reply const& role) {
    return role.type == reply_type::array && !role.elements.empty() &&
           role.elements.front().is_string() && role.elements.front().str == "master";
}

std::optional<node_address> parse_master_addr(reply const& r) {
    if (r.type != reply_type::array || r.elements.size() != 2) return std::nullopt;
    auto const& host = r.elements[0];
    auto const& port = r.elements[1];
    if (!host.is_string() || host.str.empty() || !port.is_string()) return std::nullopt;
    auto const p = parse_port(port.str);
    if (!p) return std::nullopt;
    return node_address{host.str, *p};
}

std::optional<node_address> parse_switch_master(std::string_view message,
                                                std::string_view master_name) {
    std::array<std::string_view, 5> fields;
    std::size_t n = 0;
    while (!message.empty()) {
        auto const space = message.find(' ');
        auto const field = message.substr(0, space);
        if (field.empty() || n == fields.size()) return std::nullopt;
        fields[n++] = field;
        if (space == std::string_view::npos) break;
        message.remove_prefix(space + 1);
        if (message.empty()) return std::nullopt; // a trailing space
    }
    if (n != fields.size() || fields[0] != master_name) return std::nullopt;
    auto const port = parse_port(fields[4]);
    if (!port) return std::nullopt;
    return node_address{std::string(fields[3]), *port};
}

} // namespace idemgate::redis
