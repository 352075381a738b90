#include "idemgate/store/redis_store.hpp"

#include "idemgate/error.hpp"
#include "idemgate/redis/cluster_router.hpp"
#include "idemgate/redis/router.hpp"
#include "idemgate/redis/sentinel_router.hpp"
#include "idemgate/store/owner_token.hpp"
#include "idemgate/store/record_codec.hpp"
#include "idemgate/store/redis_record.hpp"
#include "idemgate/store/sealer.hpp"
#include "redis_script_call.hpp"

#include "idemgate/log/log.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <stdexcept>

namespace idemgate::store {

namespace {

using redis::reply;
using redis::reply_type;

error_code unavailable() noexcept {
    return make_error_code(errc::store_unavailable);
}

/// Set once a server answered the plain claim (SET NX GET, Redis >= 7) with a syntax error:
/// from then on this process claims with the Lua script only. Per process, not per server: a
/// fleet is upgraded to 7 as a whole, and a restart tries again.
std::atomic<bool> lua_claim_only_flag{false};

std::string hex_of(fingerprint const& fp) {
    constexpr std::string_view digits = "0123456789abcdef";
    std::string out;
    out.reserve(fp.size() * 2);
    for (auto const b : fp) {
        out.push_back(digits[b >> 4U]);
        out.push_back(digits[b & 0x0FU]);
    }
    return out;
}

/// Redis reads PX 0 and WAIT 0 as "delete now" and "block forever": never send 0.
std::string positive_ms(std::chrono::milliseconds d) {
    return std::to_string(std::max<std::chrono::milliseconds::rep>(d.count(), 1));
}

/// An error reply (OOM under noeviction, READONLY after a failover, WRONGTYPE, ...) or a
/// shape our scripts never produce: the step did not happen as asked.
error_code unexpected(reply const& r, std::string_view step) {
    if (r.is_error()) {
        log::warn("redis error reply", {{"step", step}, {"error", r.str}});
    } else {
        log::error("redis unexpected reply type",
                   {{"step", step}, {"type", static_cast<int>(r.type)}});
    }
    return unavailable();
}

/// The stored bytes of a completed record as the codec reads them: opened when sealed.
/// nullopt: it does not open (unknown key id, changed, another scope's), or it is in clear
/// and clear records are refused, or sealed and no key is configured. Never logs content.
std::optional<std::string> unsealed(std::string_view blob, std::string_view scope,
                                    record_sealing const& sealing) {
    bool const sealed = sealer::looks_sealed(blob);
    if (!sealing.with) {
        if (!sealed) return std::string(blob);
        log::error("redis: a stored record is sealed and store.encryption has no keys");
        return std::nullopt;
    }
    if (!sealed) {
        if (sealing.accept_unsealed) return std::string(blob);
        log::error("redis: a stored record is in clear and store.encryption.accept_unsealed "
                   "is off");
        return std::nullopt;
    }
    auto plain = sealing.with->open(scope, blob);
    if (!plain)
        log::error("redis: a stored record does not open (unknown key id, changed, or "
                   "copied from another scope)");
    return plain;
}

/// A completed record's response bytes (sealed or not) as begin's replay.
result<begin_result> replay_from(std::string_view blob, std::int64_t created_ms,
                                 fingerprint const& fp, std::string_view scope,
                                 record_sealing const& sealing) {
    auto const bytes = unsealed(blob, scope, sealing);
    if (!bytes) return make_error_code(errc::record_unreadable);
    auto rec = decode(*bytes);
    if (!rec) {
        log::error("redis begin: a stored response cannot be decoded");
        return unavailable();
    }
    // The blob holds the response; the caller matched the fingerprint and kept the time.
    rec->state = record_state::completed;
    rec->fp = fp;
    rec->owner.clear();
    rec->created_ms = created_ms;
    return begin_result{begin_kind::replay, {}, std::move(*rec)};
}

/// The record a claim found (string layout), from SET NX GET's reply or the script's.
result<begin_result> existing_of(std::string_view value, fingerprint const& fp,
                                 std::string_view scope, record_sealing const& sealing) {
    auto const d = redis_record::decode(value);
    if (!d) {
        log::error("redis begin: a stored record cannot be decoded");
        return unavailable();
    }
    if (!d->done) {
        if (d->p.fp != fp) return begin_result{begin_kind::fingerprint_mismatch, {}, {}};
        return begin_result{begin_kind::in_progress, {}, {}};
    }
    if (d->c.fp != fp) return begin_result{begin_kind::fingerprint_mismatch, {}, {}};
    return replay_from(d->c.response, d->c.created_ms, fp, scope, sealing);
}

/// A legacy hash's replay, {"replay", rs, cr}.
result<begin_result> replay_of(reply const& r, fingerprint const& fp, std::string_view scope,
                               record_sealing const& sealing) {
    auto const& blob = r.elements[1];
    auto const& created = r.elements[2];
    if (blob.type != reply_type::bulk_string || created.type != reply_type::integer) {
        return unexpected(r, "begin");
    }
    return replay_from(blob.str, created.integer, fp, scope, sealing);
}

/// The begin script's answer.
result<begin_result> parse_begin(reply const& r, fingerprint const& fp, owner_token owner,
                                 std::string_view scope, record_sealing const& sealing) {
    if (r.type != reply_type::array || r.elements.empty() || !r.elements[0].is_string()) {
        return unexpected(r, "begin");
    }
    auto const& kind = r.elements[0].str;
    if (kind == "acquired") return begin_result{begin_kind::acquired, std::move(owner), {}};
    if (kind == "value" && r.elements.size() == 2 && r.elements[1].type == reply_type::bulk_string)
        return existing_of(r.elements[1].str, fp, scope, sealing);
    if (kind == "mismatch") return begin_result{begin_kind::fingerprint_mismatch, {}, {}};
    if (kind == "in_progress") return begin_result{begin_kind::in_progress, {}, {}};
    if (kind == "limit") return make_error_code(errc::credential_limit);
    if (kind == "replay" && r.elements.size() == 3) return replay_of(r, fp, scope, sealing);
    return unexpected(r, "begin");
}

/// `-OOM ...`: the server is at maxmemory under noeviction and refused a write.
bool is_oom(reply const& r) noexcept {
    return r.is_error() && std::string_view(r.str).starts_with("OOM");
}

/// Redis refuses every write but runs reads: full under noeviction (-OOM), a failed RDB save
/// with stop-writes-on-bgsave-error (-MISCONF), min-replicas-to-write unmet (-NOREPLICAS), a
/// replica (-READONLY, standalone mode; a cluster router retries it elsewhere).
bool refuses_writes(reply const& r) noexcept {
    if (!r.is_error()) return false;
    std::string_view const e = r.str;
    return e.starts_with("OOM") || e.starts_with("MISCONF") || e.starts_with("NOREPLICAS") ||
           e.starts_with("READONLY");
}

/// The owner-checked scripts answer 1 (done) or 0 (not the owner).
error_code owner_result(result<reply> const& r, std::string_view step) {
    if (!r) return r.error();
    if (r->type != reply_type::integer) return unexpected(*r, step);
    return r->integer == 1 ? error_code{} : make_error_code(errc::not_owner);
}

std::optional<fingerprint> fingerprint_of_hex(std::string_view hex) {
    fingerprint fp{};
    if (hex.size() != fp.size() * 2) return std::nullopt;
    auto const nibble = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    for (std::size_t i = 0; i < fp.size(); ++i) {
        int const hi = nibble(hex[2 * i]);
        int const lo = nibble(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) return std::nullopt;
        fp[i] = static_cast<std::uint8_t>((hi << 4) | lo);
    }
    return fp;
}

/// The opened response of a completed record (records API), or record_unreadable.
result<record> opened(std::string_view blob, std::string_view scope,
                      record_sealing const& sealing) {
    auto const bytes = unsealed(blob, scope, sealing);
    if (!bytes) return make_error_code(errc::record_unreadable);
    auto rec = decode(*bytes);
    if (!rec) {
        log::error("redis lookup: a stored response cannot be decoded");
        return make_error_code(errc::record_unreadable);
    }
    return std::move(*rec);
}

/// peek's answer for a string record: {"s", value, now_ms, pttl_ms, pexpiretime_ms or 0}.
result<std::optional<record_found>> parse_peek_string(reply const& r, std::string_view scope,
                                                      record_sealing const& sealing) {
    auto const& e = r.elements;
    if (e.size() != 5 || e[1].type != reply_type::bulk_string || e[2].type != reply_type::integer ||
        e[3].type != reply_type::integer || e[4].type != reply_type::integer) {
        return unexpected(r, "peek");
    }
    auto const d = redis_record::decode(e[1].str);
    if (!d) {
        log::error("redis lookup: a stored record cannot be decoded");
        return make_error_code(errc::record_unreadable);
    }
    record_found out;
    if (d->done) {
        auto rec = opened(d->c.response, scope, sealing);
        if (!rec) return rec.error();
        out.rec = std::move(*rec);
        out.rec.state = record_state::completed;
        out.rec.fp = d->c.fp;
        out.rec.created_ms = d->c.created_ms;
    } else {
        out.rec.state = record_state::in_progress;
        out.rec.fp = d->p.fp;
        out.rec.created_ms = d->p.clock == redis_record::clock_kind::created_ms
                                 ? d->p.value
                                 : e[4].integer - d->p.value; // PEXPIRETIME − lock_ms
    }
    out.rec.owner.clear();
    // PTTL -1 (no expiry) is never written by the store; report it as expiring now.
    out.expires_ms = e[2].integer + std::max<std::int64_t>(e[3].integer, 0);
    return std::optional<record_found>{std::move(out)};
}

/// The peek script's answer (redis_scripts.hpp); never logs the record's content.
result<std::optional<record_found>> parse_peek(reply const& r, std::string_view scope,
                                               record_sealing const& sealing) {
    if (r.type != reply_type::array || r.elements.empty() || !r.elements[0].is_string()) {
        return unexpected(r, "peek");
    }
    if (r.elements[0].str == "none") return std::optional<record_found>{};
    if (r.elements[0].str == "s") return parse_peek_string(r, scope, sealing);
    // A hash: the previous layout.
    auto const& e = r.elements;
    if (e.size() != 6 || !e[1].is_string() || e[2].type != reply_type::integer ||
        !e[3].is_string() || e[4].type != reply_type::integer || e[5].type != reply_type::integer) {
        return unexpected(r, "peek");
    }
    auto const fp = fingerprint_of_hex(e[1].str);
    if (!fp || (e[0].str != "p" && e[0].str != "c")) {
        log::error("redis lookup: a stored record has an unknown state or fingerprint");
        return make_error_code(errc::record_unreadable);
    }
    record_found out;
    if (e[0].str == "c") {
        auto rec = opened(e[3].str, scope, sealing);
        if (!rec) return rec.error();
        out.rec = std::move(*rec);
        out.rec.state = record_state::completed;
    } else {
        out.rec.state = record_state::in_progress;
    }
    out.rec.owner.clear();
    out.rec.fp = *fp;
    out.rec.created_ms = e[2].integer;
    // PTTL -1 (no expiry) is never written by the scripts; report it as expiring now.
    out.expires_ms = e[4].integer + std::max<std::int64_t>(e[5].integer, 0);
    return std::optional<record_found>{std::move(out)};
}

std::shared_ptr<redis::router> make_router(net::any_io_executor const& ex,
                                           config::redis_store_config const& cfg,
                                           std::shared_ptr<redis::connection_config const> conn,
                                           std::shared_ptr<redis::topology_stats> stats) {
    switch (cfg.mode) {
    case config::redis_mode::cluster: {
        std::vector<redis::node_address> seeds;
        for (auto const& n : cfg.nodes) {
            auto a = redis::parse_node_address(n);
            if (!a) throw std::invalid_argument("store.redis.nodes: not host:port: " + n);
            seeds.push_back(std::move(*a));
        }
        return std::make_shared<redis::cluster_router>(ex, std::move(conn), std::move(seeds),
                                                       cfg.pool_size, std::move(stats));
    }
    case config::redis_mode::sentinel: {
        redis::sentinel_config sc;
        for (auto const& n : cfg.nodes) {
            auto a = redis::parse_node_address(n);
            if (!a) throw std::invalid_argument("store.redis.nodes: not host:port: " + n);
            sc.sentinels.push_back(std::move(*a));
        }
        sc.master_name = cfg.sentinel_master;
        sc.password = cfg.sentinel_password;
        sc.connect_timeout = cfg.connect_timeout;
        sc.tls = conn->url.tls ? conn->tls : nullptr; // rediss://: the sentinels speak TLS too
        return std::make_shared<redis::sentinel_router>(ex, std::move(conn), std::move(sc),
                                                        cfg.pool_size, std::move(stats));
    }
    case config::redis_mode::standalone:
        break;
    }
    return redis::make_standalone_router(ex, conn, cfg.pool_size);
}

} // namespace

redis_store::redis_store(net::any_io_executor const& ex, config::redis_store_config const& cfg,
                         std::shared_ptr<redis::connection_config const> const& conn,
                         credential_bound bound, record_sealing sealing,
                         std::shared_ptr<redis::topology_stats> stats)
    : key_prefix_(cfg.key_prefix), cluster_(cfg.mode == config::redis_mode::cluster),
      command_timeout_(cfg.command_timeout), wait_replicas_(cfg.wait_replicas), bound_(bound),
      wait_timeout_(cfg.wait_timeout), sealing_(std::move(sealing)),
      stats_(stats ? std::move(stats) : std::make_shared<redis::topology_stats>()),
      router_(make_router(ex, cfg, conn, stats_)) {
    router_->start();
}

redis_store::redis_store(net::any_io_executor const& ex, config::redis_store_config const& cfg)
    : redis_store(ex, cfg, make_redis_connection_config(cfg)) {}

redis_store::~redis_store() {
    router_->stop();
}

store_state redis_store::state() const noexcept {
    return router_->ready() ? store_state::up : store_state::down;
}

std::string redis_store::key_of(scope_key const& key) const {
    return key_prefix_ + "{" + key.hash + "}";
}

std::string redis_store::credential_key_of(scope_key const& key) const {
    // Not in a cluster: the set would have to share each record's slot (config warnings).
    if (cluster_ || key.credential.empty() || bound_.max_records == 0) return {};
    return key_prefix_ + "cred:" + key.credential;
}

std::chrono::steady_clock::time_point redis_store::deadline() const {
    return std::chrono::steady_clock::now() + command_timeout_;
}

void redis_store::force_lua_claim(bool on) noexcept {
    lua_claim_only_flag.store(on, std::memory_order_relaxed);
}

bool redis_store::lua_claim_only() noexcept {
    return lua_claim_only_flag.load(std::memory_order_relaxed);
}

task<redis::routed> redis_store::plain_claim(std::string const& k, std::string const& value,
                                             std::string const& lock_ms) {
    // Argument views as a named local: GCC 12 cannot keep an initializer_list across co_await.
    std::array<std::string_view, 7> const argv{"SET", k, value, "NX", "PX", lock_ms, "GET"};
    co_return co_await router_->execute(k, argv, deadline());
}

task<result<begin_result>> redis_store::begin(scope_key key, fingerprint fp,
                                              std::chrono::milliseconds lock_ttl) {
    auto owner = make_owner_token();
    if (!owner) co_return unavailable();
    auto prefix = redis_record::claim_prefix(fp, *owner);
    if (!prefix) co_return unavailable();
    auto cred = credential_key_of(key);
    auto const lock_ms = positive_ms(lock_ttl);
    auto k = key_of(key);
    redis::routed r;
    bool plain = cred.empty() && !lua_claim_only();
    if (plain) {
        // One plain command (Redis >= 7): the claim if the key is free, else the record it
        // holds, in the same reply. The lock's expiry doubles as the created time
        // (PEXPIRETIME − lock_ms), so the record stays on Redis's clock.
        auto value = *prefix + "L" + lock_ms;
        r = co_await plain_claim(k, value, lock_ms);
        if (!r.r) co_return r.r.error();
        auto const& rep = *r.r;
        if (rep.type == reply_type::nil) {
            // Acquired: the key was free and now holds the claim.
        } else if (rep.type == reply_type::bulk_string) {
            co_return existing_of(rep.str, fp, key.hash, sealing_);
        } else if (rep.is_error() && std::string_view(rep.str).starts_with("ERR syntax")) {
            // Redis < 7 refuses NX with GET, and did nothing: the script from now on.
            log::warn("redis: SET NX GET is not supported (Redis < 7); claims use the script",
                      {{"error", rep.str}});
            force_lua_claim(true);
            plain = false;
        } else if ((rep.is_error() && std::string_view(rep.str).starts_with("WRONGTYPE")) ||
                   refuses_writes(rep)) {
            // WRONGTYPE: a hash, a record of the previous layout, which the script reads.
            // A refused write (OOM, MISCONF, …): the SET was refused before it looked at the
            // key. The script reads first, as before this claim existed: a replay or a
            // conflict is still answered, and a new claim fails with the same error (503
            // before the upstream).
            plain = false;
        } else {
            co_return unexpected(rep, "begin");
        }
    }
    if (!plain) {
        std::vector<std::string> args;
        args.reserve(cred.empty() ? 3 : 6); // one allocation for the arguments
        args.push_back(std::move(*prefix));
        args.push_back(hex_of(fp));
        args.push_back(lock_ms);
        if (!cred.empty()) {
            args.push_back(std::to_string(bound_.max_records));
            args.push_back(positive_ms(bound_.record_ttl));
            args.push_back(key.hash);
        }
        r = co_await run_script(*router_, scripts().begin, std::move(k), std::move(args),
                                deadline(), std::move(cred));
        if (!r.r) co_return r.r.error();
    }
    auto out = plain ? result<begin_result>{begin_result{begin_kind::acquired, *owner, {}}}
                     : parse_begin(*r.r, fp, *owner, key.hash, sealing_);
    if (!out || out->kind != begin_kind::acquired || wait_replicas_ == 0) co_return out;
    if (co_await replicated(std::move(r.via), true)) co_return out;
    // Give the claim back so that a retry is not held off by a lock nobody will use; 503
    // before the upstream is called.
    (void)co_await owner_step(true, std::move(key), std::move(out->owner), {});
    co_return unavailable();
}

task<bool> redis_store::replicated(std::shared_ptr<redis::connection> conn, bool claim) {
    // WAIT on the connection that wrote covers every write it made so far, this one included.
    auto const n = std::to_string(wait_replicas_);
    auto const until = std::chrono::steady_clock::now() + wait_timeout_ + command_timeout_;
    auto const ms = positive_ms(wait_timeout_);
    redis::command wait{"WAIT", n, ms};
    result<reply> r = unavailable();
    if (conn) r = co_await conn->execute(std::move(wait), until);
    if (r && r->type == reply_type::integer && r->integer >= wait_replicas_) co_return true;
    auto const acknowledged = r && r->type == reply_type::integer ? r->integer : -1;
    (claim ? stats_->shortfall_claim : stats_->shortfall_complete).fetch_add(1);
    if (claim) {
        log::warn("redis: too few replicas acknowledged a claim; answering store unavailable",
                  {{"acknowledged", acknowledged}, {"wanted", wait_replicas_}});
    } else {
        log::warn("redis: too few replicas acknowledged a completed record; the client has its "
                  "answer and the record is on the primary only",
                  {{"acknowledged", acknowledged}, {"wanted", wait_replicas_}});
    }
    co_return false;
}

task<error_code> redis_store::complete(scope_key key, owner_token owner, stored_response response,
                                       std::chrono::milliseconds ttl) {
    // Only the response is sent: the script keeps the record's fingerprint and created time.
    record rec;
    rec.state = record_state::completed;
    rec.response = std::move(response);
    auto bytes = encode(rec);
    if (sealing_.with) {
        // contract §3 at rest: the scope binds the record (another scope's key cannot open it).
        bytes = sealing_.with->seal(key.hash, bytes);
        if (bytes.empty()) {
            log::error("redis complete: sealing the record failed (OpenSSL)");
            co_return unavailable();
        }
    }
    std::vector<std::string> args{std::move(owner), std::move(bytes), std::to_string(ttl.count())};
    auto r =
        co_await run_script(*router_, scripts().complete, key_of(key), std::move(args), deadline());
    // Contract §7: -OOM refused this record for its size; the caller completes it again
    // without the body rather than leave the claim to expire (and the operation to run twice).
    // A -OOM on begin stays store_unavailable: nothing ran yet, 503 before the upstream.
    if (r.r && is_oom(*r.r)) {
        log::warn("redis refused a completed record (OOM)", {{"error", r.r->str}});
        co_return make_error_code(errc::store_full);
    }
    auto const ec = owner_result(r.r, "complete");
    // The answer has gone to the client and cannot be taken back: a shortfall is logged and
    // counted, and the record stays completed on the primary (docs/redis.md).
    if (!ec && wait_replicas_ > 0) (void)co_await replicated(std::move(r.via), false);
    co_return ec;
}

task<error_code> redis_store::release(scope_key key, owner_token owner) {
    co_return co_await owner_step(true, std::move(key), std::move(owner), {});
}

task<error_code> redis_store::renew(scope_key key, owner_token owner,
                                    std::chrono::milliseconds lock_ttl) {
    co_return co_await owner_step(false, std::move(key), std::move(owner), lock_ttl);
}

task<result<std::optional<record_found>>> redis_store::lookup(scope_key key) {
    std::vector<std::string> args;
    auto r =
        co_await run_script(*router_, scripts().peek, key_of(key), std::move(args), deadline());
    if (!r.r) co_return r.r.error();
    co_return parse_peek(*r.r, key.hash, sealing_);
}

task<result<eviction>> redis_store::evict(scope_key key) {
    auto cred = credential_key_of(key);
    std::vector<std::string> args;
    if (!cred.empty()) args.push_back(key.hash);
    auto r = co_await run_script(*router_, scripts().evict, key_of(key), std::move(args),
                                 deadline(), std::move(cred));
    if (!r.r) co_return r.r.error();
    if (r.r->type != reply_type::integer) co_return unexpected(*r.r, "evict");
    co_return r.r->integer > 0 ? eviction::evicted : eviction::none;
}

task<error_code> redis_store::owner_step(bool release, scope_key key, owner_token owner,
                                         std::chrono::milliseconds lock_ttl) {
    std::vector<std::string> args{std::move(owner)};
    if (!release) args.push_back(positive_ms(lock_ttl));
    // A released claim no longer counts against its credential (see redis_scripts.cpp).
    std::string cred = release ? credential_key_of(key) : std::string{};
    if (!cred.empty()) args.push_back(key.hash);
    auto const& s = release ? scripts().release : scripts().renew;
    auto r =
        co_await run_script(*router_, s, key_of(key), std::move(args), deadline(), std::move(cred));
    co_return owner_result(r.r, s.name);
}

} // namespace idemgate::store
