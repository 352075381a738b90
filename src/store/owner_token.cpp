#include "idemgate/store/owner_token.hpp"

#include <openssl/rand.h>

#include <array>
#include <cstddef>
#include <cstdint>

namespace idemgate::store {

std::optional<owner_token> make_owner_token() {
    // 64 random bits drawn once per thread, then a counter: unique across threads, processes
    // and replicas without a RAND_bytes call (and its getpid fork check) on every request.
    struct source {
        std::uint64_t prefix = 0;
        std::uint64_t next = 0;
        bool seeded = false;
    };
    thread_local source src;
    if (!src.seeded) {
        std::array<unsigned char, 8> raw{};
        if (RAND_bytes(raw.data(), static_cast<int>(raw.size())) != 1) return std::nullopt;
        for (unsigned char const b : raw) src.prefix = (src.prefix << 8U) | b;
        src.seeded = true;
    }
    static constexpr char digits[] = "0123456789abcdef";
    owner_token token(32, '0');
    std::array<std::uint64_t, 2> const parts{src.prefix, src.next++};
    for (std::size_t p = 0; p < 2; ++p) {
        for (std::size_t i = 0; i < 16; ++i) {
            token[p * 16 + i] = digits[(parts[p] >> (60U - 4U * i)) & 0x0FU];
        }
    }
    return token;
}

} // namespace idemgate::store
