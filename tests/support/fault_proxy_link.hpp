#pragma once
// The fault proxy's inside (fault_proxy.hpp): one link per proxied connection, and the
// coroutines that pump its bytes, shared by fault_proxy.cpp (the controls) and
// fault_proxy_link.cpp (the pumps).
#include "support/fault_proxy.hpp"

#include "idemgate/net.hpp"

#include <array>
#include <chrono>
#include <deque>
#include <memory>
#include <string>
#include <utility>

namespace idemgate::test {

using fault_clock = std::chrono::steady_clock;

inline std::size_t flow_index(flow f) noexcept {
    return static_cast<std::size_t>(f);
}

/// One proxied connection: a reader and a writer coroutine per direction.
struct fault_proxy::link {
    struct pipe {
        explicit pipe(net::any_io_executor ex) : wake(std::move(ex)) {}
        std::deque<std::pair<fault_clock::time_point, std::string>> queue; // read, not yet sent
        bool eof = false;  // the reader saw end-of-file: send it after the queue
        bool done = false; // end-of-file sent: later bytes are dropped
        steady_timer wake; // the writer's wait: new bytes (cancelled), latency, pacing
        fault_clock::time_point not_before{};
        std::size_t forwarded = 0;
        std::size_t reset_at = off;
        std::size_t half_close_at = off;
    };

    explicit link(net::any_io_executor ex) : client(ex), target(ex), pipes{pipe{ex}, pipe{ex}} {}

    tcp_socket& from(flow f) { return f == flow::to_target ? client : target; }
    tcp_socket& to(flow f) { return f == flow::to_target ? target : client; }

    /// RST to the client, close to the target (see the class comment); ends every coroutine.
    void reset() {
        if (dead) return;
        error_code ignored;
        client.set_option(net::socket_base::linger(true, 0), ignored);
        close();
    }

    void close() {
        dead = true;
        error_code ignored;
        client.close(ignored);
        target.close(ignored);
        for (auto& p : pipes) p.wake.cancel();
    }

    tcp_socket client;
    tcp_socket target;
    std::array<pipe, 2> pipes;
    bool dead = false;
    bool blackholed = false; // for good: see set_blackhole()
};

/// The coroutines; a struct so that they may read the proxy's private toxics. Everything runs
/// on the proxy's thread.
struct fault_proxy_access {
    using link = fault_proxy::link;

    static task<void> accept_loop(fault_proxy* self);
    static task<void> serve(fault_proxy* self, std::shared_ptr<link> l);
    static task<void> read_side(std::shared_ptr<link> l, flow f);
    static task<void> write_side(fault_proxy* self, std::shared_ptr<link> l, flow f);
    static task<void> wait_until(link::pipe& p, fault_clock::time_point t);
    /// End-of-file to the receiver of `f`; the link closes when both directions ended.
    static void half_close(link& l, flow f);
};

} // namespace idemgate::test
