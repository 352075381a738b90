#pragma once
// A store decorator that times and counts every call (idemgate_store_*), so that backends
// stay free of metrics.
#include "idemgate/metrics/metrics.hpp"
#include "idemgate/store/store.hpp"

#include <memory>

namespace idemgate::store {

/// Same thread-safety as the wrapped store. `m` must outlive it.
class instrumented_store final : public store {
public:
    instrumented_store(std::unique_ptr<store> inner, metrics::metrics& m)
        : inner_(std::move(inner)), metrics_(m) {}

    task<result<begin_result>> begin(scope_key key, fingerprint fp,
                                     std::chrono::milliseconds lock_ttl) override;
    task<error_code> complete(scope_key key, owner_token owner, stored_response response,
                              std::chrono::milliseconds ttl) override;
    task<error_code> release(scope_key key, owner_token owner) override;
    task<error_code> renew(scope_key key, owner_token owner,
                           std::chrono::milliseconds lock_ttl) override;
    /// The records API's calls are forwarded untimed (idemgate_admin_requests_total counts
    /// them).
    task<result<std::optional<record_found>>> lookup(scope_key key) override {
        co_return co_await inner_->lookup(std::move(key));
    }
    task<result<eviction>> evict(scope_key key) override {
        co_return co_await inner_->evict(std::move(key));
    }
    store_state state() const noexcept override { return inner_->state(); }

private:
    error_code record(metrics::store_op op, std::chrono::steady_clock::time_point t0,
                      error_code ec);

    std::unique_ptr<store> inner_;
    metrics::metrics& metrics_;
};

} // namespace idemgate::store
