// rediss:// against a TLS-only redis-server with a self-signed certificate.
#include "idemgate/error.hpp"
#include "idemgate/redis/connection.hpp"
#include "idemgate/store/redis_store.hpp"
#include "support/redis_server.hpp"
#include "support/run_task.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace idemgate::redis {
namespace {

using namespace std::chrono_literals;
using test::redis_server;

task<result<reply>> ping(std::shared_ptr<connection> c) {
    command cmd{"PING"};
    co_return co_await c->execute(std::move(cmd), std::chrono::steady_clock::now() + 2s);
}

class tls_test : public ::testing::Test {
protected:
    /// PING over a connection configured like the gateway would from `cfg`.
    result<reply> ping_with(config::redis_store_config const& cfg) {
        auto const c = std::make_shared<connection>(ioc_.get_executor(),
                                                    store::make_redis_connection_config(cfg));
        c->start();
        auto r = test::run_task(ioc_, ping(c), 10s);
        link_ = c->link();
        c->stop();
        return r;
    }

    config::redis_store_config config_for(std::string const& host) const {
        config::redis_store_config cfg;
        cfg.url = "rediss://" + host + ":" + std::to_string(server_.port());
        cfg.tls.ca_file = server_.ca_file().string();
        return cfg;
    }

    redis_server server_{redis_server::tls_only{}, {"--bind", "127.0.0.1", "127.0.0.2"}};
    net::io_context ioc_;
    link_state link_ = link_state::connecting;
};

TEST_F(tls_test, a_certificate_signed_by_the_configured_ca_and_naming_the_ip_is_accepted) {
    auto const r = ping_with(config_for("127.0.0.1"));
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->str, "PONG");
    EXPECT_EQ(link_, link_state::up);
}

TEST_F(tls_test, a_certificate_naming_the_host_name_is_accepted) {
    auto const r = ping_with(config_for("localhost"));
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->str, "PONG");
}

TEST_F(tls_test, a_certificate_that_does_not_name_the_host_is_refused) {
    auto const r = ping_with(config_for("127.0.0.2")); // same server, name not in the cert
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), errc::store_unavailable);
    EXPECT_EQ(link_, link_state::down);
}

TEST_F(tls_test, a_certificate_from_an_unknown_ca_is_refused) {
    auto cfg = config_for("127.0.0.1");
    cfg.tls.ca_file.clear(); // the system store does not know this self-signed certificate
    auto const r = ping_with(cfg);
    ASSERT_FALSE(r);
    EXPECT_EQ(link_, link_state::down);
}

TEST_F(tls_test, insecure_skip_verify_accepts_an_unknown_certificate) {
    auto cfg = config_for("127.0.0.2");
    cfg.tls.ca_file.clear();
    cfg.tls.insecure_skip_verify = true;
    auto const r = ping_with(cfg);
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->str, "PONG");
}

TEST_F(tls_test, plain_redis_to_a_tls_port_never_comes_up) {
    auto cfg = config_for("127.0.0.1");
    cfg.url = "redis://127.0.0.1:" + std::to_string(server_.port());
    cfg.connect_timeout = 300ms;
    EXPECT_FALSE(ping_with(cfg));
}

} // namespace
} // namespace idemgate::redis
