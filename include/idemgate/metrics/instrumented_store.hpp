#pragma once
// A store decorator that times and counts every call (idemgate_store_*), so that backends
// stay free of metrics.
#include "idemgate/metrics/metrics.hpp"
#include "idemgate/store/store.hpp"

#include <memory>

namespace idemgate::metrics {

/// Same thread-safety as the wrapped store. `m` must outlive it.
class instrumented_store final : public idemgate::store::store {
public:
    instrumented_store(std::unique_ptr<idemgate::store::store> inner, metrics& m)
        : inner_(std::move(inner)), metrics_(m) {}

    task<result<idemgate::store::begin_result>> begin(idemgate::store::scope_key key,
                                                      idemgate::store::fingerprint fp,
                                                      std::chrono::milliseconds lock_ttl) override;
    task<error_code> complete(idemgate::store::scope_key key, idemgate::store::owner_token owner,
                              idemgate::store::stored_response response,
                              std::chrono::milliseconds ttl) override;
    task<error_code> release(idemgate::store::scope_key key,
                             idemgate::store::owner_token owner) override;
    task<error_code> renew(idemgate::store::scope_key key, idemgate::store::owner_token owner,
                           std::chrono::milliseconds lock_ttl) override;
    idemgate::store::store_state state() const noexcept override { return inner_->state(); }

private:
    error_code record(store_op op, std::chrono::steady_clock::time_point t0, error_code ec);

    std::unique_ptr<idemgate::store::store> inner_;
    metrics& metrics_;
};

} // namespace idemgate::metrics
