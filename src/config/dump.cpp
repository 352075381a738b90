#include "enum_names.hpp"
#include "idemgate/config/env.hpp"
#include "idemgate/config/parse.hpp"

#include <yaml-cpp/yaml.h>

namespace idemgate::config {
namespace {

// Emitter helpers: one call per key, so to_yaml reads like config.hpp.

/// Quoted, with "${" written as "$${" so that parsing the output gives the value back.
void put(YAML::Emitter& out, char const* key, std::string const& value) {
    std::string escaped;
    for (std::size_t i = 0; i < value.size(); ++i) {
        if (value.compare(i, 2, "${") == 0) escaped += '$';
        escaped += value[i];
    }
    out << YAML::Key << key << YAML::Value << YAML::DoubleQuoted << escaped;
}
void put(YAML::Emitter& out, char const* key, std::string_view value) {
    out << YAML::Key << key << YAML::Value << std::string(value);
}
void put(YAML::Emitter& out, char const* key, std::uint64_t value) {
    out << YAML::Key << key << YAML::Value << value;
}
void put(YAML::Emitter& out, char const* key, bool value) {
    out << YAML::Key << key << YAML::Value << YAML::TrueFalseBool << value;
}
void put(YAML::Emitter& out, char const* key, duration value) {
    out << YAML::Key << key << YAML::Value << format_duration(value);
}
void put(YAML::Emitter& out, char const* key, byte_size value) {
    out << YAML::Key << key << YAML::Value << format_byte_size(value);
}
/// A secret: "***" when set, "" when not, so that the output still tells which.
void put_secret(YAML::Emitter& out, char const* key, std::string const& value) {
    put(out, key, value.empty() ? std::string() : std::string(redacted_text));
}
template <class Fn>
void section(YAML::Emitter& out, char const* key, Fn fn) {
    out << YAML::Key << key << YAML::Value << YAML::BeginMap;
    fn();
    out << YAML::EndMap;
}

void put_tls(YAML::Emitter& out, tls_config const& t) {
    section(out, "tls", [&] {
        put(out, "ca_file", t.ca_file);
        put(out, "insecure_skip_verify", t.insecure_skip_verify);
        put(out, "cert_file", t.cert_file); // paths only: the key is never read here
        put(out, "key_file", t.key_file);
    });
}

void put_upstream(YAML::Emitter& out, upstream_config const& u) {
    section(out, "upstream", [&] {
        put(out, "url", u.url);
        put(out, "connect_timeout", u.connect_timeout);
        put(out, "timeout", u.timeout);
        put(out, "pool_size", std::uint64_t{u.pool_size});
        put(out, "max_response_body", u.max_response_body);
        put_tls(out, u.tls);
    });
}

void put_store(YAML::Emitter& out, store_config const& s) {
    section(out, "store", [&] {
        put(out, "backend", name_of(s.backend));
        put(out, "on_unavailable", name_of(s.on_unavailable));
        put(out, "max_records_per_credential", s.max_records_per_credential);
        section(out, "memory", [&] {
            put(out, "max_records", s.memory.max_records);
            put(out, "max_bytes", s.memory.max_bytes);
        });
        auto const& r = s.redis;
        section(out, "redis", [&] {
            put(out, "mode", name_of(r.mode));
            out << YAML::Key << "nodes" << YAML::Value << YAML::Flow << r.nodes;
            put(out, "sentinel_master", r.sentinel_master);
            put_secret(out, "sentinel_password", r.sentinel_password);
            put(out, "url", redacted_url(r.url));
            put_secret(out, "password", r.password);
            put(out, "key_prefix", r.key_prefix);
            put(out, "pool_size", std::uint64_t{r.pool_size});
            put(out, "connect_timeout", r.connect_timeout);
            put(out, "command_timeout", r.command_timeout);
            put(out, "wait_replicas", std::uint64_t{r.wait_replicas});
            put(out, "wait_timeout", r.wait_timeout);
            put_tls(out, r.tls);
        });
        section(out, "encryption", [&] {
            put(out, "keys_file", s.encryption.keys_file);
            put(out, "accept_unsealed", s.encryption.accept_unsealed);
        });
    });
}

void put_idempotency(YAML::Emitter& out, idempotency_config const& i) {
    section(out, "idempotency", [&] {
        out << YAML::Key << "methods" << YAML::Value << YAML::Flow << i.methods;
        put(out, "ttl", i.ttl);
        put(out, "lock_ttl", i.lock_ttl);
        put(out, "missing_key", name_of(i.missing_key));
        put(out, "concurrent", name_of(i.concurrent));
        put(out, "wait_timeout", i.wait_timeout);
        put(out, "fingerprint", name_of(i.fingerprint));
        out << YAML::Key << "no_store_statuses" << YAML::Value << YAML::Flow << i.no_store_statuses;
        put(out, "max_stored_body", i.max_stored_body);
        put(out, "max_key_length", std::uint64_t{i.max_key_length});
        put(out, "account_header", i.account_header);
        put(out, "key_header", i.key_header);
        put(out, "replay_header", i.replay_header);
        put_secret(out, "scope_secret", i.scope_secret);
        put(out, "credential", i.credential);
    });
}

/// Each route with its match, enabled and the overrides it sets (the others inherit).
void put_routes(YAML::Emitter& out, std::vector<route_config> const& routes) {
    out << YAML::Key << "routes" << YAML::Value;
    if (routes.empty()) {
        out << YAML::Flow << YAML::BeginSeq << YAML::EndSeq;
        return;
    }
    out << YAML::BeginSeq;
    for (auto const& r : routes) {
        out << YAML::BeginMap;
        put(out, "match", r.match);
        put(out, "enabled", r.enabled);
        if (r.methods) out << YAML::Key << "methods" << YAML::Value << YAML::Flow << *r.methods;
        if (r.ttl) put(out, "ttl", *r.ttl);
        if (r.lock_ttl) put(out, "lock_ttl", *r.lock_ttl);
        if (r.missing_key) put(out, "missing_key", name_of(*r.missing_key));
        if (r.concurrent) put(out, "concurrent", name_of(*r.concurrent));
        if (r.wait_timeout) put(out, "wait_timeout", *r.wait_timeout);
        if (r.fingerprint) put(out, "fingerprint", name_of(*r.fingerprint));
        if (r.no_store_statuses)
            out << YAML::Key << "no_store_statuses" << YAML::Value << YAML::Flow
                << *r.no_store_statuses;
        if (r.max_stored_body) put(out, "max_stored_body", *r.max_stored_body);
        if (!r.key_from.empty()) put(out, "key_from", r.key_from);
        if (r.scope != route_scope::api_key)
            put(out, "scope", detail::name_in(detail::route_scope_names, r.scope));
        if (r.verify) {
            // The secret file's path only: its content is never read here.
            out << YAML::Key << "verify" << YAML::Value << YAML::BeginMap;
            put(out, "scheme", r.verify->scheme);
            put(out, "secret_file", r.verify->secret_file);
            put(out, "tolerance", r.verify->tolerance);
            out << YAML::EndMap;
        }
        out << YAML::EndMap;
    }
    out << YAML::EndSeq;
}

} // namespace

std::string to_yaml(config const& cfg) {
    YAML::Emitter out;
    out << YAML::BeginMap;
    put(out, "listen", cfg.listen);
    put(out, "threads", std::uint64_t{cfg.threads});
    section(out, "tls", [&] { // paths only: the key is never read here
        put(out, "cert_file", cfg.tls.cert_file);
        put(out, "key_file", cfg.tls.key_file);
        put(out, "min_version", detail::name_in(detail::tls_version_names, cfg.tls.min_version));
        put(out, "client_ca_file", cfg.tls.client_ca_file);
        put(out, "reload_interval", cfg.tls.reload_interval);
    });
    section(out, "limits", [&] {
        put(out, "max_header_bytes", cfg.limits.max_header_bytes);
        put(out, "max_headers", std::uint64_t{cfg.limits.max_headers});
        put(out, "max_request_body", cfg.limits.max_request_body);
        put(out, "max_connections", std::uint64_t{cfg.limits.max_connections});
        put(out, "headers_with_underscores",
            detail::name_in(detail::underscores_names, cfg.limits.headers_with_underscores));
        put(out, "max_inflight", std::uint64_t{cfg.limits.max_inflight});
        put(out, "max_buffered_bytes", cfg.limits.max_buffered_bytes);
    });
    section(out, "timeouts", [&] {
        put(out, "request_headers", cfg.timeouts.request_headers);
        put(out, "idle", cfg.timeouts.idle);
        put(out, "write", cfg.timeouts.write);
    });
    put_upstream(out, cfg.upstream);
    put_store(out, cfg.store);
    put_idempotency(out, cfg.idempotency);
    put_routes(out, cfg.routes);
    section(out, "admin", [&] {
        put(out, "listen", cfg.admin.listen);
        put_secret(out, "token", cfg.admin.token);
    });
    section(out, "log", [&] {
        put(out, "level", cfg.log.level);
        put(out, "format", name_of(cfg.log.format));
        put(out, "access_log", cfg.log.access_log);
    });
    section(out, "shutdown", [&] {
        put(out, "drain_delay", cfg.shutdown.drain_delay);
        put(out, "timeout", cfg.shutdown.timeout);
    });
    out << YAML::EndMap << YAML::Newline;
    return out.c_str();
}

std::string_view name_of(missing_key_mode m) noexcept {
    return detail::name_in(detail::missing_key_names, m);
}
std::string_view name_of(concurrent_mode m) noexcept {
    return detail::name_in(detail::concurrent_names, m);
}
std::string_view name_of(fingerprint_mode m) noexcept {
    return detail::name_in(detail::fingerprint_names, m);
}
std::string_view name_of(store_backend b) noexcept {
    return detail::name_in(detail::backend_names, b);
}
std::string_view name_of(redis_mode m) noexcept {
    return detail::name_in(detail::redis_mode_names, m);
}
std::string_view name_of(unavailable_mode m) noexcept {
    return detail::name_in(detail::unavailable_names, m);
}
std::string_view name_of(log_format f) noexcept {
    return detail::name_in(detail::log_format_names, f);
}

} // namespace idemgate::config
