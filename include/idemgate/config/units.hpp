#pragma once
// Strict parsing of durations ("500ms", "60s", "24h") and sizes ("4MiB").
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace idemgate::config {

using duration = std::chrono::milliseconds;

/// Size in bytes.
struct byte_size {
    std::uint64_t bytes = 0;
    friend bool operator==(byte_size, byte_size) = default;
};

/// Accepts `<digits><unit>` with unit in ms, s, m, h, d (e.g. "500ms", "1h"); no sign, no
/// fraction, no spaces, no overflow. Returns nullopt otherwise.
std::optional<duration> parse_duration(std::string_view text) noexcept;

/// Accepts `<digits>` (bytes) or `<digits><unit>` with unit in B, KiB, MiB, GiB, KB, MB, GB
/// (KB = 1000). Returns nullopt on anything else or on overflow.
std::optional<byte_size> parse_byte_size(std::string_view text) noexcept;

/// "1500ms" -> "1500ms", 60000 -> "60s", 86400000 -> "24h": the largest exact unit.
std::string format_duration(duration d);
/// 4194304 -> "4MiB": the largest exact binary unit.
std::string format_byte_size(byte_size s);

} // namespace idemgate::config
