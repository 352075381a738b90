#include "idemgate/server/gateway.hpp"

#include "idemgate/admin/admin_server.hpp"
#include "idemgate/config/routes.hpp"
#include "idemgate/engine/engine.hpp"
#include "idemgate/engine/records.hpp"
#include "idemgate/log/log.hpp"
#include "idemgate/metrics/metrics.hpp"
#include "idemgate/proxy/upstream_pool.hpp"
#include "idemgate/server/session.hpp"
#include "idemgate/server/tls_listener.hpp"
#include "idemgate/store/factory.hpp"
#include "idemgate/store/instrumented_store.hpp"
#include "idemgate/util/clock.hpp"
#include "idemgate/util/cpus.hpp"
#include "idemgate/util/deadlines.hpp"
#include "idemgate/util/endpoint.hpp"
#include "idemgate/util/fd_limit.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/system/system_error.hpp>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <stdexcept>
#include <thread>
#include <vector>

#include <unistd.h>

namespace idemgate::server {

/// Everything one thread owns; nothing in it is touched from another thread.
struct worker {
    // One thread runs it and only that thread touches its sockets (other threads post to
    // it), so the reactor's per-operation locks are dropped; the scheduler keeps its own.
    net::io_context ioc{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO};
    std::unique_ptr<util::deadline_set> deadlines; // of the client and upstream sockets
    std::unique_ptr<store::store> st;
    std::unique_ptr<proxy::upstream_pool> pool;
    std::unique_ptr<engine::engine> eng;
    std::unique_ptr<tcp_acceptor> acceptor;
    session_registry registry;
    std::unique_ptr<session_context> ctx;
    std::thread thread;
};

struct gateway::impl {
    config::config cfg;
    metrics::metrics stats;
    std::atomic<bool> draining{false}; // /readyz 503; still serving (drain_delay)
    std::atomic<bool> closing{false};  // after drain_delay: sessions close after answering
    std::atomic<std::int64_t> active{0};
    util::admission limits; // in-flight requests and buffered bytes, all threads
    proxy::upstream_target target;
    std::unique_ptr<net::ssl::context> tls;     // the upstream's (https://)
    std::unique_ptr<tls_listener> listener_tls; // the client listener's (tls.cert_file)
    engine::scope_hasher scopes;
    std::vector<std::string> ledger_routes; // the records API's route-scoped names
    http_server::head_rules rules;
    std::unique_ptr<store::factory> stores;
    std::vector<std::unique_ptr<worker>> workers;
    net::io_context control{1};
    net::signal_set signals{control, SIGTERM, SIGINT}; // installed before "listening" is logged
    // SIGHUP reloads the listener certificate; caught even without TLS, where its default
    // action would end the process.
    net::signal_set hup{control, SIGHUP};
    std::unique_ptr<tcp_acceptor> admin_acceptor;
    std::unique_ptr<admin::admin_context> admin_ctx;
    // The records API's store, on the admin thread (destroyed before `control` and `stores`).
    std::unique_ptr<store::store> admin_store;

    explicit impl(config::config c)
        : cfg(std::move(c)), stats(engine::route_table(cfg).labels()),
          scopes(cfg.idempotency.scope_secret), ledger_routes(config::route_scoped_matches(cfg)),
          rules(http_server::make_head_rules(cfg)) {}

