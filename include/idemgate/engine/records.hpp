#pragma once
// The records API (issue 13): look up or evict the record of one scope, named the way a
// client names it (API key, account, method, path, key). Shared by the admin listener's
// POST /admin/v1/records/{lookup,evict} (wired in server/) and `idemgate records` (main.cpp).
#include "idemgate/engine/scope.hpp"
#include "idemgate/net.hpp"
#include "idemgate/store/store.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace idemgate::engine {

enum class records_op { lookup, evict };

/// One answer: the HTTP status and the JSON body (one line) the API sends, and the scope hash
/// for the log ("" when the request named no valid scope). Never holds the API key.
struct records_answer {
    unsigned status = 500;
    std::string body;
    std::string scope;
};

/// `request`: `{"api_key","account"?,"method","path","key","include_body"?}`. The scope is
/// what the engine computes for such a request (`scopes`, the path normalised as a client's
/// target is, the key read as an Idempotency-Key field). `{"route","key"}` names a ledger
/// record of a `scope: route` route (docs/webhooks.md): `route` is one of `ledger_routes`
/// (config::route_scoped_matches; a trailing '/' is ignored as in the config), `key` the
/// delivery's key exactly as key_from read it.
/// 200 (lookup: the record; evict: {"evicted":true}), 404 no record, 400 bad request,
/// 500 a record that does not open or decode, 503 store unavailable.
task<records_answer> run_records(records_op op, std::string_view request, store::store& st,
                                 scope_hasher const& scopes,
                                 std::vector<std::string> const& ledger_routes);

/// The JSON of a found record, as lookup answers it (exposed for tests).
std::string record_json(store::record_found const& found, bool include_body);

/// `ms` since the epoch as RFC 3339 UTC with milliseconds: 2026-12-01T03:55:22.279Z.
std::string rfc3339_ms(std::int64_t ms);

} // namespace idemgate::engine
