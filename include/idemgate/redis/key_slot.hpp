#pragma once
// Redis Cluster's key → hash slot function (the cluster spec's "Keys distribution model").
#include <cstdint>
#include <string_view>

namespace idemgate::redis {

/// Slots of a Redis Cluster: every key maps to one of them, every slot to one primary.
inline constexpr std::uint16_t cluster_slots = 16384;

/// CRC16/XMODEM (polynomial 0x1021, init 0, no reflection), the checksum the spec names.
std::uint16_t crc16(std::string_view bytes) noexcept;

/// The part of `key` that is hashed: the bytes between the first `{` and the first `}` after
/// it when that is not empty (a hash tag, so related keys share a slot), else the whole key.
std::string_view hash_tag(std::string_view key) noexcept;

/// crc16(hash_tag(key)) mod 16384, as `CLUSTER KEYSLOT` answers.
std::uint16_t slot_of(std::string_view key) noexcept;

} // namespace idemgate::redis
