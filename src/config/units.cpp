#include "idemgate/config/units.hpp"

#include <array>
#include <limits>

namespace idemgate::config {
namespace {

/// A suffix and how many base units (ms or bytes) it stands for.
struct unit {
    std::string_view suffix;
    std::uint64_t factor;
};

constexpr std::array<unit, 5> duration_units{{
    {"ms", 1},
    {"s", 1000},
    {"m", 60'000},
    {"h", 3'600'000},
    {"d", 86'400'000},
}};

constexpr std::uint64_t kib = 1024;
constexpr std::array<unit, 7> size_units{{
    {"B", 1},
    {"KiB", kib},
    {"MiB", kib* kib},
    {"GiB", kib* kib* kib},
    {"KB", 1000},
    {"MB", 1000 * 1000},
    {"GB", 1000 * 1000 * 1000},
}};

/// Splits "123abc" into its leading digits and the rest; nullopt when there is no digit or
/// the number does not fit in `max`.
struct number_and_suffix {
    std::uint64_t number;
    std::string_view suffix;
};
std::optional<number_and_suffix> split_number(std::string_view text, std::uint64_t max) noexcept {
    std::uint64_t value = 0;
    std::size_t i = 0;
    for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
        auto const digit = static_cast<std::uint64_t>(text[i] - '0');
        if (value > (max - digit) / 10) return std::nullopt; // value * 10 + digit > max
        value = value * 10 + digit;
    }
    if (i == 0) return std::nullopt;
    return number_and_suffix{value, text.substr(i)};
}

/// number * factor when it stays <= max.
template <std::size_t N>
std::optional<std::uint64_t> scale(number_and_suffix const& n, std::array<unit, N> const& units,
                                   std::uint64_t max) noexcept {
    for (auto const& u : units) {
        if (u.suffix != n.suffix) continue;
        if (n.number > max / u.factor) return std::nullopt;
        return n.number * u.factor;
    }
    return std::nullopt;
}

/// "<n><suffix>" with the first unit (largest first) that divides `value` exactly.
template <std::size_t N>
std::string format_exact(std::uint64_t value, std::array<unit, N> const& largest_first) {
    for (auto const& u : largest_first) {
        if (value % u.factor == 0) return std::to_string(value / u.factor) + std::string(u.suffix);
    }
    return std::to_string(value);
}

} // namespace

std::optional<duration> parse_duration(std::string_view text) noexcept {
    constexpr auto max = static_cast<std::uint64_t>(std::numeric_limits<duration::rep>::max());
    auto const n = split_number(text, max);
    if (!n || n->suffix.empty()) return std::nullopt; // a bare number is ambiguous
    auto const ms = scale(*n, duration_units, max);
    if (!ms) return std::nullopt;
    return duration{static_cast<duration::rep>(*ms)};
}

std::optional<byte_size> parse_byte_size(std::string_view text) noexcept {
    constexpr auto max = std::numeric_limits<std::uint64_t>::max();
    auto const n = split_number(text, max);
    if (!n) return std::nullopt;
    if (n->suffix.empty()) return byte_size{n->number};
    auto const bytes = scale(*n, size_units, max);
    if (!bytes) return std::nullopt;
    return byte_size{*bytes};
}

std::string format_duration(duration d) {
    if (d.count() == 0) return "0s";
    constexpr std::array<unit, 5> largest_first{{duration_units[4], duration_units[3],
                                                 duration_units[2], duration_units[1],
                                                 duration_units[0]}};
    auto const count = static_cast<std::uint64_t>(d.count());
    // Unsigned negation gives the magnitude even for the most negative count.
    if (d.count() < 0) return "-" + format_exact(0 - count, largest_first);
    return format_exact(count, largest_first);
}

std::string format_byte_size(byte_size s) {
    if (s.bytes == 0) return "0B";
    // Binary units first (the documented spelling), then SI, then plain bytes.
    constexpr std::array<unit, 7> largest_first{{size_units[3], size_units[2], size_units[1],
                                                 size_units[6], size_units[5], size_units[4],
                                                 size_units[0]}};
    return format_exact(s.bytes, largest_first);
}

} // namespace idemgate::config
