#pragma once
// The whole configuration as plain aggregates; defaults are the member initialisers
// (conventions.md). Each component takes its own sub-struct by const&.
#include "idemgate/config/units.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace idemgate::config {

using namespace std::chrono_literals;

enum class missing_key_mode { passthrough, reject };
enum class concurrent_mode { reject, wait };
/// `none` (routes with key_from only): every body of a key is the same request.
enum class fingerprint_mode { body, canonical_json, none };
/// A route's scope: the usual (API key, account, method, path, key), or (route, key) for a
/// webhook-receipt ledger (docs/webhooks.md).
enum class route_scope { api_key, route };
enum class store_backend { memory, redis };
/// store.redis.mode: one primary at `url`, a Redis Cluster, or a primary found by Sentinel.
enum class redis_mode { standalone, cluster, sentinel };
enum class unavailable_mode { fail_closed, fail_open };
enum class log_format { json, text };
/// What to do with request header names containing '_' (an upstream that maps '_' and '-' to
/// one name would otherwise see fields the gateway did not: `Idempotency_Key`).
enum class underscores_mode { drop, reject, allow };

struct limits_config {
    byte_size max_header_bytes{32 * 1024};
    std::uint32_t max_headers = 100;
    byte_size max_request_body{10 * 1024 * 1024};
    std::uint32_t max_connections = 10000; // capped at start by the fd limit (RLIMIT_NOFILE)
    underscores_mode headers_with_underscores = underscores_mode::drop; // nginx's default
    std::uint32_t max_inflight = 10000; // requests handled at once, process-wide -> 503
    /// Request and response body bytes held by all sessions at once -> 503 + Retry-After.
    byte_size max_buffered_bytes{512 * 1024 * 1024};
};

struct timeouts_config {
    duration request_headers = 10s; // reading one request head (slowloris) -> 408
    duration idle = 60s;            // keep-alive idle between requests
    duration write = 30s;           // writing one response to a slow reader -> cut
};

/// A TLS client's settings (the upstream, Redis).
struct tls_config {
    std::string ca_file; // empty: system default verify paths
    bool insecure_skip_verify = false;
    /// A client certificate (PEM, leaf first) and its key, for servers that require one
    /// (mTLS); both or neither.
    std::string cert_file;
    std::string key_file;
};

/// tls.min_version of the client listener.
enum class tls_version { v1_2, v1_3 };

/// `tls`: the client listener's TLS (issue 15). Off while cert_file is empty.
struct listener_tls_config {
    std::string cert_file; // PEM, leaf first then intermediates
    std::string key_file;  // PEM, unencrypted
    tls_version min_version = tls_version::v1_2;
    /// Non-empty: clients must present a certificate this CA bundle verifies (mTLS).
    std::string client_ca_file;
    /// How often the files' mtime, size and inode are compared to decide on a reload (also on
    /// SIGHUP); bounded by min/max_tls_reload_interval.
    duration reload_interval = 60s;
};

inline constexpr duration min_tls_reload_interval = 100ms; // a stat() of three files
inline constexpr duration max_tls_reload_interval = 24h;

struct upstream_config {
    std::string url = "http://127.0.0.1:9000";
    duration connect_timeout = 5s;
    duration timeout = 30s;                        // whole response after the request is sent
    std::uint32_t pool_size = 64;                  // idle keep-alive connections kept per thread
    byte_size max_response_body{64 * 1024 * 1024}; // larger responses: 502, connection closed
    tls_config tls;
};

struct memory_store_config {
    std::uint64_t max_records = 1'000'000;
    byte_size max_bytes{256 * 1024 * 1024};
};

struct redis_store_config {
    redis_mode mode = redis_mode::standalone;
    /// cluster: seed nodes; sentinel: the sentinels ("host:port" each).
    std::vector<std::string> nodes;
    std::string sentinel_master;   // sentinel: the master name the sentinels monitor
    std::string sentinel_password; // sentinel: AUTH for the sentinels themselves
    /// redis:// or rediss://, user:password@; in cluster and sentinel modes its host:port is
    /// not used (scheme, credentials and db still are).
    std::string url = "redis://127.0.0.1:6379/0";
    std::string password; // overrides the URL's password when set
    std::string key_prefix = "idemgate:";
    std::uint32_t pool_size = 2; // pipelined connections per thread
    duration connect_timeout = 1s;
    duration command_timeout = 500ms;
    std::uint32_t wait_replicas = 0; // WAIT for this many replicas after a claim (0: off)
    duration wait_timeout = 100ms;
    tls_config tls;
};

