#include "idemgate/proxy/upstream.hpp"

#include "idemgate/config/tls_files.hpp"
#include "idemgate/config/url.hpp"

namespace idemgate::proxy {

std::optional<upstream_target> parse_upstream_url(std::string_view url) {
    // The same parser as --check-config, so what validates is what runs.
    auto parsed = config::parse_http_url(url);
    if (!parsed) return std::nullopt;
    upstream_target t;
    t.tls = parsed->tls;
    t.host = parsed->host;
    t.port = std::to_string(parsed->port);
    t.base_path = parsed->path;
    while (!t.base_path.empty() && t.base_path.back() == '/') t.base_path.pop_back();
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
    ctx->set_verify_mode(tls.insecure_skip_verify ? net::ssl::verify_none : net::ssl::verify_peer);
    config::use_client_pair(*ctx, tls, "upstream.tls"); // an upstream that requires mTLS
    return ctx;
}

} // namespace idemgate::proxy
