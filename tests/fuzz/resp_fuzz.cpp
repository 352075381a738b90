// The RESP reader (redis/resp.hpp): the bytes a Redis server (or whatever answers on its
// port) sends. Input: one options byte (how the stream is cut), then the bytes.
//
// Invariants, besides no crash and no sanitizer report:
// - how the stream is cut into feeds changes neither the replies nor the failure;
// - every reply read, written back as RESP, reads back as the same reply.
#include "fuzz_check.hpp"

#include "idemgate/redis/resp.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace idemgate::fuzz {
namespace {

using redis::reply;
using redis::reply_type;

struct parsed {
    std::vector<reply> replies;
    bool failed = false;
};

/// Feeds `bytes` in pieces of `step` and takes every complete reply after each feed, as
/// the connection does after each read.
parsed parse(std::string_view bytes, std::size_t step) {
    parsed out;
    redis::reply_parser p;
    while (!bytes.empty() && !p.failed()) {
        auto const n = std::min(step, bytes.size());
        p.feed(bytes.substr(0, n));
        bytes.remove_prefix(n);
        while (auto r = p.next()) out.replies.push_back(std::move(*r));
    }
    out.failed = p.failed();
    return out;
}

/// RESP2 text of a reply: the writer the reader is checked against.
void write(reply const& r, std::string& out) {
    switch (r.type) {
    case reply_type::nil:
        out += "$-1\r\n";
        return;
    case reply_type::integer:
        out += ':' + std::to_string(r.integer) + "\r\n";
        return;
    case reply_type::simple_string:
        out += '+' + r.str + "\r\n";
        return;
    case reply_type::error:
        out += '-' + r.str + "\r\n";
        return;
    case reply_type::bulk_string:
        out += '$' + std::to_string(r.str.size()) + "\r\n" + r.str + "\r\n";
        return;
    case reply_type::array:
        out += '*' + std::to_string(r.elements.size()) + "\r\n";
        for (auto const& e : r.elements) write(e, out);
        return;
    }
}

} // namespace
} // namespace idemgate::fuzz

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
    using namespace idemgate::fuzz;
    if (size == 0) return 0;
    constexpr std::array<std::size_t, 8> steps{1, 2, 3, 5, 8, 16, 64, 1 << 20};
    std::string_view const bytes(reinterpret_cast<char const*>(data) + 1, size - 1);
    auto const whole = parse(bytes, bytes.size() + 1);
    auto const cut = parse(bytes, steps[data[0] & 7U]);
    FUZZ_CHECK(whole.failed == cut.failed);
    FUZZ_CHECK(whole.replies == cut.replies);
    for (auto const& r : whole.replies) {
        std::string text;
        write(r, text);
        auto const back = parse(text, text.size() + 1);
        FUZZ_CHECK(!back.failed && back.replies.size() == 1 && back.replies[0] == r);
    }
    return 0;
}
