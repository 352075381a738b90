#include "idemgate/config/parse.hpp"
#include "idemgate/config/routes.hpp"

#include "yaml_walk.hpp"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/parser.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace idemgate::config {
namespace {

using detail::map_reader;

// The schema: one function per section, one line per key of config.hpp. A key read here is
// known to the unknown-key check and gets its IDEMGATE_* override variable.

void read_limits(map_reader& m, limits_config& c) {
    m.read("max_header_bytes", c.max_header_bytes);
    m.read("max_headers", c.max_headers);
    m.read("max_request_body", c.max_request_body);
    m.read("max_connections", c.max_connections);
    m.read("headers_with_underscores", c.headers_with_underscores, detail::underscores_names);
    m.read("max_inflight", c.max_inflight);
    m.read("max_buffered_bytes", c.max_buffered_bytes);
}

void read_timeouts(map_reader& m, timeouts_config& c) {
    m.read("request_headers", c.request_headers);
    m.read("idle", c.idle);
    m.read("write", c.write);
}

void read_tls(map_reader& m, tls_config& c) {
    m.read("ca_file", c.ca_file);
    m.read("insecure_skip_verify", c.insecure_skip_verify);
    m.read("cert_file", c.cert_file);
    m.read("key_file", c.key_file);
}

void read_listener_tls(map_reader& m, listener_tls_config& c) {
    m.read("cert_file", c.cert_file);
    m.read("key_file", c.key_file);
    m.read("min_version", c.min_version, detail::tls_version_names);
    m.read("client_ca_file", c.client_ca_file);
    m.read("reload_interval", c.reload_interval);
}

void read_upstream(map_reader& m, upstream_config& c) {
    m.read("url", c.url);
    m.read("connect_timeout", c.connect_timeout);
    m.read("timeout", c.timeout);
    m.read("pool_size", c.pool_size);
    m.read("max_response_body", c.max_response_body);
    m.section("tls", c.tls, read_tls);
}

void read_memory_store(map_reader& m, memory_store_config& c) {
    m.read("max_records", c.max_records);
    m.read("max_bytes", c.max_bytes);
}

void read_redis_store(map_reader& m, redis_store_config& c) {
    m.read("mode", c.mode, detail::redis_mode_names);
    m.read("nodes", c.nodes);
    m.read("sentinel_master", c.sentinel_master);
    m.read_secret("sentinel_password", c.sentinel_password);
    m.read("url", c.url);
    m.read_secret("password", c.password);
    m.read("key_prefix", c.key_prefix);
    m.read("pool_size", c.pool_size);
    m.read("connect_timeout", c.connect_timeout);
    m.read("command_timeout", c.command_timeout);
    m.read("wait_replicas", c.wait_replicas);
    m.read("wait_timeout", c.wait_timeout);
    m.section("tls", c.tls, read_tls);
}

void read_encryption(map_reader& m, encryption_config& c) {
    m.read("keys_file", c.keys_file);
    m.read("accept_unsealed", c.accept_unsealed);
}

void read_store(map_reader& m, store_config& c) {
    m.read("backend", c.backend, detail::backend_names);
    m.read("on_unavailable", c.on_unavailable, detail::unavailable_names);
    m.read("max_records_per_credential", c.max_records_per_credential);
    m.section("memory", c.memory, read_memory_store);
    m.section("redis", c.redis, read_redis_store);
    m.section("encryption", c.encryption, read_encryption);
}

/// Methods are case-sensitive on the wire; the config accepts "post" for POST.
void upper_case(std::vector<std::string>& methods) {
    for (auto& method : methods) {
        std::transform(method.begin(), method.end(), method.begin(), [](char ch) {
            return (ch >= 'a' && ch <= 'z') ? static_cast<char>(ch - 'a' + 'A') : ch;
        });
    }
}

void read_idempotency(map_reader& m, idempotency_config& c) {
    m.read("methods", c.methods);
    upper_case(c.methods);
    m.read("ttl", c.ttl);
    m.read("lock_ttl", c.lock_ttl);
    m.read("missing_key", c.missing_key, detail::missing_key_names);
    m.read("concurrent", c.concurrent, detail::concurrent_names);
    m.read("wait_timeout", c.wait_timeout);
    m.read("fingerprint", c.fingerprint, detail::fingerprint_names);
    m.read("no_store_statuses", c.no_store_statuses);
    m.read("max_stored_body", c.max_stored_body);
    m.read("max_key_length", c.max_key_length);
    m.read("account_header", c.account_header);
    m.read("key_header", c.key_header);
    m.read("replay_header", c.replay_header);
    m.read_secret("scope_secret", c.scope_secret);
    m.read("credential", c.credential);
}

/// One override of a route: set only when the route has the key with a valid value (which
/// then replaces the global one); read either way, so that a misspelt key gets its "did you
/// mean".
template <class T, class... Names>
void read_override(map_reader& m, std::string_view key, std::optional<T>& out,
                   Names const&... names) {
    bool const present = m.has(key);
    auto const problems = m.problem_count();
    T value{};
    m.read(key, value, names...);
    if (present && m.problem_count() == problems) out = std::move(value);
}

void read_verify(map_reader& m, verify_config& v) {
    m.read("scheme", v.scheme);
    m.read("secret_file", v.secret_file);
    m.read("tolerance", v.tolerance);
}

void read_route(map_reader& m, route_config& r) {
    m.read("match", r.match);
    m.read("enabled", r.enabled);
    read_override(m, "methods", r.methods);
    if (r.methods) upper_case(*r.methods);
    read_override(m, "ttl", r.ttl);
    read_override(m, "lock_ttl", r.lock_ttl);
    read_override(m, "missing_key", r.missing_key, detail::missing_key_names);
    read_override(m, "concurrent", r.concurrent, detail::concurrent_names);
    read_override(m, "wait_timeout", r.wait_timeout);
    read_override(m, "fingerprint", r.fingerprint, detail::fingerprint_names);
    read_override(m, "no_store_statuses", r.no_store_statuses);
    read_override(m, "max_stored_body", r.max_stored_body);
    m.read("key_from", r.key_from);
    m.read("scope", r.scope, detail::route_scope_names);
    if (m.has("verify")) m.section("verify", r.verify.emplace(), read_verify);
    for (auto const key : global_only_keys)
        m.refuse(key, "is global-only: set it in the idempotency section, not in a route");
}

void read_admin(map_reader& m, admin_config& c) {
    m.read("listen", c.listen);
    m.read_secret("token", c.token);
}

void read_log(map_reader& m, log_config& c) {
    m.read("level", c.level);
    m.read("format", c.format, detail::log_format_names);
    m.read("access_log", c.access_log);
}

void read_shutdown(map_reader& m, shutdown_config& c) {
    m.read("drain_delay", c.drain_delay);
    m.read("timeout", c.timeout);
}

void read_root(map_reader& m, config& c) {
    m.read("listen", c.listen);
    m.read("threads", c.threads);
    m.section("tls", c.tls, read_listener_tls);
    m.section("limits", c.limits, read_limits);
    m.section("timeouts", c.timeouts, read_timeouts);
    m.section("upstream", c.upstream, read_upstream);
    m.section("store", c.store, read_store);
    m.section("idempotency", c.idempotency, read_idempotency);
    m.list("routes", c.routes, read_route);
    m.section("admin", c.admin, read_admin);
    m.section("log", c.log, read_log);
    m.section("shutdown", c.shutdown, read_shutdown);
}

/// Where each document of a text starts, as yaml-cpp's event parser reports them.
class document_starts : public YAML::EventHandler {
public:
    void OnDocumentStart(YAML::Mark const& mark) override { marks.push_back(mark); }
    void OnDocumentEnd() override {}
    void OnNull(YAML::Mark const&, YAML::anchor_t) override {}
    void OnAlias(YAML::Mark const&, YAML::anchor_t) override {}
    void OnScalar(YAML::Mark const&, std::string const&, YAML::anchor_t,
                  std::string const&) override {}
    void OnSequenceStart(YAML::Mark const&, std::string const&, YAML::anchor_t,
                         YAML::EmitterStyle::value) override {}
    void OnSequenceEnd() override {}
    void OnMapStart(YAML::Mark const&, std::string const&, YAML::anchor_t,
                    YAML::EmitterStyle::value) override {}
    void OnMapEnd() override {}
    std::vector<YAML::Mark> marks;
};

/// The one document of the text; nullopt (with a problem) on a syntax error or several
/// documents. An empty text is an empty (null) document.
std::optional<YAML::Node> load_document(std::string_view text, detail::walk_context& ctx) {
    try {
        // Not YAML::LoadAll: in yaml-cpp 0.7 it loops forever, taking memory, on a token the
        // parser cannot place (a ',' outside [] or {}: jbeder/yaml-cpp#1040, fixed in 0.8),
        // which gives one empty document after another at the same place. Three documents
        // at most are enough to tell.
        std::string const copy(text);
        std::istringstream in(copy);
        YAML::Parser parser(in);
        document_starts docs;
        while (docs.marks.size() < 3 && parser.HandleNextDocument(docs)) {}
        for (std::size_t i = 1; i < docs.marks.size(); ++i) {
            if (docs.marks[i].pos == docs.marks[i - 1].pos) {
                ctx.report(ctx.at(docs.marks[i]), "", "invalid YAML: unexpected token");
                return std::nullopt;
            }
        }
        if (docs.marks.size() > 1) {
            ctx.report(ctx.at(docs.marks[1]), "", "only one YAML document is allowed");
            return std::nullopt;
        }
        return docs.marks.empty() ? YAML::Node() : YAML::Load(copy);
    } catch (YAML::Exception const& e) {
        ctx.report(ctx.at(e.mark), "", "invalid YAML: " + e.msg);
        return std::nullopt;
    }
}

/// Where `key_path` was set, or else its closest parent that was (a required key missing
/// from a list item: the item); nullopt for a default.
std::optional<detail::origin> placed(detail::walk_context const& ctx, std::string_view key_path) {
    for (;;) {
        if (auto where = ctx.origin_of(std::string(key_path))) return where;
        auto const dot = key_path.rfind('.');
        if (dot == std::string_view::npos) return std::nullopt;
        key_path = key_path.substr(0, dot);
    }
}

/// Places validate()'s problems where their key was set; defaults stay unplaced.
void add_placed(std::vector<problem> found, detail::walk_context& ctx) {
    for (auto& p : found) {
        auto const where = placed(ctx, p.key_path).value_or(detail::origin{ctx.file()});
        ctx.report(where, std::move(p.key_path), std::move(p.message));
    }
}

} // namespace

