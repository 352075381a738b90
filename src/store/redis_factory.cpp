// The redis backend's factory and its start-up checks (URL, TLS context).
#include "idemgate/store/redis_factory.hpp"
#include "idemgate/config/tls_files.hpp"
#include "idemgate/redis/connection.hpp"
#include "idemgate/redis/router.hpp"
#include "idemgate/store/redis_store.hpp"

#include <stdexcept>

namespace idemgate::store {

namespace {

std::shared_ptr<net::ssl::context> make_tls_context(config::tls_config const& tls) {
    namespace ssl = net::ssl;
    auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
    ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                     ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    // For `--tls-auth-clients yes`: shown whatever the verification of the server.
    config::use_client_pair(*ctx, tls, "store.redis.tls");
    if (tls.insecure_skip_verify) {
        ctx->set_verify_mode(ssl::verify_none);
        return ctx;
    }
    ctx->set_verify_mode(ssl::verify_peer);
    error_code ec;
    if (tls.ca_file.empty()) {
        ctx->set_default_verify_paths(ec);
    } else {
        ctx->load_verify_file(tls.ca_file, ec);
    }
    if (ec) {
        throw std::invalid_argument("store.redis.tls.ca_file: cannot load CA certificates (" +
                                    ec.message() + ")");
    }
    return ctx;
}

/// Every store it makes shares the parsed URL, the TLS context and the one-time server check.
class redis_factory final : public factory {
public:
    redis_factory(config::redis_store_config const& cfg, credential_bound bound,
                  record_sealing sealing)
        : cfg_(cfg), bound_(bound), conn_(make_redis_connection_config(cfg)),
          sealing_(std::move(sealing)) {}

    std::unique_ptr<store> make(net::any_io_executor ex) override {
        return std::make_unique<redis_store>(std::move(ex), cfg_, conn_, bound_, sealing_, stats_);
    }

    std::optional<metrics::store_topology> topology() const override {
        auto const& s = *stats_;
        return metrics::store_topology{s.moved.load(),
                                       s.ask.load(),
                                       s.refreshes.load(),
                                       s.master_changes.load(),
                                       s.shortfall_claim.load(),
                                       s.shortfall_complete.load(),
                                       s.nodes.load()};
    }

private:
    config::redis_store_config const cfg_;
    credential_bound const bound_;
    std::shared_ptr<redis::connection_config const> const conn_;
    record_sealing const sealing_;
    std::shared_ptr<redis::topology_stats> const stats_ = std::make_shared<redis::topology_stats>();
};

} // namespace

std::shared_ptr<redis::connection_config const>
make_redis_connection_config(config::redis_store_config const& cfg) {
    std::string why;
    auto url = redis::parse_redis_url(cfg.url, why);
    if (!url) throw std::invalid_argument("store.redis.url: " + why);
    if (!cfg.password.empty()) url->password = cfg.password;
    auto out = std::make_shared<redis::connection_config>();
    out->url = std::move(*url);
    out->connect_timeout = cfg.connect_timeout;
    if (out->url.tls) out->tls = make_tls_context(cfg.tls);
    return out;
}

// Redis keeps its own clock (TIME inside the scripts) so that every gateway replica measures
// TTLs the same way; the injected clock is not used by this backend.
std::unique_ptr<factory> make_redis_factory(config::redis_store_config const& cfg,
                                            util::clock const&, credential_bound bound,
                                            record_sealing sealing) {
    return std::make_unique<redis_factory>(cfg, bound, std::move(sealing));
}

} // namespace idemgate::store
