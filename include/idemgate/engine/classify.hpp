#pragma once
// Contract §1: which requests are protected. Pure.
#include "idemgate/config/config.hpp"
#include "idemgate/engine/request_view.hpp"
#include "idemgate/error.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace idemgate::engine {

enum class request_class {
    protected_request, // section 2 applies; key and api_key are set
    passthrough,       // forwarded untouched, never stored
    rejected,          // answered by idemgate with `error`; upstream not called
};

/// Why a request is forwarded unprotected: the access log's `unprotected` field tells an
/// operator why a key was not honoured (docs/operations.md).
enum class passthrough_reason { none, method, no_api_key, missing_key, route_disabled };

constexpr std::string_view name_of(passthrough_reason r) noexcept {
    constexpr std::string_view names[] = {"", "method", "no_api_key", "missing_key",
                                          "route_disabled"};
    return names[static_cast<int>(r)];
}

struct classification {
    request_class kind = request_class::passthrough;
    passthrough_reason reason = passthrough_reason::none;
    errc error = errc::ok; // when rejected: key_invalid or key_required
    std::string key;       // the Idempotency-Key, unquoted
    std::string api_key;   // never logged nor stored in clear
};

/// Contract §1's first step alone: nullopt when `req`'s method is protected; otherwise the
/// passthrough (method) or, for a protected method in another case, rejected(method_case).
std::optional<classification> classify_method(request_view const& req,
                                              config::idempotency_config const& cfg);

/// Order: method not protected -> passthrough (even with a key); no usable API key ->
/// passthrough; no key -> missing_key policy; two or more key fields or an invalid key ->
/// rejected(key_invalid); else protected.
classification classify(request_view const& req, config::idempotency_config const& cfg);

} // namespace idemgate::engine
