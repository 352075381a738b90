#pragma once
// store.redis.url as the redis backend uses it: the config layer's one parser
// (config/url.hpp), so that what --check-config accepts is what connects.
#include "idemgate/config/url.hpp"

#include <string>

namespace idemgate::redis {

using config::parse_redis_url;
using config::redis_url;

/// `host:port` for logs (IPv6 in brackets); never includes credentials.
inline std::string endpoint_of(redis_url const& u) {
    bool const v6 = u.host.find(':') != std::string::npos;
    return (v6 ? "[" + u.host + "]" : u.host) + ":" + std::to_string(u.port);
}

} // namespace idemgate::redis
