#include "idemgate/http/request_id.hpp"

#include <algorithm>
#include <cstdint>
#include <random>

namespace idemgate::http_server {

namespace {

bool usable(std::string_view id) {
    return !id.empty() && id.size() <= 200 &&
           std::all_of(id.begin(), id.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

std::string random_id() {
    // Ids correlate logs; they are not secrets, so a per-thread PRNG is enough.
    thread_local std::mt19937_64 gen{std::random_device{}()};
    static constexpr char digits[] = "0123456789abcdef";
    std::string out(32, '0');
    for (std::size_t i = 0; i < out.size(); i += 16) {
        auto v = gen();
        for (std::size_t j = 0; j < 16; ++j, v >>= 4) out[i + j] = digits[v & 0xf];
    }
    return out;
}

} // namespace

std::string ensure_request_id(request& req) {
    if (auto it = req.find("X-Request-Id"); it != req.end() && usable(it->value()))
        return std::string(it->value());
    auto id = random_id();
    req.set("X-Request-Id", id);
    return id;
}

} // namespace idemgate::http_server
