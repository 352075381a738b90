#include "support/fault_proxy.hpp"

#include "idemgate/net.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include <sys/socket.h>

#include <algorithm>
#include <deque>
#include <future>

namespace idemgate::test {

using clock_type = std::chrono::steady_clock;

namespace {

constexpr std::size_t read_chunk = 16 * 1024;

std::size_t index(flow f) noexcept {
    return static_cast<std::size_t>(f);
}

} // namespace

/// One proxied connection: a reader and a writer coroutine per direction.
struct fault_proxy::link {
    struct pipe {
        explicit pipe(net::any_io_executor ex) : wake(std::move(ex)) {}
        std::deque<std::pair<clock_type::time_point, std::string>> queue; // read, not yet sent
        bool eof = false;  // the reader saw end-of-file: send it after the queue
        bool done = false; // end-of-file sent: later bytes are dropped
        steady_timer wake; // the writer's wait: new bytes (cancelled), latency, pacing
        clock_type::time_point not_before{};
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

/// The coroutines; a struct so that they may read the proxy's private toxics.
struct fault_proxy_access {
    using link = fault_proxy::link;

    static task<void> read_side(std::shared_ptr<link> l, flow f) {
        std::string buf(read_chunk, '\0');
        auto& p = l->pipes[index(f)];
        for (;;) {
            auto [ec, n] = co_await l->from(f).async_read_some(net::buffer(buf), use_nothrow);
            if (l->dead) co_return;
            if (l->blackholed) {
                if (ec) co_return; // swallowed, end-of-file included: nothing is closed
                continue;
            }
            if (ec == net::error::eof) {
                p.eof = true;
                p.wake.cancel();
                co_return;
            }
            if (ec) {
                l->reset(); // a reset on one side is a reset on the other
                co_return;
            }
            if (p.done) continue;
            p.queue.emplace_back(clock_type::now(), buf.substr(0, n));
            p.wake.cancel();
        }
    }

    static task<void> wait_until(link::pipe& p, clock_type::time_point t) {
        p.wake.expires_at(t);
        co_await p.wake.async_wait();
    }

    static task<void> write_side(fault_proxy* self, std::shared_ptr<link> l, flow f) {
        auto& p = l->pipes[index(f)];
        auto const& tox = self->toxics_;
        while (!l->dead) {
            // A limit acts when a byte beyond it is there to send: with 0, at the first byte.
            if (!p.queue.empty() && p.forwarded >= p.reset_at) {
                l->reset();
                co_return;
            }
            if (!p.queue.empty() && p.forwarded >= p.half_close_at) {
                half_close(*l, f);
                co_return;
            }
            if (p.queue.empty() && !p.eof) {
                co_await wait_until(p, clock_type::time_point::max());
                continue;
            }
            if (p.queue.empty()) { // end-of-file, delayed by the slow close
                co_await wait_until(p, clock_type::now() + tox.slow_close);
                if (l->dead) co_return;
                half_close(*l, f);
                co_return;
            }
            auto const due = std::max(p.queue.front().first + tox.latency[index(f)], p.not_before);
            if (clock_type::now() < due) {
                co_await wait_until(p, due);
                continue;
            }
            auto& bytes = p.queue.front().second;
            std::size_t n = bytes.size();
            auto const bandwidth = tox.bandwidth[index(f)];
            if (bandwidth != 0) n = std::min(n, std::max<std::size_t>(1, bandwidth / 50));
            auto const limit = std::min(p.reset_at, p.half_close_at);
            if (limit != fault_proxy::off) n = std::min(n, limit - std::min(limit, p.forwarded));
            if (n > 0) {
                // Counted before the write: a peer that saw the bytes must find them counted.
                p.forwarded += n;
                self->bytes_[index(f)] += n;
                auto [ec, written] =
                    co_await net::async_write(l->to(f), net::buffer(bytes.data(), n), use_nothrow);
                if (l->dead) co_return;
                if (ec) {
                    l->reset();
                    co_return;
                }
                bytes.erase(0, n);
                if (bytes.empty()) p.queue.pop_front();
                if (bandwidth != 0) {
                    p.not_before =
                        clock_type::now() + std::chrono::microseconds(n * 1'000'000 / bandwidth);
                }
            }
        }
    }

    /// End-of-file to the receiver of `f`; the link closes when both directions ended.
    static void half_close(link& l, flow f) {
        auto& p = l.pipes[index(f)];
        p.done = true;
        p.queue.clear();
        error_code ignored;
        l.to(f).shutdown(tcp::socket::shutdown_send, ignored);
        if (l.pipes[0].done && l.pipes[1].done) l.close();
    }

    static task<void> serve(fault_proxy* self, std::shared_ptr<link> l) {
        auto const& tox = self->toxics_;
        for (auto f : {flow::to_target, flow::to_client}) {
            l->pipes[index(f)].reset_at = tox.reset_after[index(f)];
            l->pipes[index(f)].half_close_at = tox.half_close_after[index(f)];
        }
        l->blackholed = tox.blackhole;
        if (!l->blackholed) {
            auto [ec] = co_await l->target.async_connect(self->target_, use_nothrow);
            if (ec) {
                l->reset(); // the target refused: so does the proxy
                co_return;
            }
            l->target.set_option(tcp::no_delay(true), ec);
        }
        error_code ignored;
        l->client.set_option(tcp::no_delay(true), ignored);
        auto const ex = l->client.get_executor();
        for (auto f : {flow::to_target, flow::to_client}) {
            net::co_spawn(ex, read_side(l, f), net::detached);
            net::co_spawn(ex, write_side(self, l, f), net::detached);
        }
    }

