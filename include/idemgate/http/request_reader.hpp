#pragma once
// The steps of reading one client request that are not I/O: the parser's limits, the checks
// between head and body, and the request handed on once the body is read. The session runs
// them around its socket reads; the request fuzzer (tests/fuzz/request_fuzz.cpp) runs the
// same steps around reads from memory, so that what it checks is what the gateway does.
#include "idemgate/config/config.hpp"
#include "idemgate/error.hpp"
#include "idemgate/http/request_rules.hpp"
#include "idemgate/http/types.hpp"

#include <boost/beast/http/parser.hpp>

#include <cstddef>

namespace idemgate::http_server {

using request_parser = http::request_parser<http::string_body>;

/// Sets a fresh parser's limits (conventions.md): `header_limit` → 431, `body_limit` → 413.
void limit_parser(request_parser& parser, config::limits_config const& lim);

/// Bytes the connection's read buffer may hold: the head fits (its own limit answers 431
/// first), and body bytes pass through in reads of up to 64 KiB, so that a chunk line
/// without its CRLF (`5;aaaa…`) cannot grow it: a full buffer fails the read (400).
std::size_t read_buffer_limit(config::limits_config const& lim);

/// After the head, before the body: check_head (contract §7), and the head's fields in
/// `head` when the body is chunked, for take_request. errc::ok, or the error to answer.
errc accept_head(request_parser& parser, head_rules const& rules, head_fields& head);

/// After the body: the request handed to the engine, trailers dropped (contract §7).
/// Precondition: parser.is_done(), accept_head gave errc::ok and `head` is what it set.
request take_request(request_parser& parser, head_fields const& head);

} // namespace idemgate::http_server
