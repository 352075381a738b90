#include "idemgate/store/instrumented_store.hpp"

#include "idemgate/error.hpp"

namespace idemgate::store {

using std::chrono::steady_clock;

error_code instrumented_store::record(metrics::store_op op, steady_clock::time_point t0,
                                      error_code ec) {
    auto const secs = std::chrono::duration<double>(steady_clock::now() - t0).count();
    // A refusal by store.max_records_per_credential is an answer, not a failing store.
    bool const answered = !ec || ec == errc::credential_limit;
    metrics_.store(op, secs, answered);
    if (!answered) metrics_.store_failed(ec);
    return ec;
}

task<result<begin_result>> instrumented_store::begin(scope_key key, fingerprint fp,
                                                     std::chrono::milliseconds lock_ttl) {
    auto const t0 = steady_clock::now();
    auto r = co_await inner_->begin(std::move(key), fp, lock_ttl);
    record(metrics::store_op::begin, t0, r ? error_code{} : r.error());
    co_return r;
}

task<error_code> instrumented_store::complete(scope_key key, owner_token owner,
                                              stored_response response,
                                              std::chrono::milliseconds ttl) {
    auto const t0 = steady_clock::now();
    auto const bytes = response.body.size();
    auto ec = co_await inner_->complete(std::move(key), std::move(owner), std::move(response), ttl);
    if (!ec) metrics_.stored_response(bytes);
    co_return record(metrics::store_op::complete, t0, ec);
}

task<error_code> instrumented_store::release(scope_key key, owner_token owner) {
    auto const t0 = steady_clock::now();
    auto ec = co_await inner_->release(std::move(key), std::move(owner));
    co_return record(metrics::store_op::release, t0, ec);
}

task<error_code> instrumented_store::renew(scope_key key, owner_token owner,
                                           std::chrono::milliseconds lock_ttl) {
    auto const t0 = steady_clock::now();
    auto ec = co_await inner_->renew(std::move(key), std::move(owner), lock_ttl);
    co_return record(metrics::store_op::renew, t0, ec);
}

} // namespace idemgate::store
