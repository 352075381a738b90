#pragma once
// Builds one store per io_context; memory stores made by one factory share one map.
#include "idemgate/config/config.hpp"
#include "idemgate/store/store.hpp"
#include "idemgate/util/clock.hpp"

#include <memory>

namespace idemgate::store {

class factory {
public:
    virtual ~factory() = default;
    /// A store for use on `ex`'s io_context. Thread-safe.
    virtual std::unique_ptr<store> make(net::any_io_executor ex) = 0;
    /// Background work on startup (e.g. redis config warnings); optional.
    virtual void start() {}
};

/// `clk` must outlive the factory and its stores.
std::unique_ptr<factory> make_factory(config::store_config const& cfg, util::clock const& clk);

} // namespace idemgate::store
