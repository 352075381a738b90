#include "support/fault_proxy_link.hpp"

#include <boost/asio/post.hpp>

#include <sys/socket.h>

#include <future>

namespace idemgate::test {

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
        toxics_.latency[flow_index(f)] = d;
        each_link([&](link& l) { l.pipes[flow_index(f)].wake.cancel(); }); // due times change
    });
}

void fault_proxy::set_bandwidth(flow f, std::size_t bytes_per_second) {
    on_io([&] {
        toxics_.bandwidth[flow_index(f)] = bytes_per_second;
        each_link([&](link& l) { l.pipes[flow_index(f)].not_before = {}; });
    });
}

void fault_proxy::set_blackhole(bool on) {
    on_io([&] {
        toxics_.blackhole = on;
        if (!on) return;
        each_link([](link& l) {
            l.blackholed = true;
            for (auto& p : l.pipes) p.wake.cancel(); // the writer drops its queue itself
        });
    });
}

void fault_proxy::reset_after(flow f, std::size_t n) {
    on_io([&] {
        toxics_.reset_after[flow_index(f)] = n;
        each_link([&](link& l) {
            auto& p = l.pipes[flow_index(f)];
            p.reset_at = n == off ? off : p.forwarded + n;
            p.wake.cancel(); // bytes already queued meet the new limit now
        });
    });
}

void fault_proxy::half_close_after(flow f, std::size_t n) {
    on_io([&] {
        toxics_.half_close_after[flow_index(f)] = n;
        each_link([&](link& l) {
            auto& p = l.pipes[flow_index(f)];
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
    on_io([&] { n = bytes_[flow_index(f)]; });
    return n;
}

} // namespace idemgate::test
