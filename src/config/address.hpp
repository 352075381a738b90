#pragma once
// Internal: address parsers that also say why a text was refused, for validate()'s messages.
#include "idemgate/config/parse.hpp"

#include <string>
#include <variant>

namespace idemgate::config::detail {

/// A value, or the reason there is none.
template <class T>
using parsed = std::variant<T, std::string>;

parsed<host_port> host_port_of(std::string_view text);
parsed<http_url> http_url_of(std::string_view text);
parsed<redis_url> redis_url_of(std::string_view text);

} // namespace idemgate::config::detail
