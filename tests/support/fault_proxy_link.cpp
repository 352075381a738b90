#include "support/fault_proxy_link.hpp"

#include <boost/asio/write.hpp>

#include <algorithm>

namespace idemgate::test {

namespace {

constexpr std::size_t read_chunk = 16 * 1024;

} // namespace

task<void> fault_proxy_access::read_side(std::shared_ptr<link> l, flow f) {
    std::string buf(read_chunk, '\0');
    auto& p = l->pipes[flow_index(f)];
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
        p.queue.emplace_back(fault_clock::now(), buf.substr(0, n));
        p.wake.cancel();
    }
}

task<void> fault_proxy_access::wait_until(link::pipe& p, fault_clock::time_point t) {
    p.wake.expires_at(t);
    co_await p.wake.async_wait();
}

task<void> fault_proxy_access::write_side(fault_proxy* self, std::shared_ptr<link> l, flow f) {
    auto& p = l->pipes[flow_index(f)];
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
        if (l->blackholed) { // only this coroutine touches the queue's front
            p.queue.clear();
            co_await wait_until(p, fault_clock::time_point::max());
            continue;
        }
        if (p.queue.empty() && !p.eof) {
            co_await wait_until(p, fault_clock::time_point::max());
            continue;
        }
        if (p.queue.empty()) { // end-of-file, delayed by the slow close
            co_await wait_until(p, fault_clock::now() + tox.slow_close);
            if (l->dead) co_return;
            half_close(*l, f);
            co_return;
        }
        auto const due = std::max(p.queue.front().first + tox.latency[flow_index(f)], p.not_before);
        if (fault_clock::now() < due) {
            co_await wait_until(p, due);
            continue;
        }
        auto& bytes = p.queue.front().second;
        std::size_t n = bytes.size();
        auto const bandwidth = tox.bandwidth[flow_index(f)];
        if (bandwidth != 0) n = std::min(n, std::max<std::size_t>(1, bandwidth / 50));
        auto const limit = std::min(p.reset_at, p.half_close_at);
        if (limit != fault_proxy::off) n = std::min(n, limit - std::min(limit, p.forwarded));
        if (n > 0) {
            // Counted before the write: a peer that saw the bytes must find them counted.
            p.forwarded += n;
            self->bytes_[flow_index(f)] += n;
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
                    fault_clock::now() + std::chrono::microseconds(n * 1'000'000 / bandwidth);
            }
        }
    }
}

void fault_proxy_access::half_close(link& l, flow f) {
    auto& p = l.pipes[flow_index(f)];
    p.done = true;
    p.queue.clear();
    error_code ignored;
    l.to(f).shutdown(tcp::socket::shutdown_send, ignored);
    if (l.pipes[0].done && l.pipes[1].done) l.close();
}

task<void> fault_proxy_access::serve(fault_proxy* self, std::shared_ptr<link> l) {
    auto const& tox = self->toxics_;
    for (auto f : {flow::to_target, flow::to_client}) {
        l->pipes[flow_index(f)].reset_at = tox.reset_after[flow_index(f)];
        l->pipes[flow_index(f)].half_close_at = tox.half_close_after[flow_index(f)];
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

task<void> fault_proxy_access::accept_loop(fault_proxy* self) {
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

} // namespace idemgate::test
