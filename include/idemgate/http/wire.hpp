#pragma once
// Messages as they go on the wire: the head in one flat buffer, sent with the body in one
// gather write — the bytes Beast's serializer writes, without its buffer sequence per field.
// Every message the gateway writes is Content-Length framed or bodyless; chunked ones still
// go through Beast.
#include "idemgate/http/types.hpp"
#include "idemgate/net.hpp"

#include <boost/asio/write.hpp>
#include <boost/beast/http/write.hpp>

#include <algorithm>
#include <array>
#include <string>
#include <tuple>

namespace idemgate::wire {

/// Appends the start line, the fields and the blank line, byte for byte as Beast writes them.
void append_head(std::string& out, request const& req);
void append_head(std::string& out, response const& res);

/// Writes `m` (head and body); `scratch` holds the head until the write completes.
/// On a socket in non-blocking mode it first writes what the kernel takes at once, which is
/// usually everything: no asynchronous operation, no completion to schedule and no reactor
/// pass for it (nginx writes the same way). The rest, if any, goes asynchronously.
template <class Stream, bool isRequest>
task<std::tuple<error_code, std::size_t>>
async_write(Stream& s, http::message<isRequest, http::string_body> const& m, std::string& scratch) {
    if (m.chunked()) co_return co_await http::async_write(s, m, use_nothrow);
    scratch.clear();
    append_head(scratch, m);
    std::array<net::const_buffer, 2> bufs{net::buffer(scratch), net::buffer(m.body())};
    std::size_t done = 0;
    if constexpr (requires { s.non_blocking(); }) {
        if (s.non_blocking()) {
            error_code ec;
            done = s.write_some(bufs, ec);
            if (ec && ec != net::error::would_block) co_return std::tuple{ec, done};
            if (done == net::buffer_size(bufs)) co_return std::tuple{error_code{}, done};
            auto skip = done;
            for (auto& b : bufs) {
                auto const k = std::min(skip, b.size());
                b += k;
                skip -= k;
            }
        }
    }
    auto [ec, n] = co_await net::async_write(s, bufs, use_nothrow);
    co_return std::tuple{ec, done + n};
}

} // namespace idemgate::wire
