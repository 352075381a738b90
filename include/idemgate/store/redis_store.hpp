#pragma once
// Backend `redis`: one string key per scope, claimed with one SET NX GET (or a Lua script when
// the credential bound is on or Redis < 7), short Lua scripts for the owner-checked steps,
// pipelined connections on the store's io_context (docs/redis.md).
#include "idemgate/config/config.hpp"
#include "idemgate/store/sealer.hpp"
#include "idemgate/store/store.hpp"

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace idemgate::redis {
class connection;
class router;
struct connection_config;
struct routed;
struct topology_stats;
} // namespace idemgate::redis

namespace idemgate::store {

/// Start-up only: parses `cfg.url` (applying `cfg.password`) and builds the TLS context for
/// rediss://. Throws std::invalid_argument naming the problem (never the password).
std::shared_ptr<redis::connection_config const>
make_redis_connection_config(config::redis_store_config const& cfg);

/// The store of one io_context, on the router of `cfg.mode` (standalone: `pool_size`
/// pipelined connections used round-robin; cluster: as many per primary; sentinel: as many to
/// the master the sentinels name). Each call is one round trip (plus one on NOSCRIPT, plus
/// WAIT when wait_replicas > 0, plus redirections in a cluster) and returns
/// errc::store_unavailable within command_timeout when Redis is slow, paused or gone; at once
/// while no connection is up. Connections reconnect in the background with backoff.
/// Thread safety: calls on the io_context of `ex` only; state() from any thread. Destroy it
/// before that io_context.
class redis_store final : public store {
public:
    /// Connects in the background at once. `conn` from make_redis_connection_config(cfg).
    /// `sealing`: stored responses are sealed (store.encryption) when it has a sealer.
    /// `stats`: shared by the stores of a process (topology metrics); null: a private one.
    redis_store(net::any_io_executor const& ex, config::redis_store_config const& cfg,
                std::shared_ptr<redis::connection_config const> const& conn,
                credential_bound bound = {}, record_sealing sealing = {},
                std::shared_ptr<redis::topology_stats> stats = nullptr);
    /// Same, building the connection config from `cfg` (throws like it).
    redis_store(net::any_io_executor const& ex, config::redis_store_config const& cfg);
    ~redis_store() override;
    redis_store(redis_store const&) = delete;
    redis_store& operator=(redis_store const&) = delete;

    task<result<begin_result>> begin(scope_key key, fingerprint fp,
                                     std::chrono::milliseconds lock_ttl) override;
    task<error_code> complete(scope_key key, owner_token owner, stored_response response,
                              std::chrono::milliseconds ttl) override;
    task<error_code> release(scope_key key, owner_token owner) override;
    task<error_code> renew(scope_key key, owner_token owner,
                           std::chrono::milliseconds lock_ttl) override;
    /// One EVALSHA (peek): the hash and its PTTL; a completed record is opened as begin opens
    /// a replay.
    task<result<std::optional<record_found>>> lookup(scope_key key) override;
    /// One EVALSHA (evict): DEL, and ZREM from the credential's set when bounded.
    task<result<eviction>> evict(scope_key key) override;
    /// Up when the router is ready: in standalone mode while at least one connection is up or
    /// making its first attempt (calls wait for it), i.e. down exactly when calls fail at
    /// once; see redis::router::ready() for the other modes.
    store_state state() const noexcept override;

    /// The Redis key of a scope: key_prefix + "{" + hash + "}" (the hash tag keeps a record
    /// in one cluster slot, and spreads records over the cluster by scope).
    std::string key_of(scope_key const& key) const;
    /// The sorted set counting a credential's records: key_prefix + "cred:" + credential; ""
    /// when the scope is not bounded (no credential, no bound, or cluster mode, where a
    /// script's keys must share one slot).
    std::string credential_key_of(scope_key const& key) const;
    /// Claims with the Lua script only, never the plain SET NX GET (the process does so by
    /// itself once a Redis < 7 refused it). Process-wide; a test hook besides.
    static void force_lua_claim(bool on) noexcept;
    static bool lua_claim_only() noexcept;
    /// Where commands go (tests: its connections, its map).
    redis::router& router() const noexcept { return *router_; }

private:
    std::chrono::steady_clock::time_point deadline() const;
    /// WAIT on `conn` (where the step's write went) for wait_replicas; false when fewer
    /// acknowledged or WAIT failed (logged and counted by `step`).
    task<bool> replicated(std::shared_ptr<redis::connection> conn, bool claim);
    /// SET k value NX PX lock_ms GET: a claim as one plain command (Redis >= 7).
    task<redis::routed> plain_claim(std::string const& k, std::string const& value,
                                    std::string const& lock_ms);
    /// release or renew.
    task<error_code> owner_step(bool release, scope_key key, owner_token owner,
                                std::chrono::milliseconds lock_ttl);

    std::string key_prefix_;
    bool cluster_ = false;
    std::chrono::milliseconds command_timeout_;
    std::uint32_t wait_replicas_;
    credential_bound bound_;
    std::chrono::milliseconds wait_timeout_;
    record_sealing sealing_;
    std::shared_ptr<redis::topology_stats> stats_;
    std::shared_ptr<redis::router> router_;
};

} // namespace idemgate::store
