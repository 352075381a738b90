#include "support/upstream_stub.hpp"

#include "idemgate/net.hpp"

#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>

#include <stdexcept>
#include <tuple>

namespace idemgate::test {

namespace http = beast::http;
using namespace std::chrono_literals;

namespace {

recorded_request to_recorded(http::request<http::string_body> const& msg) {
    recorded_request out;
    out.method = std::string(msg.method_string());
    out.target = std::string(msg.target());
    for (auto const& field : msg) {
        out.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    out.body = msg.body();
    return out;
}

/// Hand-written so that tests control order and duplicates; HEAD answers carry no body.
std::string serialise(stub_reply const& reply, bool head) {
    std::string out = "HTTP/1.1 " + std::to_string(reply.status) + " " +
                      std::string(http::obsolete_reason(http::int_to_status(reply.status))) +
                      "\r\n";
    for (auto const& [name, value] : reply.headers) out += name + ": " + value + "\r\n";
    out += "Content-Length: " + std::to_string(reply.body.size()) + "\r\n\r\n";
    if (!head) out += reply.body;
    return out;
}

task<void> wait_for(std::chrono::milliseconds d) {
    steady_timer timer(co_await net::this_coro::executor, d);
    co_await timer.async_wait();
}

/// Polls `ready` every 2 ms, for at most 10 s (a test that never opens the gate still ends).
task<void> wait_until(std::function<bool()> ready) {
    auto const limit = std::chrono::steady_clock::now() + 10s;
    while (!ready() && std::chrono::steady_clock::now() < limit) co_await wait_for(2ms);
}

void shut(tcp::socket& sock) {
    error_code ignored;
    sock.shutdown(tcp::socket::shutdown_both, ignored);
    sock.close(ignored);
}

} // namespace

/// The stub's coroutines; a struct so that they may touch the stub's private members.
struct stub_access {
    static task<void> serve(upstream_stub* self, tcp::socket sock) {
        self->count_connection();
        beast::flat_buffer buffer;
        for (;;) {
            http::request_parser<http::string_body> parser;
            parser.body_limit(std::uint64_t{256} * 1024 * 1024);
            parser.header_limit(1024 * 1024);
            auto [ec, n] = co_await http::async_read(sock, buffer, parser, use_nothrow);
            if (ec) break;
            auto const& msg = parser.get();
            recorded_request const rec = to_recorded(msg);
            auto [call, handler] = self->record(rec);
            stub_reply const reply = handler(rec, call);
            if (reply.delay.count() > 0) co_await wait_for(reply.delay);
            if (reply.hold_until) co_await wait_until(reply.hold_until);
            if (reply.act == stub_reply::action::close) break;
            if (reply.act == stub_reply::action::hang) {
                // Held until the stub stops (destroying the io_context ends this frame).
                co_await wait_for(std::chrono::hours(1));
                break;
            }
            std::string const wire =
                reply.raw.empty() ? serialise(reply, msg.method() == http::verb::head) : reply.raw;
            auto [wec, wn] = co_await net::async_write(sock, net::buffer(wire), use_nothrow);
            if (!wec && !reply.raw_later.empty()) {
                co_await wait_for(reply.later);
                std::tie(wec, wn) =
                    co_await net::async_write(sock, net::buffer(reply.raw_later), use_nothrow);
                if (!wec) self->count_late_write();
            }
            if (wec || reply.close_after || !msg.keep_alive()) break;
        }
        shut(sock);
    }

    static task<void> accept_loop(upstream_stub* self) {
        for (;;) {
            auto [ec, sock] = co_await self->acceptor_.async_accept(use_nothrow);
            if (ec) co_return;
            net::co_spawn(self->ioc_, serve(self, std::move(sock)), net::detached);
        }
    }
};

upstream_stub::upstream_stub() : upstream_stub(0) {}

upstream_stub::upstream_stub(std::uint16_t port) : acceptor_(ioc_) {
    tcp::endpoint const ep{net::ip::address_v4::loopback(), port};
    acceptor_.open(ep.protocol());
    acceptor_.set_option(tcp::acceptor::reuse_address(true));
    acceptor_.bind(ep);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    start();
}

void upstream_stub::start() {
    net::co_spawn(ioc_, stub_access::accept_loop(this), net::detached);
    thread_ = std::thread([this] { ioc_.run(); });
}

upstream_stub::~upstream_stub() {
    ioc_.stop();
    if (thread_.joinable()) thread_.join();
}

void upstream_stub::set_handler(stub_handler handler) {
    std::lock_guard lock(mutex_);
    handler_ = std::move(handler);
}

std::pair<std::size_t, stub_handler> upstream_stub::record(recorded_request const& req) {
    std::lock_guard lock(mutex_);
    requests_.push_back(req);
    changed_.notify_all();
    stub_handler handler = handler_;
    if (!handler) handler = [](recorded_request const&, std::size_t n) { return default_reply(n); };
    return {requests_.size(), std::move(handler)};
}

void upstream_stub::count_connection() {
    std::lock_guard lock(mutex_);
    ++connections_;
}

std::size_t upstream_stub::calls() const {
    std::lock_guard lock(mutex_);
    return requests_.size();
}

std::vector<recorded_request> upstream_stub::requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
}

recorded_request upstream_stub::last_request() const {
    std::lock_guard lock(mutex_);
    if (requests_.empty()) throw std::logic_error("upstream_stub: no request yet");
    return requests_.back();
}

bool upstream_stub::wait_for_calls(std::size_t n, std::chrono::milliseconds timeout) const {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return requests_.size() >= n; });
}

void upstream_stub::count_late_write() {
    std::lock_guard lock(mutex_);
    ++late_writes_;
    changed_.notify_all();
}

std::size_t upstream_stub::late_writes() const {
    std::lock_guard lock(mutex_);
    return late_writes_;
}

std::size_t upstream_stub::connections() const {
    std::lock_guard lock(mutex_);
    return connections_;
}

stub_reply upstream_stub::default_reply(std::size_t call) {
    stub_reply reply;
    reply.status = 201;
    reply.headers = {{"Content-Type", "application/json"},
                     {"X-Upstream-Call", std::to_string(call)}};
    reply.body =
        R"({"id":"obj_)" + std::to_string(call) + R"(","call":)" + std::to_string(call) + "}";
    return reply;
}

std::uint16_t unused_port() {
    net::io_context ioc;
    tcp::acceptor acceptor(ioc, tcp::endpoint{net::ip::address_v4::loopback(), 0});
    return acceptor.local_endpoint().port();
}

std::vector<std::uint16_t> unused_ports(std::size_t n) {
    net::io_context ioc;
    std::vector<tcp::acceptor> held;
    std::vector<std::uint16_t> ports;
    for (std::size_t i = 0; i < n; ++i) {
        held.emplace_back(ioc, tcp::endpoint{net::ip::address_v4::loopback(), 0});
        ports.push_back(held.back().local_endpoint().port());
    }
    return ports;
}

} // namespace idemgate::test
