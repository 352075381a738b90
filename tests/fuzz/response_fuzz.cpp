// Upstream side: a response byte stream through proxy::read_response over a loopback socket
// pair (one io_context per input), as the upstream pool reads it. Input: one options byte
// (HEAD request, body limit, how the upstream's writes are cut), then the upstream's bytes.
// The bytes are written twice, on two connections: in one write, and cut in writes of
// `step` bytes, each read by the gateway before the next is written. When the reader
// waits for more and none is coming, the upstream closes its side (EOF).
//
// Invariants, besides no crash and no sanitizer report:
// - the desync class: a connection said reusable has no byte left in its buffer after the
//   response, so no byte after a complete response is handed to the next exchange;
// - a response read is final (never 1xx or 101), has not both framings and a body within
//   the limit;
// - how the writes were cut changes nothing in the response read.
#include "fuzz_check.hpp"
#include "support/socket_pair.hpp"

#include "idemgate/log/log.hpp"
#include "idemgate/proxy/response_reader.hpp"

#include <boost/asio/io_context.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace idemgate::fuzz {
namespace {

struct outcome {
    bool failed = false;
    response res;
    bool reusable = false;
    std::size_t left = 0; // bytes left in the connection's buffer
};

task<void> read_into(tcp::socket& s, beast::flat_buffer& buf, bool head, std::uint64_t limit,
                     std::optional<proxy::read_result>& out) {
    out = co_await proxy::read_response(s, buf, head, limit);
}

/// Runs every handler that is ready, so the reader has taken in all that was written.
void settle(net::io_context& ioc) {
    while (ioc.poll() != 0) {}
    ioc.restart();
}

/// Writes `bytes` without blocking: when the socket's buffers are full, the reader runs.
void write_all(net::io_context& ioc, tcp::socket& s, std::string_view bytes) {
    s.non_blocking(true);
    while (!bytes.empty()) {
        error_code ec;
        auto const n = s.write_some(net::buffer(bytes.data(), bytes.size()), ec);
        if (ec && ec != net::error::would_block) return; // the reader gave up and closed
        bytes.remove_prefix(n);
        settle(ioc);
    }
}

outcome read_cut(std::string_view wire, std::size_t step, bool head, std::uint64_t limit) {
    net::io_context ioc;
    test::socket_pair pair(ioc);
    beast::flat_buffer buf{proxy::max_response_head};
    std::optional<proxy::read_result> got;
    net::co_spawn(ioc, read_into(pair.a, buf, head, limit, got), net::detached);
    settle(ioc);
    while (!got && !wire.empty()) {
        auto const n = std::min(step, wire.size());
        write_all(ioc, pair.b, wire.substr(0, n));
        wire.remove_prefix(n);
        settle(ioc);
    }
    if (!got) {
        pair.b.shutdown(tcp::socket::shutdown_send);
        ioc.run();
    }
    FUZZ_CHECK(got.has_value());
    return {static_cast<bool>(got->ec), std::move(got->res), got->reusable, buf.size()};
}

void check_one(outcome const& o, std::uint64_t limit) {
    if (o.failed) {
        FUZZ_CHECK(!o.reusable);
        return;
    }
    // No byte after a complete response reaches the next exchange.
    if (o.reusable) FUZZ_CHECK(o.left == 0);
    auto const status = o.res.result_int();
    FUZZ_CHECK(status / 100 != 1);
    FUZZ_CHECK(!(o.res.count(http::field::transfer_encoding) != 0 &&
                 o.res.count(http::field::content_length) != 0));
    FUZZ_CHECK(o.res.body().size() <= limit);
    if (o.reusable) FUZZ_CHECK(o.res.keep_alive());
}

using field_list = std::vector<std::pair<std::string, std::string>>;

field_list fields_of(response const& res) {
    field_list out;
    for (auto const& f : res) out.emplace_back(f.name_string(), f.value());
    return out;
}

} // namespace
} // namespace idemgate::fuzz

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
    using namespace idemgate;
    // A head over the 64 KiB bound and a little body: nothing new lies beyond.
    if (size == 0 || size > 100'000) return 0;
    static bool const quiet = [] { // "upstream sent more data": a line per input otherwise
        config::log_config cfg;
        cfg.level = "off";
        log::setup(cfg);
        return true;
    }();
    (void)quiet;
    auto const opt = data[0];
    constexpr std::array<std::size_t, 8> steps{1, 2, 3, 5, 8, 13, 64, 1024};
    bool const head = (opt & 8U) != 0;
    std::uint64_t const limit = (opt & 16U) != 0 ? 16 : 1024 * 1024;
    std::string_view const wire(reinterpret_cast<char const*>(data) + 1, size - 1);
    auto const whole = fuzz::read_cut(wire, wire.size() + 1, head, limit);
    auto const cut = fuzz::read_cut(wire, steps[opt & 7U], head, limit);
    fuzz::check_one(whole, limit);
    fuzz::check_one(cut, limit);
    FUZZ_CHECK(whole.failed == cut.failed);
    if (!whole.failed) {
        FUZZ_CHECK(whole.res.result_int() == cut.res.result_int());
        FUZZ_CHECK(fuzz::fields_of(whole.res) == fuzz::fields_of(cut.res));
        FUZZ_CHECK(whole.res.body() == cut.res.body());
    }
    return 0;
}
