#include "idemgate/proxy/upstream.hpp"

#include <boost/url/parse.hpp>

namespace idemgate::proxy {

result<upstream_target> parse_upstream_url(std::string_view url, std::string& problem) {
    auto parsed = boost::urls::parse_absolute_uri(url);
    if (!parsed) {
        problem = "not an absolute URL";
        return parsed.error();
    }
    upstream_target t;
    auto const scheme = parsed->scheme();
    if (scheme == "https") {
        t.tls = true;
    } else if (scheme != "http") {
        problem = "scheme must be http or https";
        return make_error_code(boost::system::errc::invalid_argument);
    }
    t.host = parsed->host_address(); // IPv6 literal without brackets
    if (t.host.empty()) {
        problem = "missing host";
        return make_error_code(boost::system::errc::invalid_argument);
    }
    t.port = parsed->has_port() ? std::string(parsed->port()) : (t.tls ? "443" : "80");
    if (!(parsed->path().empty() || parsed->path() == "/") || parsed->has_query()) {
        problem = "a path or query is not supported; the client's target is forwarded as is";
        return make_error_code(boost::system::errc::invalid_argument);
    }
    return t;
}

std::unique_ptr<net::ssl::context> make_tls_context(upstream_target const& target,
                                                    config::tls_config const& tls) {
    if (!target.tls) return nullptr;
    auto ctx = std::make_unique<net::ssl::context>(net::ssl::context::tls_client);
    ctx->set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
                     net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1 |
                     net::ssl::context::no_tlsv1_1);
    if (tls.ca_file.empty())
        ctx->set_default_verify_paths();
    else
        ctx->load_verify_file(tls.ca_file);
    ctx->set_verify_mode(tls.insecure_skip_verify ? net::ssl::verify_none
                                                  : net::ssl::verify_peer);
    return ctx;
}

} // namespace idemgate::proxy
