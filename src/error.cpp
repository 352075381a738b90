#include "idemgate/error.hpp"

#include <string>

namespace idemgate {

error_info info_of(errc e) noexcept {
    switch (e) {
    case errc::key_invalid:
        return {400, "idempotency_key_invalid",
                "The Idempotency-Key header must be 1 to max_key_length visible ASCII "
                "characters, given once."};
    case errc::key_required:
        return {400, "idempotency_key_required",
                "This request must carry an Idempotency-Key header."};
    case errc::bad_request:
        return {400, "bad_request", "The request could not be parsed."};
    case errc::bad_framing:
        return {400, "bad_request",
                "The request's framing is ambiguous (Transfer-Encoding on HTTP/1.0, or a "
                "length that conflicts with it)."};
    case errc::bad_target:
        return {400, "bad_request",
                "The request target must be an absolute path (origin-form) that stays within "
                "the API."};
    case errc::bad_header:
        return {400, "bad_request",
                "A header field that must appear once (Host, Authorization, the account or "
                "key header) is missing, repeated, or named by Connection."};
    case errc::method_case:
        return {400, "bad_request",
                "Method names are case-sensitive: this one differs from a protected method only "
                "in case."};
    case errc::method_not_allowed:
        return {405, "method_not_allowed", "This gateway does not accept CONNECT."};
    case errc::coding_unsupported:
        return {501, "not_implemented",
                "Only the chunked transfer coding is supported; send Content-Length or "
                "Transfer-Encoding: chunked."};
    case errc::key_in_use:
        return {409, "idempotency_key_in_use",
                "This Idempotency-Key was already used with a different request body."};
    case errc::request_in_progress:
        return {409, "idempotency_request_in_progress",
                "A request with this Idempotency-Key is still being processed; retry later."};
    case errc::request_too_large:
        return {413, "request_too_large", "The request body exceeds the configured limit."};
    case errc::header_too_large:
        return {431, "request_header_fields_too_large",
                "The request head exceeds the configured limit."};
    case errc::request_timeout:
        return {408, "request_timeout", "The request was not received in time."};
    case errc::upstream_unavailable:
        return {502, "upstream_unavailable", "The upstream service could not be reached."};
    case errc::upstream_failed:
        return {502, "upstream_unavailable",
                "The upstream connection failed before a complete response arrived."};
    case errc::upstream_timeout:
        return {504, "upstream_timeout", "The upstream service did not answer in time."};
    case errc::store_unavailable:
    case errc::store_full:
    case errc::record_unreadable:
        return {503, "idempotency_store_unavailable",
                "The idempotency store is unavailable; retry later."};
    case errc::credential_limit:
        return {429, "idempotency_key_limit_reached",
                "This credential holds store.max_records_per_credential idempotency records; "
                "retry when some expire."};
    case errc::overloaded:
        return {503, "overloaded", "The gateway is handling too much at once; retry later."};
    case errc::webhook_signature_invalid:
        return {401, "webhook_signature_invalid",
                "The webhook-signature header holds no valid signature of this delivery."};
    case errc::webhook_timestamp_invalid:
        return {401, "webhook_timestamp_invalid",
                "The webhook-timestamp header is missing, not a number, or too far from now."};
    case errc::ok:
    case errc::not_owner:
        break;
    }
    return {500, "internal_error", "Internal error."};
}

namespace {
class category final : public boost::system::error_category {
public:
    char const* name() const noexcept override { return "idemgate"; }
    std::string message(int ev) const override {
        if (ev == static_cast<int>(errc::not_owner)) return "not the owner of the record";
        if (ev == static_cast<int>(errc::record_unreadable))
            return "a stored record does not open (store.encryption)";
        return std::string(info_of(static_cast<errc>(ev)).code);
    }
};
} // namespace

boost::system::error_category const& idemgate_category() noexcept {
    static category const cat;
    return cat;
}

} // namespace idemgate
