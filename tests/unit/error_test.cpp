// Contract §5: the status and JSON code of every error idemgate writes itself.
#include "idemgate/error.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace idemgate {
namespace {

struct row {
    errc e;
    unsigned status;
    std::string code;
};

// Written from contract §5's table (plus the 408/431/503 of conventions.md), not from error.cpp.
row const contract_rows[] = {
    {errc::key_invalid, 400, "idempotency_key_invalid"},
    {errc::key_required, 400, "idempotency_key_required"},
    {errc::bad_request, 400, "bad_request"},
    {errc::key_in_use, 409, "idempotency_key_in_use"},
    {errc::request_in_progress, 409, "idempotency_request_in_progress"},
    {errc::request_too_large, 413, "request_too_large"},
    {errc::upstream_unavailable, 502, "upstream_unavailable"},
    {errc::upstream_failed, 502, "upstream_unavailable"},
    {errc::upstream_timeout, 504, "upstream_timeout"},
    {errc::store_unavailable, 503, "idempotency_store_unavailable"},
    {errc::store_full, 503, "idempotency_store_unavailable"},
    {errc::record_unreadable, 503, "idempotency_store_unavailable"},
    {errc::header_too_large, 431, "request_header_fields_too_large"},
    {errc::request_timeout, 408, "request_timeout"},
    // contract §7: hostile input
    {errc::bad_framing, 400, "bad_request"},
    {errc::bad_target, 400, "bad_request"},
    {errc::bad_header, 400, "bad_request"},
    {errc::method_case, 400, "bad_request"},
    {errc::method_not_allowed, 405, "method_not_allowed"},
    {errc::coding_unsupported, 501, "not_implemented"},
    {errc::overloaded, 503, "overloaded"}, // issue 9: limits.max_inflight, max_buffered_bytes
    {errc::credential_limit, 429, "idempotency_key_limit_reached"},
    {errc::webhook_signature_invalid, 401, "webhook_signature_invalid"}, // issue 13: verify
    {errc::webhook_timestamp_invalid, 401, "webhook_timestamp_invalid"},
    {errc::ok, 500, "internal_error"},
    {errc::not_owner, 500, "internal_error"},
};

TEST(info_of, maps_every_error_to_its_contract_status_and_code) {
    for (auto const& r : contract_rows) {
        auto const info = info_of(r.e);
        EXPECT_EQ(info.status, r.status) << r.code;
        EXPECT_EQ(info.code, r.code) << static_cast<int>(r.e);
        EXPECT_FALSE(info.message.empty()) << r.code;
    }
}

TEST(info_of, covers_every_code_of_the_contract_table) {
    std::set<std::string> codes;
    for (auto const& r : contract_rows) codes.insert(std::string(info_of(r.e).code));
    for (std::string const code :
         {"idempotency_key_invalid", "idempotency_key_required", "bad_request",
          "idempotency_key_in_use", "idempotency_request_in_progress", "request_too_large",
          "upstream_unavailable", "idempotency_store_unavailable", "upstream_timeout"}) {
        EXPECT_EQ(codes.count(code), 1U) << code;
    }
}

TEST(error_code, converts_from_errc_in_the_idemgate_category) {
    boost::system::error_code const ec = errc::key_in_use;
    EXPECT_EQ(ec.category().name(), std::string("idemgate"));
    EXPECT_EQ(ec.value(), static_cast<int>(errc::key_in_use));
    EXPECT_EQ(ec.message(), "idempotency_key_in_use");
    EXPECT_TRUE(ec);
    EXPECT_EQ(ec, make_error_code(errc::key_in_use));
    EXPECT_NE(ec, make_error_code(errc::key_invalid));
}

TEST(error_code, names_not_owner_in_its_message) {
    EXPECT_EQ(make_error_code(errc::not_owner).message(), "not the owner of the record");
}

} // namespace
} // namespace idemgate
