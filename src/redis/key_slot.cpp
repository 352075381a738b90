#include "idemgate/redis/key_slot.hpp"

#include <array>

namespace idemgate::redis {

namespace {

/// The byte-at-a-time table of CRC16/XMODEM, computed at compile time rather than pasted.
constexpr std::array<std::uint16_t, 256> make_crc16_table() {
    std::array<std::uint16_t, 256> table{};
    for (unsigned i = 0; i < 256; ++i) {
        auto crc = static_cast<std::uint16_t>(i << 8);
        for (int bit = 0; bit < 8; ++bit) {
            crc = (crc & 0x8000) != 0 ? static_cast<std::uint16_t>((crc << 1) ^ 0x1021)
                                      : static_cast<std::uint16_t>(crc << 1);
        }
        table[i] = crc;
    }
    return table;
}

constexpr auto crc16_table = make_crc16_table();

} // namespace

std::uint16_t crc16(std::string_view bytes) noexcept {
    std::uint16_t crc = 0;
    for (char const c : bytes) {
        auto const index =
            static_cast<std::size_t>(((crc >> 8) ^ static_cast<unsigned char>(c)) & 0xffU);
        crc = static_cast<std::uint16_t>((crc << 8) ^ crc16_table[index]);
    }
    return crc;
}

std::string_view hash_tag(std::string_view key) noexcept {
    auto const open = key.find('{');
    if (open == std::string_view::npos) return key;
    auto const close = key.find('}', open + 1);
    // "{}" (nothing between) or no closing brace: the whole key is hashed, as the spec says.
    if (close == std::string_view::npos || close == open + 1) return key;
    return key.substr(open + 1, close - open - 1);
}

std::uint16_t slot_of(std::string_view key) noexcept {
    return static_cast<std::uint16_t>(crc16(hash_tag(key)) % cluster_slots);
}

} // namespace idemgate::redis
