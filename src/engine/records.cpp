#include "idemgate/engine/records.hpp"

#include "idemgate/config/routes.hpp"
#include "idemgate/engine/fingerprint.hpp"
#include "idemgate/engine/key_rules.hpp"
#include "idemgate/error.hpp"
#include "idemgate/http/target.hpp"
#include "idemgate/log/log.hpp"

#include <nlohmann/json.hpp>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <ctime>
#include <utility>
#include <variant>

namespace idemgate::engine {

namespace {

/// Longer than any max_key_length: a stored key was valid when it was stored.
constexpr std::size_t any_key_length = 64 * 1024;

records_answer error_answer(unsigned status, std::string_view code, std::string_view message,
                            std::string scope = {}) {
    nlohmann::json const body{
        {"error", {{"type", "admin_error"}, {"code", code}, {"message", message}}}};
    return {status, body.dump(), std::move(scope)};
}

std::string base64(std::string_view bytes) {
    std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
    auto const n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                   reinterpret_cast<unsigned char const*>(bytes.data()),
                                   static_cast<int>(bytes.size()));
    out.resize(n < 0 ? 0 : static_cast<std::size_t>(n));
    return out;
}

/// A string member, or nullopt when absent; `bad` is set when present but not a string.
std::optional<std::string> text_of(nlohmann::json const& j, char const* name, bool& bad) {
    auto const it = j.find(name);
    if (it == j.end() || it->is_null()) return std::nullopt;
    if (!it->is_string()) {
        bad = true;
        return std::nullopt;
    }
    return it->get<std::string>();
}

struct scope_request {
    store::scope_key key;
    bool include_body = false;
};

/// The scope a request names, or the 400 answer saying why not.
std::variant<scope_request, records_answer>
parse_request(std::string_view text, scope_hasher const& scopes,
              std::vector<std::string> const& ledger_routes) {
    auto const j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object())
        return error_answer(400, "invalid_request", "the body must be a JSON object");
    bool bad = false;
    auto const api_key = text_of(j, "api_key", bad);
    auto const account = text_of(j, "account", bad);
    auto const method = text_of(j, "method", bad);
    auto const path = text_of(j, "path", bad);
    auto const key = text_of(j, "key", bad);
    auto const route = text_of(j, "route", bad);
    auto const include = j.find("include_body");
    if (include != j.end() && !include->is_boolean()) bad = true;
    if (bad) return error_answer(400, "invalid_request", "a field has the wrong type");
    if (route) {
        if (api_key || account || method || path) {
            return error_answer(400, "invalid_request",
                                "name the scope by route and key, or by api_key, method, path "
                                "and key, not both");
        }
        auto const label = config::normal_match(*route);
        if (std::find(ledger_routes.begin(), ledger_routes.end(), label) == ledger_routes.end()) {
            return error_answer(400, "unknown_route",
                                "route is not the match of a route with scope: route");
        }
        // The key as the engine scoped it: key_from's value, not parsed as a header field.
        if (!key || key->empty()) return error_answer(400, "invalid_request", "key is required");
        scope_request out;
        out.key = scopes.make_route(label, *key);
        out.include_body = include != j.end() && include->get<bool>();
        return out;
    }
    if (!api_key || api_key->empty() || !method || method->empty() || !path || !key) {
        return error_answer(400, "invalid_request",
                            "api_key, method, path and key are required (account optional)");
    }
    auto const parsed_key = parse_idempotency_key(*key, any_key_length);
    if (!parsed_key) return error_answer(400, "invalid_request", "key is not a valid key");
    // The engine scopes the target the session normalised (contract §7).
    auto const target = http_server::normalise_target(*path, "");
    if (!path->starts_with('/') || !target)
        return error_answer(400, "invalid_request", "path is not an origin-form path");
    scope_request out;
    out.key = scopes.make(*api_key, account.value_or(""), *method, *target, *parsed_key);
    out.include_body = include != j.end() && include->get<bool>();
    return out;
}

} // namespace

std::string rfc3339_ms(std::int64_t ms) {
    auto const secs = static_cast<std::time_t>(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
    auto const frac = static_cast<int>(ms - static_cast<std::int64_t>(secs) * 1000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    std::array<char, 40> buf{};
    auto const n = std::snprintf(buf.data(), buf.size(), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                                 tm.tm_min, tm.tm_sec, frac);
    return std::string(buf.data(), n > 0 ? static_cast<std::size_t>(n) : 0);
}

std::string record_json(store::record_found const& found, bool include_body) {
    auto const& rec = found.rec;
    bool const done = rec.state == store::record_state::completed;
    nlohmann::json j{{"state", done ? "completed" : "in_progress"},
                     {"status", nullptr},
                     {"created_at", rfc3339_ms(rec.created_ms)},
                     {"expires_at", rfc3339_ms(found.expires_ms)},
                     {"fingerprint", to_hex(rec.fp)},
                     {"body_bytes", rec.response.body.size()},
                     {"body_omitted", rec.response.body_omitted}};
    if (done) j["status"] = rec.response.status;
    if (include_body) {
        auto headers = nlohmann::json::array();
        for (auto const& [name, value] : rec.response.headers)
            headers.push_back(nlohmann::json::array({name, value}));
        j["headers"] = std::move(headers);
        j["body_base64"] = base64(rec.response.body);
    }
    // A stored header or body need not be UTF-8: replaced, never a throw.
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

task<records_answer> run_records(records_op op, std::string_view request, store::store& st,
                                 scope_hasher const& scopes,
                                 std::vector<std::string> const& ledger_routes) {
    auto parsed = parse_request(request, scopes, ledger_routes);
    if (auto* answer = std::get_if<records_answer>(&parsed)) co_return std::move(*answer);
    auto req = std::get<scope_request>(std::move(parsed));
    auto scope = req.key.hash;
    if (op == records_op::evict) {
        auto const r = co_await st.evict(std::move(req.key));
        if (!r) {
            co_return error_answer(503, "store_unavailable", "the store did not answer",
                                   std::move(scope));
        }
        if (*r == store::eviction::none)
            co_return error_answer(404, "not_found", "no record", std::move(scope));
        co_return records_answer{200, R"({"evicted":true})", std::move(scope)};
    }
    auto const r = co_await st.lookup(std::move(req.key));
    if (!r && r.error() == errc::record_unreadable) {
        // The store logged why, without the record's content.
        co_return error_answer(500, "record_unreadable", "the record does not open or decode",
                               std::move(scope));
    }
    if (!r)
        co_return error_answer(503, "store_unavailable", "the store did not answer",
                               std::move(scope));
    if (!*r) co_return error_answer(404, "not_found", "no record", std::move(scope));
    co_return records_answer{200, record_json(**r, req.include_body), std::move(scope)};
}

} // namespace idemgate::engine
