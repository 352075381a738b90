// Contract §6, the command line and SIGTERM: exit codes and where the text goes.
#include "gateway_fixture.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <csignal>
#include <cstdint>
#include <thread>

namespace idemgate::test {
namespace {

/// Whether a connect to 127.0.0.1:`port` is refused (the listener is closed). A connect that
/// succeeds is closed at once, before any request.
bool cli_listener_refuses(std::uint16_t port) {
    boost::asio::io_context ioc;
    boost::asio::ip::tcp::socket s(ioc);
    boost::system::error_code ec;
    s.connect({boost::asio::ip::address_v4::loopback(), port}, ec);
    return ec == boost::asio::error::connection_refused;
}

TEST(command_line, version_prints_the_version_to_stdout_and_exits_0) {
    auto const r = run_cli({"--version"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find(IDEMGATE_VERSION), std::string::npos) << r.out;
}

TEST(command_line, help_prints_usage_to_stdout_and_exits_0) {
    auto const r = run_cli({"--help"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("--config"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("--check-config"), std::string::npos) << r.out;
}

TEST(command_line, no_arguments_exits_2) {
    auto const r = run_cli({});
    EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
}

TEST(command_line, an_unknown_option_exits_2) {
    auto const r = run_cli({"--no-such-option"});
    EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
}

TEST(command_line, check_config_accepts_a_valid_file_with_exit_0) {
    temp_config_file const cfg("listen: 127.0.0.1:0\nidempotency:\n  lock_ttl: 30s\n");
    auto const r = run_cli({"--check-config", cfg.path.string()});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
}

TEST(command_line, check_config_names_each_bad_key_and_exits_2) {
    temp_config_file const cfg("idempotency:\n  lock_ttl: banana\n  no_such_key: 1\n"
                               "store:\n  backend: sqlite\n");
    auto const r = run_cli({"--check-config", cfg.path.string()});
    EXPECT_EQ(r.exit_code, 2);
    auto const text = r.out + r.err;
    for (char const* key : {"idempotency.lock_ttl", "idempotency.no_such_key", "store.backend"}) {
        EXPECT_NE(text.find(key), std::string::npos) << key << " not named in:\n" << text;
    }
}

TEST(command_line, check_config_on_a_missing_file_exits_2) {
    auto const r = run_cli({"--check-config", "/nonexistent/idemgate.yaml"});
    EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
}

TEST(command_line, running_with_a_bad_config_exits_2_without_listening) {
    temp_config_file const cfg("listen: 127.0.0.1:0\nidempotency:\n  ttl: forever\n");
    auto const r = run_cli({"--config", cfg.path.string()});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE((r.out + r.err).find("idempotency.ttl"), std::string::npos) << r.out << r.err;
}

class shutting_down : public gateway_test {};

TEST_F(shutting_down, sigterm_lets_an_in_flight_request_finish_and_exits_0) {
    upstream_.set_handler([](recorded_request const&, std::size_t n) {
        auto reply = upstream_stub::default_reply(n);
        reply.delay = 800ms;
        return reply;
    });
    start_gateway();
    http_response in_flight;
    std::thread client([&] { in_flight = send(protected_post("term-1")); });
    ASSERT_TRUE(upstream_.wait_for_calls(1, 5s));
    gateway_->signal(SIGTERM);
    client.join();
    EXPECT_EQ(in_flight.status, 201U) << in_flight.error << in_flight.body;
    EXPECT_EQ(in_flight.header("X-Upstream-Call"), "1");
    EXPECT_EQ(gateway_->terminate(5s), 0) << gateway_->output();
}

TEST_F(shutting_down, sigterm_on_an_idle_gateway_exits_0_promptly) {
    start_gateway();
    EXPECT_EQ(send(protected_post("idle-1")).status, 201U);
    auto const started = std::chrono::steady_clock::now();
    EXPECT_EQ(gateway_->terminate(5s), 0) << gateway_->output();
    EXPECT_LT(std::chrono::steady_clock::now() - started, 3s);
}

TEST_F(shutting_down, while_draining_a_new_request_is_not_forwarded) {
    upstream_.set_handler([](recorded_request const&, std::size_t n) {
        auto reply = upstream_stub::default_reply(n);
        reply.delay = 1000ms;
        return reply;
    });
    start_gateway();
    http_response in_flight;
    std::thread client([&] { in_flight = send(protected_post("term-2")); });
    ASSERT_TRUE(upstream_.wait_for_calls(1, 5s));
    gateway_->signal(SIGTERM);
    // Until the listener is closed (drain_delay is 0): a bare connect, which forwards nothing.
    auto const closed_by = std::chrono::steady_clock::now() + 5s;
    while (!cli_listener_refuses(port()) && std::chrono::steady_clock::now() < closed_by)
        std::this_thread::sleep_for(10ms); // the polling interval
    // Refused (listener closed) or answered 503 by the draining gateway; never forwarded.
    auto const late = send({"GET", "/v1/late", {}, {}});
    EXPECT_TRUE(late.status == 0 || late.status == 503) << late.status << " " << late.body;
    client.join();
    EXPECT_EQ(in_flight.status, 201U) << in_flight.error;
    EXPECT_EQ(upstream_.calls(), 1U);
    EXPECT_EQ(gateway_->terminate(5s), 0) << gateway_->output();
}

} // namespace
} // namespace idemgate::test
