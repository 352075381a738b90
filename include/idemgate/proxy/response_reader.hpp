#pragma once
// Reads one upstream response off a pooled connection and says whether the connection may
// carry another exchange: no byte of one exchange may reach another client (contract §7).
#include "idemgate/http/types.hpp"
#include "idemgate/net.hpp"

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <cstddef>
#include <cstdint>

namespace idemgate::proxy {

/// Bound on a response head, on one chunk line (size and extensions) and on a trailer
/// section. The connection's read buffer is made with this limit, so a longer line fails
/// the read with `http::error::buffer_overflow` instead of growing without end.
/// Beast's fields throw std::length_error (out of io_context::run) for a name or value of
/// 65534 bytes or more: Beast bounds the start line and the field section each by the
/// header limit, so at 64 KiB no field line can hold one; trailers are never parsed.
inline constexpr std::size_t max_response_head = 64 * 1024;

/// What reading one response gave.
struct read_result {
    /// Set: no usable response (malformed, unexpected 101, I/O error); close the connection.
    error_code ec;
    /// The final response: interim 1xx read past, trailer fields dropped.
    response res;
    /// The response ended exactly where the bytes read end and its framing allows another
    /// exchange. False whenever `ec` is set.
    bool reusable = false;
};

/// Reads the final response to a request sent on `s`, reading past interim 1xx responses
/// (RFC 9110 §15.2). A `101` fails the read (no forwarded request asks to upgrade). Trailer
/// fields are dropped unread, never merged into the header section. `buf` is the
/// connection's read buffer (made with `max_response_head` as its limit); bytes left in it
/// after the response make the connection not reusable. `head_request`: the request was
/// HEAD, so the response has no body. Never throws for anything the peer sends.
task<read_result> read_response(tcp::socket& s, beast::flat_buffer& buf, bool head_request,
                                std::uint64_t body_limit);
task<read_result> read_response(beast::ssl_stream<tcp::socket>& s, beast::flat_buffer& buf,
                                bool head_request, std::uint64_t body_limit);

} // namespace idemgate::proxy
