#include "idemgate/proxy/response_reader.hpp"

#include "idemgate/error.hpp"
#include "idemgate/log/log.hpp"

#include <boost/beast/http/read.hpp>

#include <optional>
#include <string_view>

namespace idemgate::proxy {

namespace {

using response_parser = http::response_parser<http::string_body>;

/// Stops Beast's parser at the last chunk, before the trailer section. Beast would merge
/// trailer fields into the header section (a trailer Set-Cookie stored and replayed for
/// 24 h), act on a trailer Content-Length or Transfer-Encoding (a complete 201 failed as a
/// 502, whose retry later runs the operation again) and, for a trailer field over 64 KiB,
/// throw std::length_error out of io_context::run. skip_trailers() drops the section.
struct stop_at_last_chunk {
    void operator()(std::uint64_t size, beast::string_view, error_code& ec) const {
        if (size == 0) ec = http::error::end_of_chunk;
    }
};

/// Consumes the last chunk and the trailer section at the front of `buf`. Beast calls the
/// chunk-header callback for the last chunk only once the section, up to its empty line, is
/// all in the buffer, and consumes none of it when the callback fails. The last chunk
/// line has no CRLF pair inside it (a leading CRLF ends the previous chunk's data), so the
/// first CRLF CRLF ends the section, as Beast's own search finds it.
bool skip_trailers(beast::flat_buffer& buf) {
    std::string_view const data(static_cast<char const*>(buf.data().data()), buf.size());
    auto const end = data.find("\r\n\r\n");
    if (end == std::string_view::npos) return false;
    buf.consume(end + 4);
    return true;
}

/// A 204 cannot have content (RFC 9110 §15.3.5); one whose head announces some anyway may
/// still have those bytes on their way, so the connection's next read could start in them.
bool announces_content(response_parser const& p) {
    if (p.get().result_int() != 204) return false;
    auto const length = p.content_length();
    return (length && *length > 0) || p.get().count(http::field::transfer_encoding) != 0;
}

/// Sets up a fresh parser (Beast's are single-use) for one message.
void prepare(response_parser& p, bool head_request, std::uint64_t body_limit,
             stop_at_last_chunk& stop) {
    p.header_limit(static_cast<std::uint32_t>(max_response_head));
    p.body_limit(body_limit);
    p.skip(head_request);
    p.on_chunk_header(stop); // called for chunked bodies only
}

template <class Stream>
task<read_result> read_any(Stream& s, beast::flat_buffer& buf, bool head_request,
                           std::uint64_t body_limit) {
    read_result out;
    std::optional<response_parser> parser;
    stop_at_last_chunk stop; // the parser keeps a reference: lives as long as it
    for (;;) {
        // Beast ends a 1xx at its head: one read per message, as before 1xx were handled.
        prepare(parser.emplace(), head_request, body_limit, stop);
        auto [ec, n] = co_await http::async_read(s, buf, *parser, use_nothrow);
        if (ec == http::error::end_of_chunk && skip_trailers(buf)) ec = {};
        if (ec) {
            out.ec = ec;
            co_return out;
        }
        auto const status = parser->get().result_int();
        // No forwarded request asks to upgrade (Upgrade is hop-by-hop, forward.cpp): after a
        // 101 the connection speaks another protocol, and nothing on it is an answer.
        if (status == 101) {
            out.ec = errc::upstream_failed;
            co_return out;
        }
        // RFC 9110 §15.2: interim responses (100, 103 Early Hints of RFC 8297, ...) precede
        // the final one. A sidecar may drop them; never answer or store one as final.
        if (status / 100 != 1) break;
    }
    out.reusable = parser->keep_alive() && !announces_content(*parser);
    if (buf.size() != 0) {
        // The response was complete and is delivered; the bytes after it belong to no one
        // (nginx: "upstream sent more data than specified"). Close, never pool (contract §7).
        log::warn("upstream sent more data than specified",
                  {{"status", parser->get().result_int()}, {"extra_bytes", buf.size()}});
        out.reusable = false;
    }
    out.res = parser->release();
    // Both framings in one response: a smuggling vector (RFC 9112 §6.3); refuse it.
    if (out.res.count(http::field::transfer_encoding) &&
        out.res.count(http::field::content_length)) {
        out.ec = http::error::bad_transfer_encoding;
        out.reusable = false;
    }
    co_return out;
}

} // namespace

task<read_result> read_response(tcp::socket& s, beast::flat_buffer& buf, bool head_request,
                                std::uint64_t body_limit) {
    return read_any(s, buf, head_request, body_limit);
}

task<read_result> read_response(beast::ssl_stream<tcp::socket>& s, beast::flat_buffer& buf,
                                bool head_request, std::uint64_t body_limit) {
    return read_any(s, buf, head_request, body_limit);
}

} // namespace idemgate::proxy
