#include "redis_script_call.hpp"

#include <openssl/evp.h>

#include <array>
#include <stdexcept>

namespace idemgate::store {

namespace {

// Hash fields: st = "p" (in progress) | "c" (completed), fp = fingerprint (hex), ow = owner
// token (in progress only), cr = created (ms since epoch, Redis TIME), rs = encoded response.
// Redis TIME gives every gateway replica one clock. replicate_commands() lets Redis < 5 run
// writes after TIME (effects replication; the default since Redis 5, a no-op in 7).

// The credential bound (store.max_records_per_credential): KEYS[2], when given, is a sorted set
// of the credential's scope hashes scored by when their record expires at the latest (claim
// time + idempotency.ttl); ARGV[4] = the bound, ARGV[5] = ttl ms, ARGV[6] = the scope hash.
// Only a new claim touches it; a replay stays one HMGET. In Redis Cluster both keys would need
// one hash slot (they do not share a hash tag today).
constexpr std::string_view begin_lua = R"lua(
pcall(redis.replicate_commands)
local v = redis.call('HMGET', KEYS[1], 'st', 'fp', 'cr', 'rs')
if not v[1] then
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  if KEYS[2] then
    local max = tonumber(ARGV[4])
    if redis.call('ZCARD', KEYS[2]) >= max then
      redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
      if redis.call('ZCARD', KEYS[2]) >= max then return {'limit'} end
    end
    redis.call('ZADD', KEYS[2], now + tonumber(ARGV[5]), ARGV[6])
    redis.call('PEXPIRE', KEYS[2], ARGV[5])
  end
  redis.call('HSET', KEYS[1], 'st', 'p', 'fp', ARGV[1], 'ow', ARGV[2], 'cr', now)
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return {'acquired', now}
end
if v[2] ~= ARGV[1] then return {'mismatch'} end
if v[1] == 'p' then return {'in_progress'} end
return {'replay', v[4], tonumber(v[3])}
)lua";

constexpr std::string_view complete_lua = R"lua(
local v = redis.call('HMGET', KEYS[1], 'st', 'ow', 'cr')
if v[1] ~= 'p' or v[2] ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'st', 'c', 'rs', ARGV[2])
redis.call('HDEL', KEYS[1], 'ow')
redis.call('PEXPIREAT', KEYS[1], tonumber(v[3]) + tonumber(ARGV[3]))
return 1
)lua";

// KEYS[2], ARGV[2]: the credential's set and the scope hash (see begin), when bounded.
constexpr std::string_view release_lua = R"lua(
local v = redis.call('HMGET', KEYS[1], 'st', 'ow')
if v[1] ~= 'p' or v[2] ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
if KEYS[2] then redis.call('ZREM', KEYS[2], ARGV[2]) end
return 1
)lua";

constexpr std::string_view renew_lua = R"lua(
local v = redis.call('HMGET', KEYS[1], 'st', 'ow')
if v[1] ~= 'p' or v[2] ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
)lua";

// TIME in a script that writes nothing: allowed on every version, and the clock of begin.
constexpr std::string_view peek_lua = R"lua(
local v = redis.call('HMGET', KEYS[1], 'st', 'fp', 'cr', 'rs')
if not v[1] then return {'none'} end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
return {v[1], v[2] or '', tonumber(v[3]) or 0, v[4] or '', now, redis.call('PTTL', KEYS[1])}
)lua";

// KEYS[2], ARGV[1]: the credential's set and the scope hash (see begin), when bounded.
constexpr std::string_view evict_lua = R"lua(
local n = redis.call('DEL', KEYS[1])
if KEYS[2] then redis.call('ZREM', KEYS[2], ARGV[1]) end
return n
)lua";

script make_script(std::string_view name, std::string_view body) {
    return script{name, body, sha1_hex(body)};
}

bool is_noscript(result<reply> const& r) {
    return r && r->is_error() && std::string_view(r->str).starts_with("NOSCRIPT");
}

} // namespace

std::string sha1_hex(std::string_view text) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
    unsigned int len = 0;
    if (EVP_Digest(text.data(), text.size(), md.data(), &len, EVP_sha1(), nullptr) != 1) {
        throw std::runtime_error("SHA1 failed");
    }
    constexpr std::string_view digits = "0123456789abcdef";
    std::string hex;
    hex.reserve(2 * len);
    for (unsigned int i = 0; i < len; ++i) {
        hex.push_back(digits[md[i] >> 4]);
        hex.push_back(digits[md[i] & 0x0f]);
    }
    return hex;
}

script_set const& scripts() {
    static script_set const set{
        make_script("begin", begin_lua),     make_script("complete", complete_lua),
        make_script("release", release_lua), make_script("renew", renew_lua),
        make_script("peek", peek_lua),       make_script("evict", evict_lua)};
    return set;
}

task<routed> run_script(redis::router& via, script s, std::string key,
                        std::vector<std::string> args, redis::router::time_point deadline,
                        std::string key2) {
    std::vector<std::string_view> argv{"EVALSHA", s.sha1, key2.empty() ? "1" : "2", key};
    if (!key2.empty()) argv.push_back(key2);
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = co_await via.execute(key, argv, deadline);
    if (!is_noscript(r.r)) co_return r;
    // NOSCRIPT: nothing ran, so a second attempt cannot run it twice. On the connection that
    // answered: that node lacks the script (and it keeps one connection's buffers warm).
    argv[0] = "EVAL";
    argv[1] = s.body;
    if (!r.via) co_return co_await via.execute(key, argv, deadline);
    auto again = co_await r.via->execute(redis::command(argv), deadline);
    // A cluster node answering NOSCRIPT for an -ASK target may redirect the bare EVAL: the
    // router follows that (a redirect means it did not run).
    if (again && again->is_error() &&
        (again->str.starts_with("MOVED") || again->str.starts_with("ASK")))
        co_return co_await via.execute(key, argv, deadline);
    co_return routed{std::move(again), std::move(r.via)};
}

} // namespace idemgate::store