    void setup();
    void cap_connections(unsigned threads);
    tcp::endpoint open_listeners();
    bool ready() const;
    bool store_up() const;
    void before_scrape();
    task<void> accept_loop(worker& w);
    task<void> handle_signals();
    task<void> handle_hup();
    task<void> watch_tls_files();
    task<void> drain();
};

namespace {

/// Binds without SO_REUSEPORT: with it, a second idemgate on the same `listen` would start
/// silently beside the first and the memory store would run one key in each (issue 9). A
/// taken port fails the start with "address in use" (exit 1).
std::unique_ptr<tcp_acceptor> listen_on(net::io_context& ioc, tcp::endpoint const& ep,
                                        std::string_view what) {
    auto a = std::make_unique<tcp_acceptor>(ioc);
    a->open(ep.protocol());
    a->set_option(tcp::acceptor::reuse_address(true)); // restart over TIME_WAIT only
    error_code ec;
    a->bind(ep, ec);
    if (ec == net::error::address_in_use) {
        throw std::runtime_error(std::string(what) + " " + util::format_endpoint(ep) +
                                 ": address in use (another process listens there)");
    }
    if (ec)
        throw boost::system::system_error(ec, std::string(what) + " " + util::format_endpoint(ep));
    a->listen(net::socket_base::max_listen_connections);
    return a;
}

/// Runs `ioc` until it stops. An exception thrown inside a composed operation (not in a
/// coroutine, whose spawn handler logs it) leaves run(): log it and run on, so that no input
/// can stop the process; the bounded limits are there so that none is thrown.
void run_guarded(net::io_context& ioc) {
    for (;;) {
        try {
            ioc.run();
            return;
        } catch (std::exception const& e) {
            log::error("exception in an I/O handler", {{"what", e.what()}});
        }
    }
}

/// Another worker's acceptor on the same listening socket: a dup() of its descriptor, run by
/// that worker's io_context. Every worker waits on the one socket and whichever wakes first
/// takes the connection. We lose SO_REUSEPORT's spreading of connections over threads, but
/// clients keep their connections alive (the benchmark too), so accepts are rare next to
/// requests. Probing the port without SO_REUSEPORT and then binding with it would keep the
/// spreading but leave a window in which two processes both pass the probe.
std::unique_ptr<tcp_acceptor> share(net::io_context& ioc, tcp_acceptor& listening) {
    int const fd = ::dup(listening.native_handle());
    if (fd < 0)
        throw boost::system::system_error(errno, boost::system::generic_category(),
                                          "dup listen socket");
    auto a = std::make_unique<tcp_acceptor>(ioc);
    error_code ec;
    a->assign(listening.local_endpoint().protocol(), fd, ec);
    if (ec) {
        ::close(fd);
        throw boost::system::system_error(ec, "listen socket");
    }
    return a;
}

} // namespace

void gateway::impl::setup() {
    auto t = proxy::parse_upstream_url(cfg.upstream.url);
    if (!t) throw std::runtime_error("upstream.url: not an http:// or https:// URL");
    target = *t;
    tls = proxy::make_tls_context(target, cfg.upstream.tls);
    if (!cfg.tls.cert_file.empty()) listener_tls = std::make_unique<tls_listener>(cfg.tls, stats);
    // The per-credential bound counts a record for as long as any route may keep it.
    stores = store::make_factory(cfg.store, util::real_clock(), config::longest_ttl(cfg));
    if (stores->held()) // memory: records and bytes gauges, and their limits
        stats.track_store_usage(cfg.store.memory.max_records, cfg.store.memory.max_bytes.bytes);
    if (stores->topology()) stats.track_store_topology(); // redis: redirects, nodes, failovers
    auto const n = cfg.threads ? cfg.threads : util::usable_cpus();
    cap_connections(n);
    auto const tick = util::deadline_set::tick_for(
        std::min({cfg.timeouts.request_headers, cfg.timeouts.idle, cfg.timeouts.write,
                  cfg.upstream.timeout, cfg.upstream.connect_timeout}));
    for (unsigned i = 0; i < n; ++i) {
        auto w = std::make_unique<worker>();
        w->deadlines = std::make_unique<util::deadline_set>(w->ioc.get_executor(), tick);
        w->st =
            std::make_unique<store::instrumented_store>(stores->make(w->ioc.get_executor()), stats);
        w->pool = std::make_unique<proxy::upstream_pool>(w->ioc.get_executor(), target,
                                                         cfg.upstream, tls.get(), *w->deadlines);
        w->eng = std::make_unique<engine::engine>(cfg, *w->st, *w->pool, scopes, stats);
        w->ctx = std::make_unique<session_context>(
            session_context{cfg, *w->eng, stats, closing, w->registry, *w->deadlines, rules, limits,
                            listener_tls.get()});
        workers.push_back(std::move(w));
    }
    stores->start();
}

/// Out of descriptors, accept fails with EMFILE for the admin listener too, so /livez and
/// /metrics stop answering: keep max_connections within what RLIMIT_NOFILE leaves.
void gateway::impl::cap_connections(unsigned threads) {
    auto const fd_limit = util::raise_fd_limit();
    if (fd_limit == 0) return;
    auto const allowed = util::connections_for_fds(fd_limit, cfg, threads);
    if (allowed >= cfg.limits.max_connections) return;
    log::warn("max_connections capped by the file descriptor limit",
              {{"max_connections", cfg.limits.max_connections},
               {"capped_to", allowed},
               {"fd_limit", fd_limit},
               {"reserved_fds", util::reserved_fds(cfg, threads)}});
    cfg.limits.max_connections = allowed;
}

tcp::endpoint gateway::impl::open_listeners() {
    workers[0]->acceptor = listen_on(workers[0]->ioc, util::listen_endpoint(cfg.listen), "listen");
    for (std::size_t i = 1; i < workers.size(); ++i)
        workers[i]->acceptor = share(workers[i]->ioc, *workers[0]->acceptor);
    return workers[0]->acceptor->local_endpoint();
}

bool gateway::impl::ready() const {
    if (draining.load()) return false;
    for (auto const& w : workers)
        if (!w->pool->usable()) return false;
    return cfg.store.on_unavailable == config::unavailable_mode::fail_open || store_up();
}

/// Gauges read from their source at scrape time (admin thread).
void gateway::impl::before_scrape() {
    stats.set_store_up(store_up());
    if (auto const held = stores->held()) stats.set_store_usage(held->records, held->bytes);
    if (auto const t = stores->topology()) stats.set_store_topology(*t);
}

bool gateway::impl::store_up() const {
    // Each thread has its own connections; one thread's store down fails its requests.
    for (auto const& w : workers)
        if (w->st->state() != store::store_state::up) return false;
    return true;
}

task<void> gateway::impl::accept_loop(worker& w) {
    for (;;) {
        auto [ec, sock] = co_await w.acceptor->async_accept();
        if (!w.acceptor->is_open()) co_return;
        if (ec) {
            // EMFILE and friends: back off instead of spinning.
            steady_timer pause(w.ioc);
            pause.expires_after(std::chrono::milliseconds(20));
            co_await pause.async_wait();
            continue;
        }
        if (active.load(std::memory_order_relaxed) >=
            static_cast<std::int64_t>(cfg.limits.max_connections)) {
            stats.connection_rejected();
            error_code ignored;
            sock.close(ignored);
            continue;
        }
        active.fetch_add(1, std::memory_order_relaxed);
        error_code ignored;
        sock.set_option(tcp::no_delay(true), ignored);
        net::co_spawn(w.ioc, run_session(tcp_socket(std::move(sock)), *w.ctx),
                      [this](std::exception_ptr const& e) {
                          active.fetch_sub(1, std::memory_order_relaxed);
                          log::failed("client session", e);
                      });
    }
}

task<void> gateway::impl::drain() {
    draining.store(true);
    log::info("draining", {{"drain_delay_ms", cfg.shutdown.drain_delay.count()},
                           {"timeout_ms", cfg.shutdown.timeout.count()}});
    steady_timer timer(control);
    timer.expires_after(cfg.shutdown.drain_delay); // /readyz is 503 while we keep serving
    co_await timer.async_wait();
    closing.store(true);
    for (auto& w : workers) {
        net::post(w->ioc, [&w = *w] {
            error_code ignored;
            w.acceptor->close(ignored);
            w.registry.close_idle();
        });
    }
    auto const deadline = std::chrono::steady_clock::now() + cfg.shutdown.timeout;
    while (active.load() > 0 && std::chrono::steady_clock::now() < deadline) {
        timer.expires_after(std::chrono::milliseconds(20));
        co_await timer.async_wait();
    }
    if (active.load() > 0)
        log::warn("shutdown timeout: closing busy connections", {{"open", active.load()}});
    if (admin_acceptor) {
        error_code ignored;
        admin_acceptor->close(ignored);
    }
    control.stop();
}

task<void> gateway::impl::handle_signals() {
    auto [ec, sig] = co_await signals.async_wait(use_nothrow);
    if (ec) co_return;
    log::info("signal received", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
    co_await drain();
}

task<void> gateway::impl::handle_hup() {
    for (;;) {
        auto [ec, sig] = co_await hup.async_wait(use_nothrow);
        if (ec) co_return;
        if (!listener_tls) {
            log::info("SIGHUP: nothing to reload (no tls.cert_file)");
            continue;
        }
        log::info("signal received", {{"signal", "SIGHUP"}});
        listener_tls->reload(true);
    }
}

/// cert-manager and Kubernetes replace the files without telling the process: compare
/// their stat() every tls.reload_interval (cheap: no file is read unless one changed).
task<void> gateway::impl::watch_tls_files() {
    steady_timer timer(control);
    for (;;) {
        timer.expires_after(cfg.tls.reload_interval);
        auto [ec] = co_await timer.async_wait();
        if (ec) co_return;
        listener_tls->reload(false);
    }
}

gateway::gateway(config::config cfg) : impl_(std::make_unique<impl>(std::move(cfg))) {
    impl_->setup();
}

gateway::~gateway() = default;

int gateway::run() {
    auto& s = *impl_;
    std::signal(SIGPIPE, SIG_IGN);
    auto const ep = s.open_listeners();
    std::string admin_address;
    if (!s.cfg.admin.listen.empty()) {
        s.admin_acceptor =
            listen_on(s.control, util::listen_endpoint(s.cfg.admin.listen), "admin.listen");
        admin_address = util::format_endpoint(s.admin_acceptor->local_endpoint());
        admin::records_handler records;
        if (!s.cfg.admin.token.empty()) {
            s.admin_store = s.stores->make(s.control.get_executor());
            records = [&s](metrics::admin_endpoint e,
                           std::string body) -> task<admin::records_reply> {
                auto const op = e == metrics::admin_endpoint::evict ? engine::records_op::evict
                                                                    : engine::records_op::lookup;
                auto a = co_await engine::run_records(op, body, *s.admin_store, s.scopes,
                                                      s.ledger_routes);
                co_return admin::records_reply{a.status, std::move(a.body), std::move(a.scope)};
            };
        }
        s.admin_ctx = std::make_unique<admin::admin_context>(
            admin::admin_context{s.stats, [&s] { return s.ready(); }, [&s] { s.before_scrape(); },
                                 s.cfg.admin.token, std::move(records)});
        net::co_spawn(s.control, admin::run_admin(*s.admin_acceptor, *s.admin_ctx),
                      log::on_failure{"admin listener"});
    }
    net::co_spawn(s.control, s.handle_signals(), log::on_failure{"signal handler"});
    net::co_spawn(s.control, s.handle_hup(), log::on_failure{"SIGHUP handler"});
    if (s.listener_tls)
        net::co_spawn(s.control, s.watch_tls_files(), log::on_failure{"tls file watch"});
    for (auto& w : s.workers) {
        net::co_spawn(w->ioc, s.accept_loop(*w), log::on_failure{"accept loop"});
        auto guard = std::make_shared<net::executor_work_guard<net::io_context::executor_type>>(
            w->ioc.get_executor());
        w->thread = std::thread([&ioc = w->ioc, guard] { run_guarded(ioc); });
    }
    log::info("listening", {{"listen", util::format_endpoint(ep)},
                            {"admin", admin_address},
                            {"threads", s.workers.size()},
                            {"tls", s.listener_tls != nullptr},
                            {"upstream", s.cfg.upstream.url},
                            {"version", IDEMGATE_VERSION}});
    run_guarded(s.control);
    for (auto& w : s.workers) w->ioc.stop();
    for (auto& w : s.workers) w->thread.join();
    log::info("stopped");
    return 0;
}

} // namespace idemgate::server
