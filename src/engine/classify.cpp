#include "idemgate/engine/classify.hpp"

#include "idemgate/engine/key_rules.hpp"

#include <algorithm>

namespace idemgate::engine {

namespace {

classification passthrough(passthrough_reason reason) {
    classification c;
    c.kind = request_class::passthrough;
    c.reason = reason;
    return c;
}

classification rejected(errc error) {
    classification c;
    c.kind = request_class::rejected;
    c.error = error;
    return c;
}

char to_upper(char c) noexcept {
    return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
}

/// Config methods are upper case and HTTP methods are case-sensitive (RFC 9110 §9.1), so the
/// match is exact: `post` is not `POST`.
bool is_protected_method(std::string_view method, config::idempotency_config const& cfg) {
    return std::any_of(cfg.methods.begin(), cfg.methods.end(),
                       [method](std::string const& m) { return m == method; });
}

/// `post` for a protected `POST`: forwarded unprotected, an upstream that ignores the case
/// of methods would run it twice.
bool is_protected_but_for_case(std::string_view method, config::idempotency_config const& cfg) {
    return std::any_of(cfg.methods.begin(), cfg.methods.end(), [method](std::string const& m) {
        return std::equal(m.begin(), m.end(), method.begin(), method.end(),
                          [](char a, char b) { return a == to_upper(b); });
    });
}

} // namespace

std::optional<classification> classify_method(request_view const& req,
                                              config::idempotency_config const& cfg) {
    if (is_protected_method(req.method, cfg)) return std::nullopt;
    if (is_protected_but_for_case(req.method, cfg)) return rejected(errc::method_case);
    return passthrough(passthrough_reason::method);
}

classification classify(request_view const& req, config::idempotency_config const& cfg) {
    // Contract §1, in order: the method first, so that GET with a key is never touched.
    if (auto by_method = classify_method(req, cfg)) return std::move(*by_method);

    std::optional<std::string> api_key;
    if (req.credential) {
        api_key = req.credential_is_header ? credential_of_header(*req.credential)
                                           : api_key_of(*req.credential);
    }
    if (!api_key) return passthrough(passthrough_reason::no_api_key);

    if (req.idempotency_keys.empty()) {
        if (cfg.missing_key == config::missing_key_mode::reject) {
            return rejected(errc::key_required);
        }
        return passthrough(passthrough_reason::missing_key);
    }
    if (req.idempotency_keys.size() > 1) return rejected(errc::key_invalid);

    auto key = parse_idempotency_key(req.idempotency_keys.front(), cfg.max_key_length);
    if (!key) return rejected(errc::key_invalid);

    classification c;
    c.kind = request_class::protected_request;
    c.key = std::move(*key);
    c.api_key = std::move(*api_key);
    return c;
}

} // namespace idemgate::engine
