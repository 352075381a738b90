#pragma once
// The redis backend's entry point, kept apart so factory.cpp does not see redis internals.
#include "idemgate/config/config.hpp"
#include "idemgate/store/factory.hpp"
#include "idemgate/store/sealer.hpp"
#include "idemgate/util/clock.hpp"

#include <memory>

namespace idemgate::store {

/// A factory of redis stores sharing `cfg` (defined in src/store/redis_factory.cpp). `clk` must
/// outlive the factory and its stores.
std::unique_ptr<factory> make_redis_factory(config::redis_store_config const& cfg,
                                            util::clock const& clk, credential_bound bound = {},
                                            record_sealing sealing = {});

} // namespace idemgate::store
