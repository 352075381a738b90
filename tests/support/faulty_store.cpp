#include "support/faulty_store.hpp"

#include "idemgate/error.hpp"

#include <utility>

namespace idemgate::test {

namespace {

std::size_t index_of(store_op op) noexcept {
    return static_cast<std::size_t>(op);
}

error_code unavailable() noexcept {
    return make_error_code(errc::store_unavailable);
}

} // namespace

faulty_store::faulty_store(std::unique_ptr<idemgate::store::store> inner, fault_plan plan)
    : inner_(std::move(inner)), plan_(plan) {}

void faulty_store::arm(fault_plan plan) {
    std::lock_guard const lock(mutex_);
    plan_ = plan;
    counted_ = 0;
}

std::size_t faulty_store::calls(store_op op) const noexcept {
    return calls_[index_of(op)].load();
}

faulty_store::verdict faulty_store::next(store_op op) {
    ++calls_[index_of(store_op::any)];
    ++calls_[index_of(op)];
    std::lock_guard const lock(mutex_);
    if (plan_.fail_at == 0 || (plan_.op != store_op::any && plan_.op != op)) return verdict::pass;
    ++counted_;
    bool const hit = counted_ == plan_.fail_at || (plan_.sticky && counted_ > plan_.fail_at);
    if (!hit) return verdict::pass;
    ++failures_;
    return plan_.apply_then_fail ? verdict::apply_then_fail : verdict::fail;
}

task<result<idemgate::store::begin_result>>
faulty_store::begin(idemgate::store::scope_key key, idemgate::store::fingerprint fp,
                    std::chrono::milliseconds lock_ttl) {
    auto const v = next(store_op::begin);
    if (v == verdict::fail) co_return unavailable();
    auto res = co_await inner_->begin(std::move(key), fp, lock_ttl);
    if (v == verdict::apply_then_fail) co_return unavailable();
    co_return res;
}

task<error_code> faulty_store::complete(idemgate::store::scope_key key,
                                        idemgate::store::owner_token owner,
                                        idemgate::store::stored_response response,
                                        std::chrono::milliseconds ttl) {
    auto const v = next(store_op::complete);
    if (v == verdict::fail) co_return unavailable();
    auto const ec =
        co_await inner_->complete(std::move(key), std::move(owner), std::move(response), ttl);
    co_return v == verdict::apply_then_fail ? unavailable() : ec;
}

task<error_code> faulty_store::release(idemgate::store::scope_key key,
                                       idemgate::store::owner_token owner) {
    auto const v = next(store_op::release);
    if (v == verdict::fail) co_return unavailable();
    auto const ec = co_await inner_->release(std::move(key), std::move(owner));
    co_return v == verdict::apply_then_fail ? unavailable() : ec;
}

task<error_code> faulty_store::renew(idemgate::store::scope_key key,
                                     idemgate::store::owner_token owner,
                                     std::chrono::milliseconds lock_ttl) {
    auto const v = next(store_op::renew);
    if (v == verdict::fail) co_return unavailable();
    auto const ec = co_await inner_->renew(std::move(key), std::move(owner), lock_ttl);
    co_return v == verdict::apply_then_fail ? unavailable() : ec;
}

} // namespace idemgate::test
