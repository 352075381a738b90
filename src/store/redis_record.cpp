#include "idemgate/store/redis_record.hpp"

#include <algorithm>
#include <cstring>

namespace idemgate::store::redis_record {

namespace {

/// 18 digits stay below 2^63; a longer number is not one the scripts write.
constexpr std::size_t max_digits = 18;

std::optional<std::int64_t> parse_number(std::string_view s) {
    if (s.empty() || s.size() > max_digits) return std::nullopt;
    std::int64_t n = 0;
    for (char const c : s) {
        if (c < '0' || c > '9') return std::nullopt;
        n = n * 10 + (c - '0');
    }
    return n;
}

void append_fp(std::string& out, fingerprint const& fp) {
    out.append(reinterpret_cast<char const*>(fp.data()), fp.size());
}

fingerprint fp_at_offset(std::string_view value) {
    fingerprint fp{};
    std::memcpy(fp.data(), value.data() + fp_at, fp.size());
    return fp;
}

} // namespace

std::optional<std::string> claim_prefix(fingerprint const& fp, std::string_view owner) {
    if (owner.size() != owner_size) return std::nullopt;
    std::string out;
    out.reserve(clock_at + 1 + max_digits);
    out.push_back('p');
    append_fp(out, fp);
    out.append(owner);
    return out;
}

std::optional<std::string> encode_claim(fingerprint const& fp, std::string_view owner,
                                        clock_kind clock, std::int64_t value) {
    if (value < 0) return std::nullopt;
    auto out = claim_prefix(fp, owner);
    if (!out) return std::nullopt;
    out->push_back(clock == clock_kind::lock_ms ? 'L' : 'C');
    out->append(std::to_string(value));
    return out;
}

std::optional<std::string> encode_completed(fingerprint const& fp, std::int64_t created_ms,
                                            std::string_view response) {
    if (created_ms < 0) return std::nullopt;
    std::string out;
    out.reserve(1 + fp.size() + max_digits + 1 + response.size());
    out.push_back('c');
    append_fp(out, fp);
    out.append(std::to_string(created_ms));
    out.push_back(':');
    out.append(response);
    return out;
}

std::optional<decoded> decode(std::string_view value) {
    if (value.empty()) return std::nullopt;
    decoded out;
    if (value[0] == 'p') {
        // "p" fp owner ("L"|"C") digits
        if (value.size() < clock_at + 2) return std::nullopt;
        char const tag = value[clock_at];
        if (tag != 'L' && tag != 'C') return std::nullopt;
        auto const n = parse_number(value.substr(clock_at + 1));
        if (!n) return std::nullopt;
        out.p.fp = fp_at_offset(value);
        out.p.owner = value.substr(owner_at, owner_size);
        out.p.clock = tag == 'L' ? clock_kind::lock_ms : clock_kind::created_ms;
        out.p.value = *n;
        return out;
    }
    if (value[0] == 'c') {
        // "c" fp digits ":" response
        std::size_t const digits_at = fp_at + 32;
        if (value.size() < digits_at + 2) return std::nullopt;
        auto const colon = value.find(':', digits_at);
        if (colon == std::string_view::npos) return std::nullopt;
        auto const n = parse_number(value.substr(digits_at, colon - digits_at));
        if (!n) return std::nullopt;
        out.done = true;
        out.c.fp = fp_at_offset(value);
        out.c.created_ms = *n;
        out.c.response = value.substr(colon + 1);
        return out;
    }
    return std::nullopt;
}

} // namespace idemgate::store::redis_record
