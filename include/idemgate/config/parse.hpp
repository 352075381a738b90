#pragma once
// YAML -> config, collecting every problem instead of stopping at the first; the effective
// config as YAML with secrets redacted. The address syntax that validate() checks is in
// host_port.hpp and url.hpp, included here for callers of both.
#include "idemgate/config/config.hpp"
#include "idemgate/config/env.hpp"
#include "idemgate/config/host_port.hpp"
#include "idemgate/config/url.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace idemgate::config {

/// One problem: "file:line:col key.path: message" when printed.
struct problem {
    std::string file; // config file; "environment IDEMGATE_X" for an override variable
    int line = 0;     // 1-based; 0 when unknown
    int column = 0;
    std::string key_path; // e.g. "idempotency.lock_ttl", "idempotency.methods[1]"
    std::string message;  // e.g. "expected a duration such as 500ms, 60s or 24h, got \"60\""
    /// "file:line:col key.path: message"; the position is left out when line is 0, the key
    /// path when empty (YAML syntax errors), the file when empty (validate() alone).
    std::string to_string() const;
};

struct parse_result {
    config cfg;
    std::vector<problem> problems; // empty: cfg is valid
    bool ok() const noexcept { return problems.empty(); }
};

/// Parses YAML text. Unknown keys, duplicate keys, wrong types, bad units and out-of-range
/// values are problems. `${VAR}` and `${VAR:-default}` in scalars are expanded from `env`
/// (an unset VAR without default is a problem). `IDEMGATE_<KEY_PATH>` variables in `env`
/// replace the value of that key (lists comma-separated) before it is converted.
/// `store.redis.password_file` and `idempotency.scope_secret_file` read those secrets from
/// files. `file` names the source in problems. A value that fails keeps its default.
/// Never throws.
parse_result parse_yaml(std::string_view yaml_text, std::string_view file = "<config>",
                        env_lookup const& env = process_env());

/// Reads and parses a file; a missing/unreadable file is one problem. Never throws.
parse_result load_file(std::string const& path, env_lookup const& env = process_env());

/// Range and syntax rules on a config however it was built (listen addresses, URL schemes,
/// methods, status codes, positive durations, ...). parse_yaml applies it and places each
/// problem at the key's position; alone, problems have no file or position.
std::vector<problem> validate(config const& cfg);

/// Settings that are valid but risky (contract §7: a `ttl` shorter than `upstream.timeout`),
/// each as a problem without position; printed by --check-config and logged at start.
std::vector<problem> warnings(config const& cfg);

/// The effective configuration as YAML that parse_yaml accepts, with secrets (redis
/// password, scope_secret, a password in store.redis.url) replaced by "***".
std::string to_yaml(config const& cfg);

/// The YAML spelling of each enum value ("fail_closed", "canonical_json", ...).
std::string_view name_of(missing_key_mode m) noexcept;
std::string_view name_of(concurrent_mode m) noexcept;
std::string_view name_of(fingerprint_mode m) noexcept;
std::string_view name_of(store_backend b) noexcept;
std::string_view name_of(redis_mode m) noexcept;
std::string_view name_of(unavailable_mode m) noexcept;
std::string_view name_of(log_format f) noexcept;

} // namespace idemgate::config
