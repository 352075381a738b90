#include "idemgate/store/factory.hpp"

#include "idemgate/store/memory_store.hpp"
#include "idemgate/store/redis_factory.hpp"

#include <stdexcept>

namespace idemgate::store {

namespace {

/// Every store it makes shares one memory_db, so all io_context threads see the same records.
class memory_factory final : public factory {
public:
    memory_factory(config::memory_store_config const& cfg, util::clock const& clk,
                   credential_bound bound)
        : db_(std::make_shared<memory_db>(cfg, clk, bound)) {}

    std::unique_ptr<store> make(net::any_io_executor) override {
        return std::make_unique<memory_store>(db_);
    }
    std::optional<usage> held() const override { return usage{db_->size(), db_->bytes()}; }

private:
    std::shared_ptr<memory_db> db_;
};

} // namespace

std::unique_ptr<factory> make_factory(config::store_config const& cfg, util::clock const& clk,
                                      std::chrono::milliseconds record_ttl) {
    credential_bound const bound{cfg.max_records_per_credential, record_ttl};
    switch (cfg.backend) {
    case config::store_backend::memory:
        return std::make_unique<memory_factory>(cfg.memory, clk, bound);
    case config::store_backend::redis:
        return make_redis_factory(
            cfg.redis, clk, bound,
            make_record_sealing(cfg.encryption.keys_file, cfg.encryption.accept_unsealed));
    }
    throw std::invalid_argument("unknown store backend"); // only a corrupt enum value
}

} // namespace idemgate::store
