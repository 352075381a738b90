#include "enum_names.hpp"
#include "idemgate/config/env.hpp"
#include "idemgate/config/host_port.hpp"
#include "idemgate/config/parse.hpp"
#include "idemgate/config/routes.hpp"
#include "idemgate/config/tls_files.hpp"
#include "idemgate/config/url.hpp"
#include "yaml_walk.hpp"

#include <algorithm>
#include <map>

namespace idemgate::config {
namespace {

constexpr duration max_duration = 30 * 24h; // documented in docs/configuration.md
constexpr std::uint64_t mib = 1024 * 1024;
constexpr byte_size max_body{1024 * mib};          // one request or response body: 1 GiB
constexpr byte_size max_stored{512 * mib};         // a Redis string holds at most 512 MiB
constexpr byte_size max_memory{1024 * 1024 * mib}; // memory store, buffered bytes: 1 TiB

/// Collects problems with their key paths; positions are added by parse_yaml.
class checker {
public:
    void fail(std::string key_path, std::string message) {
        problems_.push_back({{}, 0, 0, std::move(key_path), std::move(message)});
    }
    /// Every duration is bounded far below what a clock or a Redis PX can hold, so no
    /// `now + d` anywhere can overflow (contract §7).
    void positive(std::string key_path, duration d, duration max = max_duration) {
        if (d.count() <= 0)
            fail(std::move(key_path), "must be more than 0, e.g. 500ms or 10s");
        else
            at_most(std::move(key_path), d, max);
    }
    void not_negative(std::string key_path, duration d, duration max = max_duration) {
        if (d.count() < 0)
            fail(std::move(key_path), "must not be negative");
        else
            at_most(std::move(key_path), d, max);
    }
    void positive(std::string key_path, byte_size s, byte_size max) {
        if (s.bytes == 0)
            fail(std::move(key_path), "must be more than 0 bytes");
        else if (s.bytes > max.bytes)
            fail(std::move(key_path),
                 "must be at most " + format_byte_size(max) + ", got " + format_byte_size(s));
    }
    void in_range(std::string key_path, std::uint64_t n, std::uint64_t lo, std::uint64_t hi) {
        if (n < lo || n > hi) {
            fail(std::move(key_path), "must be from " + std::to_string(lo) + " to " +
                                          std::to_string(hi) + ", got " + std::to_string(n));
        }
    }
    /// The problem an address parser (host_port.hpp, url.hpp) found in `text`, if any,
    /// quoting `shown` (the text with its secrets redacted).
    template <class Parser>
    void parses(std::string key_path, Parser parse, std::string_view text, std::string_view shown) {
        std::string why;
        if (!parse(text, why)) fail(std::move(key_path), why + " in " + detail::quoted(shown));
    }
    std::vector<problem> take() { return std::move(problems_); }

private:
    void at_most(std::string key_path, duration d, duration max) {
        if (d > max)
            fail(std::move(key_path),
                 "must be at most " + format_duration(max) + ", got " + format_duration(d));
    }

