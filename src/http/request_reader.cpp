#include "idemgate/http/request_reader.hpp"

#include <cstdint>

namespace idemgate::http_server {

void limit_parser(request_parser& parser, config::limits_config const& lim) {
    parser.header_limit(static_cast<std::uint32_t>(lim.max_header_bytes.bytes));
    parser.body_limit(lim.max_request_body.bytes);
}

std::size_t read_buffer_limit(config::limits_config const& lim) {
    return static_cast<std::size_t>(lim.max_header_bytes.bytes) + 64 * 1024;
}

errc accept_head(request_parser& parser, head_rules const& rules, head_fields& head) {
    if (auto const e = check_head(parser.get(), parser.chunked(), rules); e != errc::ok) return e;
    head = parser.chunked() ? fields_of_head(parser.get()) : head_fields{};
    return errc::ok;
}

request take_request(request_parser& parser, head_fields const& head) {
    if (parser.chunked()) drop_trailers(parser.get(), head); // contract §7
    return parser.release();
}

} // namespace idemgate::http_server
