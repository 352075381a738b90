#include "idemgate/redis/cluster_slot_map.hpp"

#include "idemgate/redis/key_slot.hpp"

#include <algorithm>

namespace idemgate::redis {

namespace {

bool is_slot(reply const& r) {
    return r.type == reply_type::integer && r.integer >= 0 && r.integer < cluster_slots;
}

/// [host, port, ...]; an unknown (empty or nil) host becomes `seed_host`.
std::optional<node_address> parse_node(reply const& r, std::string_view seed_host,
                                       std::string& error) {
    if (r.type != reply_type::array || r.elements.size() < 2) {
        error = "a node is not an array of host, port, ...";
        return std::nullopt;
    }
    auto const& host = r.elements[0];
    auto const& port = r.elements[1];
    if (host.type != reply_type::nil && !host.is_string()) {
        error = "a node's host is not a string";
        return std::nullopt;
    }
    if (port.type != reply_type::integer || port.integer < 1 || port.integer > 65535) {
        error = "a node's port is not in 1..65535";
        return std::nullopt;
    }
    node_address out{host.str.empty() ? std::string(seed_host) : host.str,
                     static_cast<std::uint16_t>(port.integer)};
    // "?" is how 7.0 spells an endpoint it knows it does not know (preferred endpoint type
    // unknown-endpoint): nobody can be reached there, so the map is unusable.
    if (out.host == "?" || out.host.empty()) {
        error = "a node has no usable endpoint";
        return std::nullopt;
    }
    return out;
}

} // namespace

std::optional<slot_map> slot_map::parse(reply const& slots_reply, std::string_view seed_host,
                                        std::string& error) {
    if (slots_reply.type != reply_type::array) {
        error = slots_reply.is_error() ? "CLUSTER SLOTS failed: " + slots_reply.str
                                       : "CLUSTER SLOTS did not answer an array";
        return std::nullopt;
    }
    std::vector<slot_range> ranges;
    ranges.reserve(slots_reply.elements.size());
    for (auto const& entry : slots_reply.elements) {
        if (entry.type != reply_type::array || entry.elements.size() < 3) {
            error = "a range is not an array of first, last, primary, replicas...";
            return std::nullopt;
        }
        if (!is_slot(entry.elements[0]) || !is_slot(entry.elements[1])) {
            error = "a range's slots are not integers in 0..16383";
            return std::nullopt;
        }
        slot_range range;
        range.first = static_cast<std::uint16_t>(entry.elements[0].integer);
        range.last = static_cast<std::uint16_t>(entry.elements[1].integer);
        auto primary = parse_node(entry.elements[2], seed_host, error);
        if (!primary) return std::nullopt;
        range.primary = std::move(*primary);
        for (std::size_t i = 3; i < entry.elements.size(); ++i) {
            auto replica = parse_node(entry.elements[i], seed_host, error);
            if (!replica) return std::nullopt;
            range.replicas.push_back(std::move(*replica));
        }
        ranges.push_back(std::move(range));
    }
    return from_ranges(std::move(ranges), error);
}

std::optional<slot_map> slot_map::from_ranges(std::vector<slot_range> ranges, std::string& error) {
    std::ranges::sort(ranges, {}, &slot_range::first);
    for (std::size_t i = 0; i < ranges.size(); ++i) {
        if (ranges[i].first > ranges[i].last || ranges[i].last >= cluster_slots) {
            error = "a range ends before it starts or beyond slot 16383";
            return std::nullopt;
        }
        if (i > 0 && ranges[i].first <= ranges[i - 1].last) {
            error = "two ranges overlap at slot " + std::to_string(ranges[i].first);
            return std::nullopt;
        }
        if (ranges[i].primary.host.empty() || ranges[i].primary.port == 0) {
            error = "a range has no primary";
            return std::nullopt;
        }
    }
    slot_map out;
    out.ranges_ = std::move(ranges);
    return out;
}

bool slot_map::covers_all() const noexcept {
    std::uint32_t next = 0; // the first slot not yet seen covered
    for (auto const& r : ranges_) {
        if (r.first != next) return false;
        next = r.last + 1U;
    }
    return next == cluster_slots;
}

node_address const* slot_map::primary_for(std::uint16_t slot) const noexcept {
    // The last range starting at or before `slot`, if it reaches it.
    auto const it = std::ranges::upper_bound(ranges_, slot, {}, &slot_range::first);
    if (it == ranges_.begin()) return nullptr;
    auto const& r = *std::prev(it);
    return slot <= r.last ? &r.primary : nullptr;
}

std::vector<node_address> slot_map::primaries() const {
    std::vector<node_address> out;
    for (auto const& r : ranges_) out.push_back(r.primary);
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

slot_map slot_map::with_owner(std::uint16_t slot, node_address const& owner) const {
    slot_map out;
    bool placed = false;
    auto const place = [&] {
        if (!placed) out.ranges_.push_back(slot_range{slot, slot, owner, {}});
        placed = true;
    };
    for (auto const& r : ranges_) {
        if (slot < r.first) place();
        if (slot < r.first || slot > r.last) {
            out.ranges_.push_back(r);
            continue;
        }
        if (r.first < slot) {
            out.ranges_.push_back(
                slot_range{r.first, static_cast<std::uint16_t>(slot - 1), r.primary, r.replicas});
        }
        place();
        if (slot < r.last) {
            out.ranges_.push_back(
                slot_range{static_cast<std::uint16_t>(slot + 1), r.last, r.primary, r.replicas});
        }
    }
    place();
    return out;
}

} // namespace idemgate::redis