    std::vector<problem> problems_;
};

/// RFC 9110 token characters (method names and header field names).
bool is_token(std::string_view text) {
    constexpr std::string_view specials = "!#$%&'*+-.^_`|~";
    return !text.empty() && std::all_of(text.begin(), text.end(), [&](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
               specials.find(c) != std::string_view::npos;
    });
}

// The parsers as objects: each name is an overload set.
constexpr auto host_port_parser = [](std::string_view text, std::string& why) {
    return parse_host_port(text, why).has_value();
};
constexpr auto http_url_parser = [](std::string_view text, std::string& why) {
    return parse_http_url(text, why).has_value();
};
constexpr auto redis_url_parser = [](std::string_view text, std::string& why) {
    return parse_redis_url(text, why).has_value();
};

void check_server(checker& c, config const& cfg) {
    c.parses("listen", host_port_parser, cfg.listen, cfg.listen);
    c.in_range("threads", cfg.threads, 0, 1024);
    // Beast keeps a field's value length in 16 bits: a larger head could carry a value it
    // cannot hold (it throws), so the head is bounded below that.
    c.in_range("limits.max_header_bytes", cfg.limits.max_header_bytes.bytes, 1024, 64 * 1024);
    c.in_range("limits.max_headers", cfg.limits.max_headers, 1, 10'000);
    c.positive("limits.max_request_body", cfg.limits.max_request_body, max_body);
    c.in_range("limits.max_connections", cfg.limits.max_connections, 1, 1'000'000);
    c.in_range("limits.max_inflight", cfg.limits.max_inflight, 1, 1'000'000);
    c.positive("limits.max_buffered_bytes", cfg.limits.max_buffered_bytes, max_memory);
    c.positive("timeouts.request_headers", cfg.timeouts.request_headers);
    c.positive("timeouts.idle", cfg.timeouts.idle);
    c.positive("timeouts.write", cfg.timeouts.write);
    if (!cfg.admin.listen.empty()) {
        c.parses("admin.listen", host_port_parser, cfg.admin.listen, cfg.admin.listen);
        // Port 0 asks the kernel for a free port, so two ":0" listeners never clash.
        if (cfg.admin.listen == cfg.listen && !cfg.listen.ends_with(":0"))
            c.fail("admin.listen", "must differ from listen");
    }
    // A short token can be guessed over the network; 16 bytes is `openssl rand -hex 8`.
    if (!cfg.admin.token.empty() && cfg.admin.token.size() < min_admin_token_bytes) {
        c.fail("admin.token", "must be at least " + std::to_string(min_admin_token_bytes) +
                                  " bytes, got " + std::to_string(cfg.admin.token.size()));
    }
    auto const& levels = detail::log_level_names;
    if (std::find(levels.begin(), levels.end(), cfg.log.level) == levels.end()) {
        c.fail("log.level", "expected one of trace debug info warn error critical off, got " +
                                detail::quoted(cfg.log.level));
    }
    c.not_negative("shutdown.drain_delay", cfg.shutdown.drain_delay);
    c.not_negative("shutdown.timeout", cfg.shutdown.timeout);
}

/// The listener's TLS files are loaded as the gateway would load them (tls_files.hpp).
void check_tls(checker& c, config const& cfg) {
    auto const& t = cfg.tls;
    if (t.reload_interval < min_tls_reload_interval)
        c.fail("tls.reload_interval", "must be at least " +
                                          format_duration(min_tls_reload_interval) + ", got " +
                                          format_duration(t.reload_interval));
    else
        c.positive("tls.reload_interval", t.reload_interval, max_tls_reload_interval);
    if (t.cert_file.empty()) {
        if (!t.key_file.empty()) c.fail("tls.cert_file", "is required with tls.key_file");
        if (!t.client_ca_file.empty())
            c.fail("tls.cert_file", "is required with tls.client_ca_file (mTLS needs TLS)");
        return;
    }
    auto const loaded = load_server_tls(t);
    if (!loaded.ctx) c.fail(loaded.error_key, loaded.error);
}

/// A TLS client's certificate pair (upstream.tls, store.redis.tls).
void check_client_tls(checker& c, tls_config const& t, std::string const& at) {
    if (auto [key, why] = check_client_pair(t, at); !key.empty()) c.fail(key, why);
}

void check_upstream(checker& c, upstream_config const& u) {
    c.parses("upstream.url", http_url_parser, u.url, u.url);
    c.positive("upstream.connect_timeout", u.connect_timeout);
    c.positive("upstream.timeout", u.timeout);
    c.in_range("upstream.pool_size", u.pool_size, 1, 100'000);
    c.positive("upstream.max_response_body", u.max_response_body, max_body);
    check_client_tls(c, u.tls, "upstream.tls");
}

/// store.redis.mode and what each mode needs (issue 12). Only checked for the redis backend:
/// a memory store ignores the whole section.
void check_topology(checker& c, store_config const& s) {
    auto const& r = s.redis;
    if (r.nodes.size() > 64) c.fail("store.redis.nodes", "at most 64 nodes");
    for (std::size_t i = 0; i < r.nodes.size() && i < 64; ++i) {
        c.parses("store.redis.nodes[" + std::to_string(i) + "]", host_port_parser, r.nodes[i],
                 r.nodes[i]);
    }
    if (s.backend != store_backend::redis || r.mode == redis_mode::standalone) return;
    auto const mode = std::string(name_of(r.mode));
    if (r.nodes.empty()) {
        c.fail("store.redis.nodes",
               mode == "cluster"
                   ? "cluster mode needs seed nodes (\"host:port\", any of the cluster)"
                   : "sentinel mode needs the sentinels (\"host:port\" each)");
    }
    if (r.mode == redis_mode::sentinel && r.sentinel_master.empty())
        c.fail("store.redis.sentinel_master", "sentinel mode needs the master name the sentinels "
                                              "monitor");
    if (r.mode == redis_mode::cluster) {
        std::string why;
        if (auto const u = parse_redis_url(r.url, why); u && u->db != 0)
            c.fail("store.redis.url",
                   "a Redis Cluster has only db 0, got db " + std::to_string(u->db));
    }
}

void check_store(checker& c, store_config const& s) {
    c.in_range("store.memory.max_records", s.memory.max_records, 1, 1'000'000'000);
    // 0 turns the bound off (it costs Redis a sorted-set update per new key).
    c.in_range("store.max_records_per_credential", s.max_records_per_credential, 0, 100'000'000);
    c.positive("store.memory.max_bytes", s.memory.max_bytes, max_memory);
    auto const& r = s.redis;
    c.parses("store.redis.url", redis_url_parser, r.url, redacted_url(r.url));
    check_topology(c, s);
    c.in_range("store.redis.pool_size", r.pool_size, 1, 64);
    c.positive("store.redis.connect_timeout", r.connect_timeout);
    c.positive("store.redis.command_timeout", r.command_timeout);
    c.in_range("store.redis.wait_replicas", r.wait_replicas, 0, 64);
    c.positive("store.redis.wait_timeout", r.wait_timeout);
    if (s.backend == store_backend::redis) check_client_tls(c, r.tls, "store.redis.tls");
}

/// `methods` of the idempotency section or of a route; `path` names the list.
void check_methods(checker& c, std::string const& path, std::vector<std::string> const& methods) {
    if (methods.empty()) c.fail(path, "must name at least one method");
    for (std::size_t i = 0; i < methods.size(); ++i) {
        auto const& m = methods[i];
        auto const item = path + "[" + std::to_string(i) + "]";
        bool const upper =
            std::none_of(m.begin(), m.end(), [](char ch) { return ch >= 'a' && ch <= 'z'; });
        if (!is_token(m) || !upper) {
            c.fail(item,
                   "expected an upper-case method name such as POST, got " + detail::quoted(m));
        } else if (std::find(methods.begin(), methods.begin() + static_cast<long>(i), m) !=
                   methods.begin() + static_cast<long>(i)) {
            c.fail(item, "duplicate method " + m);
        }
    }
}

/// A record that expires while it is still locked would let a retry run again. Compared
/// only when both are in range, so that one bad value is one problem; `key` is where.
void check_ttl_covers_lock(checker& c, std::string key, duration ttl, duration lock_ttl) {
    if (ttl.count() > 0 && ttl <= max_duration && lock_ttl.count() > 0 &&
        lock_ttl <= max_duration && ttl < lock_ttl)
        c.fail(std::move(key), "must be at least lock_ttl (" + format_duration(lock_ttl) +
                                   "), got " + format_duration(ttl));
}

void check_no_store(checker& c, std::string const& path, std::vector<unsigned> const& statuses) {
    for (std::size_t n = 0; n < statuses.size(); ++n)
        c.in_range(path + "[" + std::to_string(n) + "]", statuses[n], 100, 599);
}

void check_idempotency(checker& c, idempotency_config const& i) {
    check_methods(c, "idempotency.methods", i.methods);
    c.positive("idempotency.ttl", i.ttl);
    c.positive("idempotency.lock_ttl", i.lock_ttl);
    c.positive("idempotency.wait_timeout", i.wait_timeout);
    check_ttl_covers_lock(c, "idempotency.ttl", i.ttl, i.lock_ttl);
    check_no_store(c, "idempotency.no_store_statuses", i.no_store_statuses);
    c.positive("idempotency.max_stored_body", i.max_stored_body, max_stored);
    c.in_range("idempotency.max_key_length", i.max_key_length, 1, 4096);
    if (i.fingerprint == fingerprint_mode::none)
        c.fail("idempotency.fingerprint",
               "none is only allowed on a route with key_from (docs/webhooks.md)");
    if (i.credential != "authorization" &&
        !(i.credential.starts_with("header:") && is_token(i.credential.substr(7)))) {
        c.fail("idempotency.credential",
               "expected authorization or header:<Name> (e.g. header:X-Api-Key), got " +
                   detail::quoted(i.credential));
    }
    for (auto const& [key, value] :
         {std::pair{"account_header", &i.account_header}, std::pair{"key_header", &i.key_header},
          std::pair{"replay_header", &i.replay_header}}) {
        if (!is_token(*value)) {
            c.fail(std::string("idempotency.") + key,
                   "expected a header name such as X-Name, got " + detail::quoted(*value));
        }
    }
}

/// The value of an upper-case hex digit, or -1.
int upper_hex(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/// Why `match` is not a path prefix in the normal form requests are matched in
/// (http/target.hpp: escapes of unreserved characters decoded, others upper case, no empty
/// or dot segments, no query); "" when it is one.
std::string match_problem(std::string_view match) {
    if (match.empty()) return "is required: a path prefix such as /v1/payments";
    if (match.front() != '/') return "must start with /, got " + detail::quoted(match);
    constexpr std::string_view allowed = "-._~!$&'()*+,;=:@/";
    for (std::size_t i = 0; i < match.size(); ++i) {
        char const ch = match[i];
        bool const alnum =
            (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
        if (alnum || allowed.find(ch) != std::string_view::npos) continue;
        if (ch != '%') return "expected a path (no query, no space), got " + detail::quoted(match);
        if (i + 2 >= match.size() || upper_hex(match[i + 1]) < 0 || upper_hex(match[i + 2]) < 0)
            return "expected %XX escapes in upper case (as requests are compared), got " +
                   detail::quoted(match);
        auto const v = upper_hex(match[i + 1]) * 16 + upper_hex(match[i + 2]);
        bool const unreserved = (v >= 'a' && v <= 'z') || (v >= 'A' && v <= 'Z') ||
                                (v >= '0' && v <= '9') || v == '-' || v == '.' || v == '_' ||
                                v == '~';
        if (unreserved)
            return "write " + std::string(match.substr(i, 3)) +
                   " as the character it encodes (requests are compared decoded), got " +
                   detail::quoted(match);
        i += 2;
    }
    auto const path = normal_match(match);
    std::size_t start = 1;
    while (path.size() > 1 && start <= path.size()) {
        auto end = path.find('/', start);
        if (end == std::string_view::npos) end = path.size();
        auto const segment = path.substr(start, end - start);
        if (segment.empty() || segment == "." || segment == "..")
            return "expected a path without empty, . or .. segments (requests are compared in "
                   "that normal form), got " +
                   detail::quoted(match);
        start = end + 1;
    }
    return {};
}

/// A route's ledger keys (docs/webhooks.md): scope: route, fingerprint: none and verify
/// each need key_from; the secret file must hold secrets (never quoted).
void check_ledger(checker& c, std::string const& at, route_config const& r) {
    bool const keyed = !r.key_from.empty();
    if (keyed) {
        std::string why;
        if (!parse_key_from(r.key_from, why)) c.fail(at + ".key_from", why);
    }
    if (r.scope == route_scope::route && !keyed)
        c.fail(at + ".scope", "route needs key_from: a route-wide scope is for webhook ids");
    if (r.fingerprint == fingerprint_mode::none && !keyed)
        c.fail(at + ".fingerprint",
               "none needs key_from: with client keys, a reused key with another body must "
               "be refused (409)");
    if (!r.verify) return;
    auto const& v = *r.verify;
    if (!keyed)
        c.fail(at + ".verify", "needs key_from: signatures are checked on webhook deliveries");
    if (v.scheme != "standard-webhooks")
        c.fail(at + ".verify.scheme",
               "expected standard-webhooks, got " + detail::quoted(v.scheme));
    c.positive(at + ".verify.tolerance", v.tolerance, max_webhook_tolerance);
    if (v.secret_file.empty()) {
        c.fail(at + ".verify.secret_file", "is required: a file of whsec_<base64> lines");
    } else if (auto const read = read_webhook_secrets(v.secret_file); !read.error.empty()) {
        c.fail(at + ".verify.secret_file", read.error);
    }
}

/// One route: its match, and each override under the same rules as the global key; the
/// ttl/lock_ttl rule on the effective pair, reported on the key the route sets.
void check_route(checker& c, std::string const& at, route_config const& r,
                 idempotency_config const& global) {
    if (auto why = match_problem(r.match); !why.empty()) c.fail(at + ".match", std::move(why));
    if (r.methods) check_methods(c, at + ".methods", *r.methods);
    if (r.ttl) c.positive(at + ".ttl", *r.ttl);
    if (r.lock_ttl) c.positive(at + ".lock_ttl", *r.lock_ttl);
    if (r.wait_timeout) c.positive(at + ".wait_timeout", *r.wait_timeout);
    if (r.ttl || r.lock_ttl) {
        auto const p = policy_of(r, global);
        check_ttl_covers_lock(c, at + (r.ttl ? ".ttl" : ".lock_ttl"), p.ttl, p.lock_ttl);
    }
    if (r.no_store_statuses) check_no_store(c, at + ".no_store_statuses", *r.no_store_statuses);
    if (r.max_stored_body) c.positive(at + ".max_stored_body", *r.max_stored_body, max_stored);
    check_ledger(c, at, r);
}

void check_routes(checker& c, config const& cfg) {
    if (cfg.routes.size() > max_routes) {
        c.fail("routes", "at most " + std::to_string(max_routes) + " routes, got " +
                             std::to_string(cfg.routes.size()));
        return;
    }
    std::map<std::string_view, std::size_t> first; // normal match -> its first route
    for (std::size_t i = 0; i < cfg.routes.size(); ++i) {
        auto const& r = cfg.routes[i];
        auto const at = "routes[" + std::to_string(i) + "]";
        check_route(c, at, r, cfg.idempotency);
        if (r.match.empty()) continue;
        auto const [it, fresh] = first.try_emplace(normal_match(r.match), i);
        if (!fresh)
            c.fail(at + ".match", "duplicate match " + detail::quoted(r.match) + " (routes[" +
                                      std::to_string(it->second) +
                                      "] has it; a trailing / is ignored)");
    }
}

} // namespace

std::vector<problem> validate(config const& cfg) {
    checker c;
    check_server(c, cfg);
    check_tls(c, cfg);
    check_upstream(c, cfg.upstream);
    check_store(c, cfg.store);
    check_idempotency(c, cfg.idempotency);
    check_routes(c, cfg);
    return c.take();
}

std::vector<problem> warnings(config const& cfg) {
    std::vector<problem> found;
    auto const& i = cfg.idempotency;
    if (i.ttl < cfg.upstream.timeout) {
        found.push_back({{},
                         0,
                         0,
                         "idempotency.ttl",
                         "is shorter than upstream.timeout (" +
                             format_duration(cfg.upstream.timeout) +
                             "): a record can expire before its request completes"});
    }
    if (!cfg.admin.token.empty() && cfg.admin.listen.empty()) {
        found.push_back({{},
                         0,
                         0,
                         "admin.token",
                         "is set but admin.listen is empty: the records API is not served "
                         "(idemgate records still works from the command line)"});
    }
    bool const redis = cfg.store.backend == store_backend::redis;
    if (redis && i.scope_secret.empty()) {
        found.push_back({{},
                         0,
                         0,
                         "idempotency.scope_secret",
                         "is empty with the redis backend: the stored fingerprints are plain "
                         "SHA-256 of the bodies, and a low-entropy body (an amount, an id) can be "
                         "recovered from a Redis dump by brute force"});
    }
    if (redis && cfg.store.redis.mode == redis_mode::cluster &&
        cfg.store.max_records_per_credential > 0) {
        found.push_back({{},
                         0,
                         0,
                         "store.max_records_per_credential",
                         "is not enforced in cluster mode: counting a credential's records "
                         "atomically would put them all in one slot (one primary for a tenant, and "
                         "-TRYAGAIN for its new keys while that slot migrates); set it to 0 to "
                         "silence this, and bound memory with maxmemory (docs/redis.md)"});
    }
    for (std::size_t n = 0; n < cfg.routes.size(); ++n) {
        auto const& r = cfg.routes[n];
        auto const at = "routes[" + std::to_string(n) + "]";
        if (r.enabled && r.ttl && *r.ttl < cfg.upstream.timeout) {
            found.push_back({{},
                             0,
                             0,
                             at + ".ttl",
                             "is shorter than upstream.timeout (" +
                                 format_duration(cfg.upstream.timeout) +
                                 "): a record can expire before its request completes"});
        }
        bool const overrides = r.methods || r.ttl || r.lock_ttl || r.missing_key || r.concurrent ||
                               r.wait_timeout || r.fingerprint || r.no_store_statuses ||
                               r.max_stored_body || !r.key_from.empty() || r.verify;
        if (r.enabled && r.scope == route_scope::route && !r.verify) {
            found.push_back({{},
                             0,
                             0,
                             at + ".scope",
                             "is route without verify: anyone who reaches the route can post an "
                             "event id first and make the real delivery be answered from the "
                             "store (ledger poisoning), or fill the store; set verify "
                             "(docs/webhooks.md)"});
        }
        if (!r.enabled && overrides) {
            found.push_back({{},
                             0,
                             0,
                             at + ".enabled",
                             "is false: the route's other keys have no effect (its requests "
                             "are forwarded untouched)"});
        }
    }
    if (!redis && !cfg.store.encryption.keys_file.empty()) {
        found.push_back({{},
                         0,
                         0,
                         "store.encryption.keys_file",
                         "applies to the redis backend only: the memory store keeps its records "
                         "in the process, in clear"});
    }
    return found;
}

} // namespace idemgate::config
