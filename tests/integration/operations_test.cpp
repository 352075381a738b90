// docs/operations.md "Graceful shutdown", "Environment" and "Probes": /readyz turns 503 as
// soon as SIGTERM arrives while the client port keeps serving for shutdown.drain_delay, the
// process exits 0; IDEMGATE_* overrides and ${VAR} reach the real binary; `idemgate
// healthcheck` answers for a running gateway and fails when nothing listens.
#include "gateway_fixture.hpp"
#include "idemgate/net.hpp"

#include <boost/asio/io_context.hpp>

#include <csignal>
#include <cstdlib>
#include <thread>

namespace idemgate::test {
namespace {

using clock_type = std::chrono::steady_clock;

/// Sets one environment variable for the gateway started in its scope (the child inherits
/// the environment at fork) and removes it afterwards. No other test thread reads it.
class scoped_env {
public:
    scoped_env(std::string name, std::string const& value) : name_(std::move(name)) {
        ::setenv(name_.c_str(), value.c_str(), 1);
    }
    ~scoped_env() { ::unsetenv(name_.c_str()); }
    scoped_env(scoped_env const&) = delete;
    scoped_env& operator=(scoped_env const&) = delete;

private:
    std::string name_;
};

/// A config file for `idemgate healthcheck` naming admin port `admin_port`.
// `listen` is port 0: two unused_port() calls may return the same port, and the config
// refuses admin.listen == listen. Healthcheck only reads admin.listen.
std::filesystem::path healthcheck_config(std::uint16_t admin_port) {
    return write_temp_file(gateway_config{}
                               .set("listen", "127.0.0.1:0")
                               .set("admin.listen", "127.0.0.1:" + std::to_string(admin_port))
                               .set("store.backend", "memory")
                               .yaml(),
                           ".yaml");
}

class operations : public gateway_test {};

TEST_F(operations, readyz_turns_503_at_sigterm_while_the_client_port_serves_then_exit_0) {
    start_gateway(gateway_config{}.set("shutdown.drain_delay", "3s"));
    ASSERT_EQ(admin_get("/readyz").status, 200U);
    auto const cfg = healthcheck_config(gateway_->admin_port());
    EXPECT_EQ(run_cli({"healthcheck", "--config", cfg.string(), "--ready"}).exit_code, 0);
    auto const signalled = clock_type::now();
    gateway_->signal(SIGTERM);
    unsigned ready = 200;
    while (ready == 200 && clock_type::now() - signalled < 1s) {
        ready = admin_get("/readyz").status;
        if (ready == 200) std::this_thread::sleep_for(10ms);
    }
    EXPECT_EQ(ready, 503U) << "still ready 1 s after SIGTERM";
    EXPECT_LT(clock_type::now() - signalled, 1s);
    // Inside drain_delay: not ready, still alive and still serving new connections.
    EXPECT_EQ(admin_get("/livez").status, 200U);
    auto const probe = run_cli({"healthcheck", "--config", cfg.string(), "--ready"});
    EXPECT_EQ(probe.exit_code, 1) << probe.err;
    EXPECT_EQ(run_cli({"healthcheck", "--config", cfg.string()}).exit_code, 0);
    auto const late = send(protected_post("drain-1"));
    EXPECT_EQ(late.status, 201U) << "a request during drain_delay: " << late.error;
    auto const get = send({"GET", "/v1/charges", {}, {}});
    EXPECT_EQ(get.status, 201U) << get.error;
    EXPECT_LT(clock_type::now() - signalled, 3s) << "the checks above took too long";
    EXPECT_EQ(gateway_->terminate(8s), 0) << gateway_->output();
    EXPECT_GE(clock_type::now() - signalled, 2900ms) << "exited before drain_delay";
    EXPECT_EQ(gateway_->json_lines("draining").size(), 1U) << gateway_->output();
    std::filesystem::remove(cfg);
}

TEST_F(operations, an_in_flight_request_finishes_after_drain_delay_before_exit) {
    upstream_.set_handler([](recorded_request const&, std::size_t n) {
        auto reply = upstream_stub::default_reply(n);
        reply.delay = 1500ms;
        return reply;
    });
    start_gateway(gateway_config{}.set("shutdown.drain_delay", "500ms"));
    http_response in_flight;
    std::thread client([&] { in_flight = send(protected_post("flight-1")); });
    ASSERT_TRUE(upstream_.wait_for_calls(1, 5s));
    gateway_->signal(SIGTERM);
    client.join();
    EXPECT_EQ(in_flight.status, 201U) << in_flight.error;
    EXPECT_EQ(in_flight.header("Connection"), "close"); // no keep-alive once draining
    EXPECT_EQ(gateway_->terminate(5s), 0) << gateway_->output();
}

TEST_F(operations, an_environment_override_changes_the_running_gateway) {
    {
        scoped_env env("IDEMGATE_IDEMPOTENCY_MISSING_KEY", "reject");
        start_gateway();
    }
    auto const keyless = without_header(protected_post("unused"), "Idempotency-Key");
    expect_error(send(keyless), 400, "idempotency_key_required");
    EXPECT_EQ(upstream_.calls(), 0U);
}

TEST_F(operations, an_override_wins_over_the_file_value) {
    {
        scoped_env env("IDEMGATE_IDEMPOTENCY_MISSING_KEY", "passthrough");
        start_gateway(gateway_config{}.set("idempotency.missing_key", "reject"));
    }
    auto const keyless = without_header(protected_post("unused"), "Idempotency-Key");
    EXPECT_EQ(send(keyless).status, 201U);
    EXPECT_EQ(upstream_.calls(), 1U);
}

TEST_F(operations, variables_in_the_yaml_are_expanded_with_their_defaults) {
    {
        scoped_env env("OPS_TEST_REPLAY_HEADER", "X-Ops-Replayed");
        start_gateway(gateway_config{}
                          .set("idempotency.replay_header", "\"${OPS_TEST_REPLAY_HEADER}\"")
                          .set("idempotency.missing_key", "\"${OPS_TEST_UNSET_VAR:-reject}\""));
    }
    auto const first = send(protected_post("var-1"));
    auto const second = send(protected_post("var-1"));
    EXPECT_EQ(second.status, first.status);
    EXPECT_EQ(second.header("X-Ops-Replayed"), "true");
    EXPECT_FALSE(second.has(replay_header));
    auto const keyless = without_header(protected_post("unused"), "Idempotency-Key");
    expect_error(send(keyless), 400, "idempotency_key_required");
    EXPECT_EQ(upstream_.calls(), 1U);
}

TEST_F(operations, an_unset_variable_without_default_is_a_config_error) {
    auto const cfg = write_temp_file("listen: ${OPS_TEST_SURELY_UNSET_VAR}\n", ".yaml");
    auto const r = run_cli({"--check-config", cfg.string()});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE((r.out + r.err).find("OPS_TEST_SURELY_UNSET_VAR"), std::string::npos) << r.err;
    std::filesystem::remove(cfg);
}

TEST_F(operations, healthcheck_exits_0_for_a_running_gateway_and_1_when_nothing_listens) {
    start_gateway();
    auto const live = healthcheck_config(gateway_->admin_port());
    auto const up = run_cli({"healthcheck", "--config", live.string()});
    EXPECT_EQ(up.exit_code, 0) << up.err;
    EXPECT_EQ(run_cli({"healthcheck", "--config", live.string(), "--ready"}).exit_code, 0);
    auto const dead = healthcheck_config(unused_port());
    auto const down = run_cli({"healthcheck", "--config", dead.string()});
    EXPECT_EQ(down.exit_code, 1);
    EXPECT_NE(down.err.find("healthcheck"), std::string::npos) << down.err;
    EXPECT_EQ(run_cli({"healthcheck", "--config"}).exit_code, 2); // usage error
    std::filesystem::remove(live);
    std::filesystem::remove(dead);
}

TEST_F(operations, healthcheck_gives_up_after_2_s_on_a_listener_that_never_answers) {
    // The kernel completes the handshake of a listening socket nobody accepts from.
    net::io_context ioc;
    tcp::acceptor silent(ioc, tcp::endpoint{net::ip::address_v4::loopback(), 0});
    auto const cfg = healthcheck_config(silent.local_endpoint().port());
    auto const started = clock_type::now();
    auto const r = run_cli({"healthcheck", "--config", cfg.string()});
    auto const took = clock_type::now() - started;
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_GE(took, 1500ms);
    EXPECT_LT(took, 5s);
    EXPECT_NE(r.err.find("timeout"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find(".hpp"), std::string::npos) << "no source locations: " << r.err;
    std::filesystem::remove(cfg);
}

} // namespace
} // namespace idemgate::test
