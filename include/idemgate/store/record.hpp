#pragma once
// What the store keeps per scope: contract §2 (in progress) and §3 (completed).
#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace idemgate::store {

/// SHA-256 of the request (contract §2 "fingerprint"); raw bytes.
using fingerprint = std::array<std::uint8_t, 32>;

/// Random token naming the request that holds an in-progress record (hex text, 32 chars).
using owner_token = std::string;

/// Store key of a scope: `hex(SHA-256(scope tuple))`, 64 chars. Never holds an API key.
struct scope_key {
    scope_key() = default;
    /// Not explicit: `{hash}` and `{hash, credential}` read as the aggregate this was.
    scope_key(std::string h, std::string c = {}) : hash(std::move(h)), credential(std::move(c)) {}

    std::string hash;
    /// The hashed API key of the scope (hex, as in the tuple), so that a store can bound the
    /// records of one credential (store.max_records_per_credential); empty: not bounded.
    std::string credential;
    friend bool operator==(scope_key const&, scope_key const&) = default;
};

enum class record_state : std::uint8_t { in_progress = 1, completed = 2 };

using header_list = std::vector<std::pair<std::string, std::string>>;

/// The response kept for replay (end-to-end headers only, contract §3).
struct stored_response {
    unsigned status = 0;
    header_list headers;
    std::string body;
    /// The upstream body exceeded idempotency.max_stored_body: `body` is empty and a replay
    /// says so (docs/behaviour.md).
    bool body_omitted = false;
    friend bool operator==(stored_response const&, stored_response const&) = default;
};

/// What store::begin found (contract §2's table); here so pure code needs no Asio.
enum class begin_kind {
    acquired,             // no record: an in-progress record owned by `owner` was created
    replay,               // completed, same fingerprint: `existing` holds it
    fingerprint_mismatch, // any state, different fingerprint
    in_progress,          // in progress, same fingerprint
};

struct record {
    record_state state = record_state::in_progress;
    fingerprint fp{};
    owner_token owner;           // set while in progress
    std::int64_t created_ms = 0; // first request's start (ms since epoch)
    stored_response response;    // set when completed
    friend bool operator==(record const&, record const&) = default;
};

} // namespace idemgate::store
