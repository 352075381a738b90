// Client side: a whole request byte stream (head, body, chunks, trailers, pipelined requests)
// read as the session reads it (http/request_reader.hpp around Beast's read algorithms),
// then classified, keyed, scoped, fingerprinted and prepared for the upstream as the engine
// does. Input: one options byte, then the bytes the client sent.
//
// Invariants, besides no crash and no sanitizer report:
// - a request whose framing or head was refused is never forwarded, nor anything after it
//   on the connection (the session answers and closes);
// - trailers never reach the request (its fields are exactly those of its head);
// - a protected request has a key of 1..max visible ASCII and an API key;
// - the path scoped is the path forwarded (after the base path), in its one normal form;
// - the forwarded request has no hop-by-hop field, no field its Connection named, no
//   Transfer-Encoding, at most one Content-Length equal to its body's size (exactly one
//   when it has a body or is POST, PATCH or PUT), and serialises to bytes that parse back
//   as exactly one request with the same method, target, fields and body.
#include "byte_stream.hpp"
#include "fuzz_check.hpp"

#include "idemgate/engine/classify.hpp"
#include "idemgate/engine/engine.hpp"
#include "idemgate/engine/fingerprint.hpp"
#include "idemgate/engine/scope.hpp"
#include "idemgate/http/request_reader.hpp"
#include "idemgate/http/target.hpp"
#include "idemgate/http/wire.hpp"
#include "idemgate/proxy/forward.hpp"

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/range/iterator_range.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace idemgate::fuzz {
namespace {

using field_list = std::vector<std::pair<std::string, std::string>>;

field_list fields_of(request const& req) {
    field_list out;
    for (auto const& f : req) out.emplace_back(f.name_string(), f.value());
    return out;
}

/// The config and rules one input runs under, chosen by its first byte.
struct setup {
    explicit setup(std::uint8_t opt) {
        constexpr std::array<std::size_t, 8> steps{1, 2, 3, 7, 16, 64, 512, 1 << 20};
        step = steps[opt & 7U];
        if ((opt & 8U) != 0) { // tight limits, so that 413 and 431 are reached
            cfg.limits.max_header_bytes.bytes = 512;
            cfg.limits.max_request_body.bytes = 64;
            cfg.limits.max_headers = 8;
            cfg.idempotency.max_key_length = 16;
            cfg.idempotency.fingerprint = config::fingerprint_mode::canonical_json;
            cfg.idempotency.missing_key = config::missing_key_mode::reject;
        }
        constexpr std::array<config::underscores_mode, 4> modes{
            config::underscores_mode::drop, config::underscores_mode::allow,
            config::underscores_mode::reject, config::underscores_mode::drop};
        cfg.limits.headers_with_underscores = modes[(opt >> 4U) & 3U];
        if ((opt & 64U) != 0) cfg.idempotency.credential = "header:X-Api-Key";
        if ((opt & 128U) != 0) base_path = "/api/v2";
        rules = http_server::make_head_rules(cfg);
    }
    config::config cfg;
    http_server::head_rules rules;
    std::string base_path;
    std::size_t step = 1;
    engine::scope_hasher scopes{"fuzz-secret"};
};

/// One request, read as http_server::read_request reads it; nullopt: the session answers an
/// error (or nothing) and closes. The budget and `100 Continue` are left out: no parsing.
std::optional<request> read_one(byte_stream& in, beast::flat_buffer& buf, setup const& s) {
    http_server::request_parser parser;
    http_server::limit_parser(parser, s.cfg.limits);
    error_code ec;
    http::read_header(in, buf, parser, ec);
    if (ec) return std::nullopt;
    http_server::head_fields head;
    if (http_server::accept_head(parser, s.rules, head) != errc::ok) return std::nullopt;
    auto const head_list = fields_of(parser.get());
    if (!parser.is_done()) {
        http::read(in, buf, parser, ec);
        if (ec) return std::nullopt;
    }
    FUZZ_CHECK(parser.is_done());
    auto req = http_server::take_request(parser, head);
    FUZZ_CHECK(fields_of(req) == head_list); // no trailer merged, no field lost
    return req;
}

void check_protected(engine::classification const& c, config::idempotency_config const& cfg) {
    FUZZ_CHECK(!c.key.empty() && c.key.size() <= cfg.max_key_length);
    for (char const ch : c.key) FUZZ_CHECK(ch >= 0x21 && ch <= 0x7E);
    FUZZ_CHECK(!c.api_key.empty());
}

/// RFC 9110 §7.6.1 (and RFC 9112 §7.4, Proxy-Connection): written out here rather than
/// taken from the gateway's list, so that the check does not share its mistakes.
bool hop_by_hop(std::string_view name) {
    for (std::string_view const h :
         {"Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate",
          "Proxy-Authorization", "TE", "Trailer", "Transfer-Encoding", "Upgrade"})
        if (beast::iequals(name, h)) return true;
    return false;
}

/// Whether `name` is one of the comma-separated tokens of `connection` (OWS trimmed).
bool named_by(std::string_view name, std::string_view connection) {
    while (!connection.empty()) {
        auto const comma = connection.find(',');
        auto token = connection.substr(0, comma);
        connection = comma == std::string_view::npos ? "" : connection.substr(comma + 1);
        while (!token.empty() && (token.front() == ' ' || token.front() == '\t'))
            token.remove_prefix(1);
        while (!token.empty() && (token.back() == ' ' || token.back() == '\t'))
            token.remove_suffix(1);
        if (beast::iequals(token, name)) return true;
    }
    return false;
}

/// Fields the forwarded request may carry although its Connection named them: the proxy
/// sets them itself after dropping the client's.
bool set_by_proxy(std::string_view name) {
    return beast::iequals(name, "Content-Length") || beast::iequals(name, "X-Forwarded-For") ||
           beast::iequals(name, "X-Forwarded-Proto");
}

void check_forwarded(request const& fwd, std::string const& connection, std::string_view target,
                     setup const& s) {
    FUZZ_CHECK(fwd.target() == s.base_path + std::string(target));
    FUZZ_CHECK(fwd.count(http::field::transfer_encoding) == 0);
    FUZZ_CHECK(fwd.count(http::field::content_length) <= 1);
    bool const framed = !fwd.body().empty() || fwd.method() == http::verb::post ||
                        fwd.method() == http::verb::patch || fwd.method() == http::verb::put;
    FUZZ_CHECK(fwd.count(http::field::content_length) == (framed ? 1U : 0U));
    if (framed) FUZZ_CHECK(fwd[http::field::content_length] == std::to_string(fwd.body().size()));
    for (auto const& f : fwd) {
        FUZZ_CHECK(!hop_by_hop(f.name_string()));
        FUZZ_CHECK(set_by_proxy(f.name_string()) || !named_by(f.name_string(), connection));
    }
    // What the upstream reads (the bytes upstream_pool writes): exactly one request, the same.
    FUZZ_CHECK(!fwd.chunked()); // so the pool writes it with wire.hpp, head then body
    std::string bytes;
    wire::append_head(bytes, fwd);
    bytes += fwd.body();
    http::request_parser<http::string_body> back;
    back.eager(true);
    back.header_limit(UINT32_MAX);
    back.body_limit(UINT64_MAX);
    error_code ec;
    auto const used = back.put(net::buffer(bytes), ec);
    FUZZ_CHECK(!ec && back.is_done() && used == bytes.size());
    auto const& got = back.get();
    FUZZ_CHECK(got.method_string() == fwd.method_string() && got.target() == fwd.target());
    FUZZ_CHECK(fields_of(got) == fields_of(fwd) && got.body() == fwd.body());
}

/// The engine's steps for one request that reached it; the store and the upstream are left
/// out (tests/engine covers them), what they would be given is checked. Returns whether the
/// session reads another request after answering this one.
bool handle(request req, setup const& s) {
    bool const keep_alive = req.keep_alive();
    auto const& icfg = s.cfg.idempotency;
    // check_head rewrote the target to its normal form: normalising it again keeps it (a
    // path with "/." is rewritten to itself, so compare the text, not the check's verdict).
    auto const again = http_server::normalise_target(req.target(), req[http::field::host]);
    FUZZ_CHECK(again.has_value() && *again == req.target());
    std::string const target(req.target()); // the scope cuts the query off, as sent
    auto const view = engine::view_of(req, icfg);
    auto const cls = engine::classify(view, icfg);
    if (cls.kind == engine::request_class::rejected) {
        FUZZ_CHECK(cls.error == errc::key_invalid || cls.error == errc::key_required ||
                   cls.error == errc::method_case);
        return keep_alive; // answered with 400, nothing forwarded
    }
    if (cls.kind == engine::request_class::protected_request) {
        check_protected(cls, icfg);
        auto const key =
            s.scopes.make(cls.api_key, view.account, view.method, view.target, cls.key);
        // Hex of a hash: no byte of the API key can be in it.
        FUZZ_CHECK(key.hash.size() == 64 &&
                   key.hash.find_first_not_of("0123456789abcdef") == std::string::npos);
        (void)engine::fingerprint_of(req.body(), icfg.fingerprint);
    }
    std::string connection;
    for (auto const& f : boost::make_iterator_range(req.equal_range(http::field::connection)))
        connection.append(f.value()).append(",");
    proxy::prepare_upstream_request(req, "127.0.0.1", s.base_path);
    check_forwarded(req, connection, target, s);
    return keep_alive;
}

} // namespace
} // namespace idemgate::fuzz

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
    using namespace idemgate;
    if (size == 0) return 0;
    fuzz::setup const s(data[0]);
    fuzz::byte_stream in({reinterpret_cast<char const*>(data) + 1, size - 1}, s.step);
    beast::flat_buffer buf(http_server::read_buffer_limit(s.cfg.limits));
    // The session's loop: one request after another until an error or the end.
    for (int i = 0; i < 64; ++i) {
        auto req = fuzz::read_one(in, buf, s);
        if (!req) break; // answered (or not) and closed: no later byte is read
        if (!fuzz::handle(std::move(*req), s)) break;
    }
    return 0;
}