    static task<void> accept_loop(fault_proxy* self) {
        while (self->accepting_) {
            tcp_socket sock(self->ioc_);
            auto [ec] = co_await self->acceptor_.async_accept(sock, use_nothrow);
            if (ec) co_return; // cancelled by stop_accepting() or the destructor
            if (self->filler_ && sock.remote_endpoint(ec) == self->filler_end_) {
                self->filler_.reset(); // the queue filler of stop_accepting(): not a client
                continue;
            }
            auto l = std::make_shared<link>(self->ioc_.get_executor());
            l->client = std::move(sock);
            ++self->accepted_;
            self->links_.push_back(l);
            net::co_spawn(self->ioc_, serve(self, std::move(l)), net::detached);
        }
    }
};

fault_proxy::fault_proxy(std::uint16_t target_port, std::string target_host)
    : acceptor_(ioc_), target_(net::ip::make_address(target_host), target_port) {
    tcp::endpoint const ep{net::ip::address_v4::loopback(), 0};
    acceptor_.open(ep.protocol());
    acceptor_.set_option(tcp::acceptor::reuse_address(true));
    acceptor_.bind(ep);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    net::co_spawn(ioc_, fault_proxy_access::accept_loop(this), net::detached);
    thread_ = std::thread([this] { ioc_.run(); });
}

fault_proxy::~fault_proxy() {
    ioc_.stop();
    if (thread_.joinable()) thread_.join();
}

void fault_proxy::on_io(std::function<void()> fn) const {
    std::packaged_task<void()> job(std::move(fn));
    auto done = job.get_future();
    net::post(ioc_, [&job] { job(); });
    done.get();
}

void fault_proxy::each_link(std::function<void(link&)> const& fn) {
    std::erase_if(links_, [](auto const& w) {
        auto l = w.lock();
        return !l || l->dead;
    });
    for (auto const& w : links_) fn(*w.lock());
}

void fault_proxy::set_latency(flow f, std::chrono::milliseconds d) {
    on_io([&] {
        toxics_.latency[index(f)] = d;
        each_link([&](link& l) { l.pipes[index(f)].wake.cancel(); }); // due times change
    });
}

void fault_proxy::set_bandwidth(flow f, std::size_t bytes_per_second) {
    on_io([&] {
        toxics_.bandwidth[index(f)] = bytes_per_second;
        each_link([&](link& l) { l.pipes[index(f)].not_before = {}; });
    });
}

void fault_proxy::set_blackhole(bool on) {
    on_io([&] {
        toxics_.blackhole = on;
        if (!on) return;
        each_link([](link& l) {
            l.blackholed = true;
            for (auto& p : l.pipes) p.queue.clear();
        });
    });
}

void fault_proxy::reset_after(flow f, std::size_t n) {
    on_io([&] {
        toxics_.reset_after[index(f)] = n;
        each_link([&](link& l) {
            auto& p = l.pipes[index(f)];
            p.reset_at = n == off ? off : p.forwarded + n;
            p.wake.cancel(); // bytes already queued meet the new limit now
        });
    });
}

void fault_proxy::half_close_after(flow f, std::size_t n) {
    on_io([&] {
        toxics_.half_close_after[index(f)] = n;
        each_link([&](link& l) {
            auto& p = l.pipes[index(f)];
            p.half_close_at = n == off ? off : p.forwarded + n;
            p.wake.cancel();
        });
    });
}

void fault_proxy::set_slow_close(std::chrono::milliseconds d) {
    on_io([&] { toxics_.slow_close = d; });
}

void fault_proxy::set_accepting(bool on) {
    on_io([&] {
        if (on == accepting_) return;
        if (on) {
            start_accepting();
        } else {
            stop_accepting();
        }
    });
}

void fault_proxy::stop_accepting() {
    accepting_ = false;
    error_code ignored;
    acceptor_.cancel(ignored);
    // Linux accepts a new backlog on a listening socket. With 0, one queued connection fills
    // the queue (the proxy's own, never accepted): every later SYN is dropped, not refused.
    ::listen(acceptor_.native_handle(), 0);
    // A non-blocking connect(2) (Asio's connect would wait for the handshake): should the
    // queue be full already, this thread must not hang.
    filler_ = std::make_unique<tcp::socket>(ioc_, tcp::v4());
    filler_->non_blocking(true, ignored);
    tcp::endpoint const self_ep{net::ip::address_v4::loopback(), port_};
    (void)::connect(filler_->native_handle(), self_ep.data(),
                    static_cast<socklen_t>(self_ep.size()));
    filler_end_ = filler_->local_endpoint(ignored);
}

void fault_proxy::start_accepting() {
    accepting_ = true;
    ::listen(acceptor_.native_handle(), SOMAXCONN);
    net::co_spawn(ioc_, fault_proxy_access::accept_loop(this), net::detached);
}

void fault_proxy::reset_all() {
    on_io([&] { each_link([](link& l) { l.reset(); }); });
}

void fault_proxy::heal() {
    on_io([&] {
        toxics_ = toxics{};
        each_link([](link& l) {
            for (auto& p : l.pipes) {
                p.reset_at = off;
                p.half_close_at = off;
                p.wake.cancel();
            }
        });
        if (!accepting_) start_accepting();
    });
}

std::size_t fault_proxy::connections() const {
    std::size_t n = 0;
    on_io([&] { n = accepted_; });
    return n;
}

std::size_t fault_proxy::open_connections() const {
    std::size_t n = 0;
    on_io([&] {
        for (auto const& w : links_) {
            auto l = w.lock();
            n += l && !l->dead ? 1U : 0U;
        }
    });
    return n;
}

std::size_t fault_proxy::bytes(flow f) const {
    std::size_t n = 0;
    on_io([&] { n = bytes_[index(f)]; });
    return n;
}

} // namespace idemgate::test
