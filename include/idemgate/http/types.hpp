#pragma once
// Message types used on the data plane.
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

namespace idemgate {

namespace http = boost::beast::http;

using request = http::request<http::string_body>;
using response = http::response<http::string_body>;

} // namespace idemgate
