#pragma once
// A store decorator that fails a chosen call (Beast's fail_count for the store), to prove that
// a store failure never lets an operation run twice.
#include "idemgate/store/store.hpp"

#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>

namespace idemgate::test {

/// Which calls a fault_plan counts.
enum class store_op { any, begin, complete, release, renew };

/// When and how a faulty_store fails.
struct fault_plan {
    store_op op = store_op::any; // only calls of this kind are counted (any: all of them)
    std::size_t fail_at = 0;     // the n-th counted call fails (1-based); 0: never
    bool sticky = false;         // every counted call after the n-th fails too
    /// The failing call is still applied by the inner store, then reported as
    /// store_unavailable: an unknown outcome (e.g. a complete that reached redis, then the
    /// connection dropped). Otherwise the inner store is not called.
    bool apply_then_fail = false;
};

/// Forwards to `inner` except for the calls `plan` selects, which return
/// errc::store_unavailable. Counters are atomic; use one instance per io_context like any store.
class faulty_store final : public idemgate::store::store {
public:
    faulty_store(std::unique_ptr<idemgate::store::store> inner, fault_plan plan);

    /// Replaces the plan and restarts counting (failures() is kept).
    void arm(fault_plan plan);

    /// Calls seen of `op` (any: all calls), counted since construction.
    std::size_t calls(store_op op) const noexcept;
    /// Calls that were reported as failed.
    std::size_t failures() const noexcept { return failures_.load(); }

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
    /// Forwarded, never failed nor counted (the records API).
    task<result<std::optional<idemgate::store::record_found>>>
    lookup(idemgate::store::scope_key key) override {
        co_return co_await inner_->lookup(std::move(key));
    }
    task<result<idemgate::store::eviction>> evict(idemgate::store::scope_key key) override {
        co_return co_await inner_->evict(std::move(key));
    }
    idemgate::store::store_state state() const noexcept override { return inner_->state(); }

private:
    enum class verdict { pass, fail, apply_then_fail };
    verdict next(store_op op);

    std::unique_ptr<idemgate::store::store> inner_;
    mutable std::mutex mutex_; // guards plan_ and counted_ (never held across co_await)
    fault_plan plan_;
    std::size_t counted_ = 0;
    std::atomic<std::size_t> calls_[5] = {};
    std::atomic<std::size_t> failures_{0};
};

} // namespace idemgate::test