/// store.encryption: stored responses sealed at rest (docs/operations.md "Encryption").
struct encryption_config {
    std::string keys_file; // `<id>:<base64 of 32 bytes>` per line; empty: records in clear
    /// Read records stored in clear (before encryption was turned on) instead of refusing
    /// them; for one idempotency.ttl after turning it on.
    bool accept_unsealed = false;
};

struct store_config {
    store_backend backend = store_backend::memory;
    unavailable_mode on_unavailable = unavailable_mode::fail_closed;
    /// Live records one credential (API key) may hold; beyond it a new claim gets 429, so one
    /// client cannot fill the store for every tenant (issue 9).
    std::uint64_t max_records_per_credential = 1'000'000;
    memory_store_config memory;
    redis_store_config redis;
    encryption_config encryption;
};

struct idempotency_config {
    std::vector<std::string> methods{"POST", "PATCH"};
    duration ttl = 24h;
    duration lock_ttl = 60s;
    missing_key_mode missing_key = missing_key_mode::passthrough;
    concurrent_mode concurrent = concurrent_mode::reject;
    duration wait_timeout = 10s;
    fingerprint_mode fingerprint = fingerprint_mode::body;
    std::vector<unsigned> no_store_statuses{401, 403, 408, 429, 502, 503, 504};
    byte_size max_stored_body{4 * 1024 * 1024};
    std::uint32_t max_key_length = 255;
    std::string account_header = "Chronapilot-Account";
    std::string key_header = "Idempotency-Key";
    std::string replay_header = "Chronapilot-Idempotent-Replay";
    std::string scope_secret; // HMAC-SHA-256 key for API keys in scopes; empty: plain SHA-256
    /// Where the caller's credential is: "authorization" (Bearer token or whole Basic
    /// credential) or "header:<Name>" (e.g. header:X-Api-Key).
    std::string credential = "authorization";
};

/// A route's `verify`: the Standard Webhooks signature of each delivery.
struct verify_config {
    std::string scheme = "standard-webhooks"; // the only scheme
    std::string secret_file;                  // `whsec_<base64>` per line; any of them may sign
    duration tolerance = 5min; // how far webhook-timestamp may be from now, either way
};

/// One entry of `routes`: the requests whose path is `match` or below it (on segment
/// boundaries; the longest match wins) get the global `idempotency` policy with these
/// overrides; an override left unset inherits the global value (config/routes.hpp).
struct route_config {
    std::string match;   // a path prefix, e.g. "/v1/payments"; a trailing '/' is ignored
    bool enabled = true; // false: never protected, forwarded untouched
    std::optional<std::vector<std::string>> methods; // replaces the global list
    std::optional<duration> ttl;
    std::optional<duration> lock_ttl;
    std::optional<missing_key_mode> missing_key;
    std::optional<concurrent_mode> concurrent;
    std::optional<duration> wait_timeout;
    std::optional<fingerprint_mode> fingerprint;
    std::optional<std::vector<unsigned>> no_store_statuses;
    std::optional<byte_size> max_stored_body;
    /// Where the key comes from instead of the key header (docs/webhooks.md): "json:<RFC 6901
    /// pointer>" into the body, or "header:<Name>"; empty: the key header.
    std::string key_from;
    route_scope scope = route_scope::api_key;
    std::optional<verify_config> verify; // signatures checked before the store is asked
};

struct admin_config {
    std::string listen = "127.0.0.1:9090"; // empty: no admin listener
    /// Bearer token of the records API (admin.token or admin.token_file); empty: the API is
    /// off (404). At least min_admin_token_bytes.
    std::string token;
};

inline constexpr std::size_t min_admin_token_bytes = 16;

struct log_config {
    std::string level = "info"; // trace, debug, info, warn, error, critical, off
    log_format format = log_format::json;
    bool access_log = true;
};

struct shutdown_config {
    duration drain_delay = 0s; // keep serving after SIGTERM while /readyz says 503
    duration timeout = 20s;    // then wait this long for in-flight requests
};

struct config {
    std::string listen = "0.0.0.0:8080";
    std::uint32_t threads = 0; // 0: one per usable CPU (util/cpus.hpp)
    listener_tls_config tls;   // of `listen`
    limits_config limits;
    timeouts_config timeouts;
    upstream_config upstream;
    store_config store;
    idempotency_config idempotency;
    std::vector<route_config> routes; // at most max_routes (config/routes.hpp)
    admin_config admin;
    log_config log;
    shutdown_config shutdown;
};

} // namespace idemgate::config
