#pragma once
// Wires the pipeline: one worker (io_context, store, upstream pool, engine, acceptor) per
// thread, the admin listener and signal handling on the main thread.
#include "idemgate/config/config.hpp"

#include <memory>

namespace idemgate::server {

class gateway {
public:
    /// Throws std::runtime_error on setup failure (bind, TLS context, store backend).
    explicit gateway(config::config cfg);
    ~gateway();
    gateway(gateway const&) = delete;
    gateway& operator=(gateway const&) = delete;

    /// Serves until SIGTERM/SIGINT, then drains (contract §6). Returns the exit code.
    int run();

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

} // namespace idemgate::server
