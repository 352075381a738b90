#include "redis_script_call.hpp"

#include <openssl/evp.h>

#include <array>
#include <stdexcept>

namespace idemgate::store {

namespace {

// The record is one string (include/idemgate/store/redis_record.hpp): "p" fp(32) owner(32)
// "L"|"C" number, or "c" fp created ":" response. In Lua (1-based): state = sub(v, 1, 1),
// fp = sub(v, 2, 33), owner = sub(v, 34, 65), clock tag = sub(v, 66, 66), number = sub(v, 67).
// A key holding a hash is a record of the previous layout (st, fp hex, ow, cr, rs), written by
// an older replica during an upgrade: GET answers WRONGTYPE (caught with redis.pcall) and the
// script reads the hash as that version did.
// Redis TIME gives every gateway replica one clock; "L" records take theirs from the expiry
// (PEXPIRETIME − lock_ms, Redis >= 7, the only versions that write "L"). replicate_commands()
// lets Redis < 5 run writes after TIME (effects replication; the default since 5).
// Numbers are written with %.0f: Lua 5.1 prints large numbers in exponent form otherwise.

// The Lua claim: when the credential bound is on (KEYS[2]), on Redis < 7 (no SET NX GET), and
// when the plain claim met a legacy hash. ARGV[1] = "p" fp owner, ARGV[2] = fp hex (the legacy
// hash's), ARGV[3] = lock_ttl ms; when bounded ARGV[4] = the bound, ARGV[5] = ttl ms, ARGV[6] =
// the scope hash. KEYS[2] is a sorted set of the credential's scope hashes scored by when their
// record expires at the latest (claim time + idempotency.ttl). A replay stays one GET.
constexpr std::string_view begin_lua = R"lua(
pcall(redis.replicate_commands)
local v = redis.pcall('GET', KEYS[1])
if type(v) == 'table' then
  if string.sub(v.err or '', 1, 9) ~= 'WRONGTYPE' then return v end
  local h = redis.call('HMGET', KEYS[1], 'st', 'fp', 'cr', 'rs')
  if h[2] ~= ARGV[2] then return {'mismatch'} end
  if h[1] == 'p' then return {'in_progress'} end
  return {'replay', h[4], tonumber(h[3])}
end
if v then return {'value', v} end
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
redis.call('SET', KEYS[1], ARGV[1] .. 'C' .. string.format('%.0f', now), 'PX', ARGV[3])
return {'acquired'}
)lua";

// ARGV[1] = owner, ARGV[2] = the encoded response, ARGV[3] = ttl ms. One SET with an absolute
// expiry: created + ttl on Redis's clock. PXAT needs Redis >= 6.2; before it, SET then
// PEXPIREAT (a syntax error means the SET did not run). A hash is never this replica's claim.
constexpr std::string_view complete_lua = R"lua(
local v = redis.pcall('GET', KEYS[1])
if type(v) ~= 'string' or string.sub(v, 1, 1) ~= 'p' or string.sub(v, 34, 65) ~= ARGV[1] then
  return 0
end
local tag = string.sub(v, 66, 66)
local n = tonumber(string.sub(v, 67))
local created
if tag == 'C' then created = n
elseif tag == 'L' then created = redis.call('PEXPIRETIME', KEYS[1]) - n end
if not created then return redis.error_reply('ERR idemgate: unreadable record') end
local rec = 'c' .. string.sub(v, 2, 33) .. string.format('%.0f', created) .. ':' .. ARGV[2]
local at = string.format('%.0f', created + tonumber(ARGV[3]))
local r = redis.pcall('SET', KEYS[1], rec, 'PXAT', at)
if type(r) == 'table' and r.err then
  if string.sub(r.err, 1, 10) ~= 'ERR syntax' then return r end
  redis.call('SET', KEYS[1], rec)
  redis.call('PEXPIREAT', KEYS[1], at)
end
return 1
)lua";

// ARGV[1] = owner; KEYS[2], ARGV[2]: the credential's set and the scope hash (see begin).
constexpr std::string_view release_lua = R"lua(
local v = redis.pcall('GET', KEYS[1])
if type(v) == 'table' then
  if string.sub(v.err or '', 1, 9) ~= 'WRONGTYPE' then return v end
  local h = redis.call('HMGET', KEYS[1], 'st', 'ow')
  if h[1] ~= 'p' or h[2] ~= ARGV[1] then return 0 end
elseif not v or string.sub(v, 1, 1) ~= 'p' or string.sub(v, 34, 65) ~= ARGV[1] then
  return 0
end
redis.call('DEL', KEYS[1])
if KEYS[2] then redis.call('ZREM', KEYS[2], ARGV[2]) end
return 1
)lua";

// ARGV[1] = owner, ARGV[2] = lock_ttl ms. An "L" claim keeps its created time in its expiry,
// which a renewal moves: it is written down first (as "C").
constexpr std::string_view renew_lua = R"lua(
local v = redis.pcall('GET', KEYS[1])
if type(v) == 'table' then
  if string.sub(v.err or '', 1, 9) ~= 'WRONGTYPE' then return v end
  local h = redis.call('HMGET', KEYS[1], 'st', 'ow')
  if h[1] ~= 'p' or h[2] ~= ARGV[1] then return 0 end
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if not v or string.sub(v, 1, 1) ~= 'p' or string.sub(v, 34, 65) ~= ARGV[1] then return 0 end
if string.sub(v, 66, 66) == 'L' then
  local created = redis.call('PEXPIRETIME', KEYS[1]) - tonumber(string.sub(v, 67))
  redis.call('SET', KEYS[1], string.sub(v, 1, 65) .. 'C' .. string.format('%.0f', created),
             'PX', ARGV[2])
  return 1
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
)lua";

// Reads only; TIME in a script that writes nothing is allowed on every version. A string:
// {"s", value, now_ms, pttl_ms, pexpiretime_ms or 0 (for "L" claims)}; a legacy hash:
// {st, fp_hex, created_ms, encoded_response or "", now_ms, pttl_ms}.
constexpr std::string_view peek_lua = R"lua(
local v = redis.pcall('GET', KEYS[1])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if type(v) == 'table' then
  if string.sub(v.err or '', 1, 9) ~= 'WRONGTYPE' then return v end
  local h = redis.call('HMGET', KEYS[1], 'st', 'fp', 'cr', 'rs')
  if not h[1] then return {'none'} end
  return {h[1], h[2] or '', tonumber(h[3]) or 0, h[4] or '', now, redis.call('PTTL', KEYS[1])}
end
if not v then return {'none'} end
local at = 0
if string.sub(v, 1, 1) == 'p' and string.sub(v, 66, 66) == 'L' then
  at = redis.call('PEXPIRETIME', KEYS[1])
end
return {'s', v, now, redis.call('PTTL', KEYS[1]), at}
)lua";

// KEYS[2], ARGV[1]: the credential's set and the scope hash (see begin), when bounded. DEL
// takes either layout.
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
