#include "idemgate/store/record_codec.hpp"

#include <cstdint>
#include <string>
#include <utility>

// Layout, all integers little-endian:
//   u8  magic 'I'        u8  version (1)
//   u8  state (1 in_progress, 2 completed)
//   32  fingerprint
//   str owner
//   i64 created_ms (two's complement)
//   u16 status           u8  body_omitted (0 or 1)
//   u32 header count, then per header: str name, str value
//   str body
// where str = u32 length + bytes. Nothing may follow the body.

namespace idemgate::store {

namespace {

constexpr std::uint8_t magic = 'I';
constexpr std::uint8_t version = 1;

void put_uint(std::string& out, std::uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) {
        out.push_back(static_cast<char>(v & 0xFFU));
        v >>= 8U;
    }
}

/// Precondition: s.size() < 4 GiB (bodies are capped by max_stored_body long before).
void put_str(std::string& out, std::string_view s) {
    put_uint(out, static_cast<std::uint32_t>(s.size()), 4);
    out.append(s);
}

/// Bounds-checked cursor: every read checks what is left first, so a corrupt length can
/// neither read past the buffer nor make us allocate more than the input holds.
class reader {
public:
    explicit reader(std::string_view in) noexcept : in_(in) {}

    bool read_uint(std::uint64_t& v, std::size_t bytes) noexcept {
        if (in_.size() < bytes) return false;
        v = 0;
        for (std::size_t i = bytes; i-- > 0;) {
            v = (v << 8U) | static_cast<unsigned char>(in_[i]);
        }
        in_.remove_prefix(bytes);
        return true;
    }

    bool read_bytes(std::string_view& out, std::size_t n) noexcept {
        if (in_.size() < n) return false;
        out = in_.substr(0, n);
        in_.remove_prefix(n);
        return true;
    }

    bool read_str(std::string& out) {
        std::uint64_t n = 0;
        std::string_view bytes;
        if (!read_uint(n, 4) || !read_bytes(bytes, static_cast<std::size_t>(n))) return false;
        out.assign(bytes);
        return true;
    }

    std::size_t remaining() const noexcept { return in_.size(); }

private:
    std::string_view in_;
};

bool read_head(reader& rd, record& r) {
    std::uint64_t m = 0;
    std::uint64_t v = 0;
    std::uint64_t state = 0;
    std::string_view fp;
    if (!rd.read_uint(m, 1) || !rd.read_uint(v, 1) || m != magic || v != version) return false;
    if (!rd.read_uint(state, 1)) return false;
    if (state != static_cast<std::uint8_t>(record_state::in_progress) &&
        state != static_cast<std::uint8_t>(record_state::completed)) {
        return false;
    }
    r.state = static_cast<record_state>(state);
    if (!rd.read_bytes(fp, r.fp.size())) return false;
    for (std::size_t i = 0; i < r.fp.size(); ++i) r.fp[i] = static_cast<std::uint8_t>(fp[i]);
    std::uint64_t created = 0;
    if (!rd.read_str(r.owner) || !rd.read_uint(created, 8)) return false;
    // Two's complement round trip, defined for every value since C++20.
    r.created_ms = static_cast<std::int64_t>(created);
    return true;
}

bool read_response(reader& rd, stored_response& resp) {
    std::uint64_t status = 0;
    std::uint64_t omitted = 0;
    std::uint64_t count = 0;
    if (!rd.read_uint(status, 2) || !rd.read_uint(omitted, 1) || omitted > 1) return false;
    resp.status = static_cast<unsigned>(status);
    resp.body_omitted = omitted == 1;
    if (!rd.read_uint(count, 4)) return false;
    // Each header takes at least its two 4-byte lengths: a larger count is corrupt, and
    // checking it first bounds the reserve() below by the input size.
    if (count > rd.remaining() / 8) return false;
    resp.headers.reserve(static_cast<std::size_t>(count));
    for (std::uint64_t i = 0; i < count; ++i) {
        std::string name;
        std::string value;
        if (!rd.read_str(name) || !rd.read_str(value)) return false;
        resp.headers.emplace_back(std::move(name), std::move(value));
    }
    return rd.read_str(resp.body);
}

} // namespace

std::string encode(record const& r) {
    std::string out;
    std::size_t size =
        2 + 1 + r.fp.size() + 4 + r.owner.size() + 8 + 2 + 1 + 4 + 4 + r.response.body.size();
    for (auto const& [name, value] : r.response.headers) size += 8 + name.size() + value.size();
    out.reserve(size);
    put_uint(out, magic, 1);
    put_uint(out, version, 1);
    put_uint(out, static_cast<std::uint8_t>(r.state), 1);
    out.append(reinterpret_cast<char const*>(r.fp.data()), r.fp.size());
    put_str(out, r.owner);
    put_uint(out, static_cast<std::uint64_t>(r.created_ms), 8);
    // HTTP status codes are three digits (RFC 9110 §15), well inside 16 bits.
    put_uint(out, r.response.status & 0xFFFFU, 2);
    put_uint(out, r.response.body_omitted ? 1 : 0, 1);
    put_uint(out, static_cast<std::uint32_t>(r.response.headers.size()), 4);
    for (auto const& [name, value] : r.response.headers) {
        put_str(out, name);
        put_str(out, value);
    }
    put_str(out, r.response.body);
    return out;
}

std::optional<record> decode(std::string_view bytes) {
    reader rd(bytes);
    record r;
    if (!read_head(rd, r) || !read_response(rd, r.response)) return std::nullopt;
    if (rd.remaining() != 0) return std::nullopt; // trailing bytes: not what we wrote
    return r;
}

} // namespace idemgate::store
