#pragma once
// Cluster node addresses and the -MOVED / -ASK redirections that name them.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace idemgate::redis {

/// A node as the cluster names it. `host` may be empty: Redis sends an empty endpoint when
/// the node's own is unknown to it, meaning "the host you used to reach me".
struct node_address {
    std::string host;
    std::uint16_t port = 0;

    /// "host:port", with an IPv6 host in brackets ("[::1]:7000").
    std::string to_string() const;
    friend bool operator==(node_address const&, node_address const&) = default;
    /// By host then port (a map key; sorted lists). Written out: clang-tidy 14 misreads a
    /// defaulted operator<=> (modernize-use-nullptr).
    friend bool operator<(node_address const& a, node_address const& b) {
        return a.host != b.host ? a.host < b.host : a.port < b.port;
    }
};

/// Parses "host:port", "[v6]:port" or a bare "v6:port" (the last colon splits, as Redis
/// writes IPv6 endpoints in redirects without brackets). Port 1..65535; nullopt otherwise.
std::optional<node_address> parse_node_address(std::string_view text);

enum class redirect_kind { moved, ask };

/// A redirection error: the slot lives (MOVED) or is being imported (ASK) at `target`.
struct redirect {
    redirect_kind kind = redirect_kind::moved;
    std::uint16_t slot = 0;
    node_address target;
    friend bool operator==(redirect const&, redirect const&) = default;
};

/// Parses the text of an error reply, "MOVED <slot> <host>:<port>" or
/// "ASK <slot> <host>:<port>" (a leading '-' is allowed). nullopt for any other error and
/// for a malformed redirect (slot beyond 16383, bad port, extra fields): the caller then
/// treats it as the plain error it is.
std::optional<redirect> parse_redirect(std::string_view error);

} // namespace idemgate::redis