std::string problem::to_string() const {
    std::string out = file;
    if (!file.empty() && line > 0) {
        out += ":" + std::to_string(line) + ":" + std::to_string(column);
    }
    if (!key_path.empty()) out += (out.empty() ? "" : " ") + key_path;
    return out.empty() ? message : out + ": " + message;
}

parse_result parse_yaml(std::string_view yaml_text, std::string_view file, env_lookup const& env) {
    parse_result result;
    try {
        detail::walk_context ctx{std::string(file), env};
        if (auto const root = load_document(yaml_text, ctx)) {
            map_reader m(ctx, *root, "");
            read_root(m, result.cfg);
            m.finish();
            add_placed(validate(result.cfg), ctx);
        }
        result.problems = std::move(ctx.problems());
    } catch (std::exception const& e) { // an env lookup or allocation failed: still no throw
        result.problems.push_back({std::string(file), 0, 0, "", e.what()});
    }
    return result;
}

parse_result load_file(std::string const& path, env_lookup const& env) {
    constexpr std::size_t max_config_bytes = 16 * 1024 * 1024;
    parse_result failed;
    try {
        std::ifstream in(path, std::ios::binary);
        if (!in) {
            failed.problems.push_back(
                {path, 0, 0, "", std::string("cannot open config file: ") + std::strerror(errno)});
            return failed;
        }
        std::string text;
        std::array<char, 64 * 1024> chunk{};
        while (text.size() <= max_config_bytes &&
               in.read(chunk.data(), chunk.size()).gcount() > 0) {
            text.append(chunk.data(), static_cast<std::size_t>(in.gcount()));
        }
        if (in.bad() || text.size() > max_config_bytes) {
            failed.problems.push_back({path, 0, 0, "", "cannot read config file (or over 16MiB)"});
            return failed;
        }
        return parse_yaml(text, path, env);
    } catch (std::exception const& e) {
        failed.problems.push_back({path, 0, 0, "", e.what()});
        return failed;
    }
}

} // namespace idemgate::config
