#pragma once
// Messages as they go on the wire: the head in one flat buffer, sent with the body in one
// gather write. Beast's serializer walks a view of buffer sequences per field, which was
// 4–8 % of the gateway's CPU on the proxy path (docs/benchmarks.md). Every message the
// gateway writes is Content-Length framed or bodyless; chunked ones still go through Beast.
#include "idemgate/http/types.hpp"
#include "idemgate/net.hpp"

#include <boost/asio/write.hpp>
#include <boost/beast/http/write.hpp>

#include <array>
#include <string>
#include <tuple>

namespace idemgate::wire {

/// Appends the start line, the fields and the blank line, byte for byte as Beast writes them.
void append_head(std::string& out, request const& req);
void append_head(std::string& out, response const& res);

/// Writes `m` (head and body); `scratch` holds the head until the write completes.
template <class Stream, bool isRequest>
task<std::tuple<error_code, std::size_t>>
async_write(Stream& s, http::message<isRequest, http::string_body> const& m, std::string& scratch) {
    if (m.chunked()) co_return co_await http::async_write(s, m, use_nothrow);
    scratch.clear();
    append_head(scratch, m);
    std::array<net::const_buffer, 2> const bufs{net::buffer(scratch), net::buffer(m.body())};
    co_return co_await net::async_write(s, bufs, use_nothrow);
}

} // namespace idemgate::wire
