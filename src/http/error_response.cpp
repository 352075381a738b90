#include "idemgate/http/error_response.hpp"

#include <nlohmann/json.hpp>

namespace idemgate::http_errors {

response make(errc e, unsigned version, bool keep_alive) {
    auto const info = info_of(e);
    nlohmann::ordered_json body{{"error",
                                 {{"type", "idempotency_error"},
                                  {"code", std::string(info.code)},
                                  {"message", std::string(info.message)}}}};
    response res{static_cast<http::status>(info.status), version};
    res.set(http::field::content_type, "application/json");
    res.set(http::field::cache_control, "no-store");
    if (info.status == 503 || e == errc::request_in_progress)
        res.set(http::field::retry_after, "1");
    // A credential's records free up as they expire (idempotency.ttl): a slower retry.
    if (e == errc::credential_limit) res.set(http::field::retry_after, "60");
    res.body() = body.dump();
    res.keep_alive(keep_alive);
    res.prepare_payload();
    return res;
}

} // namespace idemgate::http_errors
