#pragma once
// Which node serves which hash slot: the answer of CLUSTER SLOTS, checked and searchable.
#include "idemgate/redis/cluster_redirect.hpp"
#include "idemgate/redis/resp.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace idemgate::redis {

/// Slots [first, last] (inclusive, as Redis reports them) and the nodes that hold them.
struct slot_range {
    std::uint16_t first = 0;
    std::uint16_t last = 0;
    node_address primary;
    std::vector<node_address> replicas;
    friend bool operator==(slot_range const&, slot_range const&) = default;
};

/// An immutable snapshot of the cluster's slot table: ranges sorted, never overlapping.
/// A refresh builds a new one (cheap: a cluster has a handful of ranges per primary).
class slot_map {
public:
    slot_map() = default;

    /// Reads a `CLUSTER SLOTS` reply. Each entry: [first, last, primary, replica...], each node
    /// [host, port, id, ...] (fields after the port are ignored: 7.0 adds a metadata map).
    /// An empty or nil host means the node's endpoint is unknown to the cluster; it becomes
    /// `seed_host`, the host the reply came from, as the spec asks clients to do. Returns
    /// nullopt with a reason in `error` for anything else than that shape, a slot beyond
    /// 16383, first > last, a port outside 1..65535, or overlapping ranges: a map we cannot
    /// trust is no map. An empty array is valid (a cluster with no slot assigned yet).
    static std::optional<slot_map> parse(reply const& slots_reply, std::string_view seed_host,
                                         std::string& error);

    /// Builds one from ranges (tests, and maps patched after a MOVED). Same checks as parse.
    static std::optional<slot_map> from_ranges(std::vector<slot_range> ranges, std::string& error);

    /// True when every one of the 16384 slots has a primary (what /readyz will ask).
    bool covers_all() const noexcept;
    /// The primary serving `slot`, or nullptr when no range holds it.
    node_address const* primary_for(std::uint16_t slot) const noexcept;
    /// Distinct primaries, sorted (the connections a router keeps).
    std::vector<node_address> primaries() const;
    std::span<slot_range const> ranges() const noexcept { return ranges_; }

    /// A copy where `slot` alone is served by `owner` (what a MOVED says), splitting the range
    /// that held it. Replicas of the split range are dropped for that slot: a MOVED does not
    /// name them and the next full refresh brings them back.
    slot_map with_owner(std::uint16_t slot, node_address const& owner) const;

private:
    std::vector<slot_range> ranges_;
};

} // namespace idemgate::redis
