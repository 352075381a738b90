#pragma once
// One coroutine per client connection: read a request under the limits, hand it to the
// engine, write the response, keep alive or close. I/O only; decisions are the engine's.
#include "idemgate/config/config.hpp"
#include "idemgate/engine/engine.hpp"
#include "idemgate/http/request_rules.hpp"
#include "idemgate/metrics/metrics.hpp"
#include "idemgate/net.hpp"
#include "idemgate/server/tls_listener.hpp"
#include "idemgate/util/admission.hpp"
#include "idemgate/util/deadlines.hpp"

#include <atomic>
#include <list>

namespace idemgate::server {

/// The sessions of one io_context, so that draining can close the idle ones.
/// Not thread-safe: used only on its io_context.
class session_registry {
public:
    struct entry {
        tcp_socket* socket = nullptr;
        bool busy = false; // a request is being read, handled or answered
    };
    using handle = std::list<entry>::iterator;

    handle add(tcp_socket* s) { return entries_.insert(entries_.end(), entry{s, false}); }
    void remove(handle h) { entries_.erase(h); }
    /// Closes every session waiting for a next request; busy ones close after answering.
    void close_idle();
    std::size_t size() const noexcept { return entries_.size(); }

private:
    std::list<entry> entries_;
};

/// What a session needs; all of it outlives the sessions of its io_context.
struct session_context {
    config::config const& cfg;
    engine::engine& eng;
    metrics::metrics& stats;
    /// Set after shutdown.drain_delay: finish the current request, then close.
    std::atomic<bool> const& closing;
    session_registry& registry;
    util::deadline_set& deadlines;        // this io_context's
    http_server::head_rules const& rules; // the gateway's, from its config
    util::admission& limits;              // the whole process's
    tls_listener const* tls = nullptr;    // null: plain HTTP
};

/// Serves one connection (after a TLS handshake when ctx.tls is set) until the client closes, an
/// error, idle timeout or drain.
task<void> run_session(tcp_socket socket, session_context& ctx);

} // namespace idemgate::server
