#pragma once
// Runs one coroutine to completion on an io_context from a plain test function.
#include "idemgate/net.hpp"

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>

namespace idemgate::test {

/// Spawns `t` on `ioc`, runs `ioc` until `t` finishes and returns its value (or rethrows its
/// exception). Throws std::runtime_error if `t` has not finished within `limit`, so a hung
/// test fails instead of blocking. `ioc` may be reused for the next call.
template <class T>
T run_task(net::io_context& ioc, task<T> t,
           std::chrono::milliseconds limit = std::chrono::seconds(10)) {
    // Shared with the handler: after a timeout it may still run on a later ioc.run().
    struct outcome {
        std::exception_ptr error;
        bool done = false;
        std::conditional_t<std::is_void_v<T>, bool, std::optional<T>> value{};
    };
    auto const out = std::make_shared<outcome>();
    if constexpr (std::is_void_v<T>) {
        net::co_spawn(ioc, std::move(t), [out](std::exception_ptr e) {
            out->error = e;
            out->done = true;
        });
    } else {
        net::co_spawn(ioc, std::move(t), [out](std::exception_ptr e, T v) {
            out->error = e;
            if (!e) out->value.emplace(std::move(v));
            out->done = true;
        });
    }
    ioc.restart();
    auto const deadline = std::chrono::steady_clock::now() + limit;
    while (!out->done && !ioc.stopped() && std::chrono::steady_clock::now() < deadline) {
        ioc.run_one_until(deadline);
    }
    if (!out->done) throw std::runtime_error("run_task: coroutine did not finish in time");
    if (out->error) std::rethrow_exception(out->error);
    if constexpr (!std::is_void_v<T>) return std::move(*out->value);
}

/// Same on a fresh io_context, for stores that do not care which context they run on.
template <class T>
T run_task(task<T> t, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
    net::io_context ioc;
    return run_task(ioc, std::move(t), limit);
}

} // namespace idemgate::test
