// The harness itself, without the gateway: when these fail, the other integration tests
// say nothing about idemgate.
#include "gateway_fixture.hpp"

namespace idemgate::test {
namespace {

TEST(harness, the_upstream_stub_answers_with_a_counter_and_records_the_request) {
    upstream_stub stub;
    auto const res = send_request(stub.port(), {"POST", "/v1/x?a=1", {{"X-Test", "1"}}, "hi"});
    EXPECT_EQ(res.status, 201U) << res.error;
    EXPECT_EQ(res.header("X-Upstream-Call"), "1");
    EXPECT_EQ(res.body, R"({"id":"obj_1","call":1})");
    ASSERT_EQ(stub.calls(), 1U);
    auto const req = stub.last_request();
    EXPECT_EQ(req.method, "POST");
    EXPECT_EQ(req.target, "/v1/x?a=1");
    EXPECT_EQ(req.header("x-test"), "1");
    EXPECT_EQ(req.body, "hi");
}

TEST(harness, a_keep_alive_client_sends_several_requests_on_one_connection) {
    upstream_stub stub;
    http_client client(stub.port(), {5s, true});
    for (int i = 1; i <= 3; ++i) {
        auto const res = client.send({"GET", "/", {}, {}});
        EXPECT_EQ(res.header("X-Upstream-Call"), std::to_string(i)) << res.error;
    }
    EXPECT_EQ(client.connections_opened(), 1U);
    EXPECT_EQ(stub.connections(), 1U);
}

TEST(harness, a_stub_that_closes_without_answering_gives_the_client_no_response) {
    upstream_stub stub;
    stub.set_handler([](recorded_request const&, std::size_t) {
        stub_reply r;
        r.act = stub_reply::action::close;
        return r;
    });
    auto const res = send_request(stub.port(), {"POST", "/", {}, "x"});
    EXPECT_EQ(res.status, 0U);
    EXPECT_FALSE(res.error.empty());
    EXPECT_EQ(stub.calls(), 1U);
}

TEST(harness, a_hanging_stub_makes_the_client_time_out) {
    upstream_stub stub;
    stub.set_handler([](recorded_request const&, std::size_t) {
        stub_reply r;
        r.act = stub_reply::action::hang;
        return r;
    });
    http_client client(stub.port(), {300ms, false});
    auto const started = std::chrono::steady_clock::now();
    auto const res = client.send({"GET", "/", {}, {}});
    EXPECT_EQ(res.status, 0U);
    EXPECT_LT(std::chrono::steady_clock::now() - started, 3s);
}

TEST(harness, a_raw_chunked_reply_is_written_verbatim_and_decoded_by_the_client) {
    upstream_stub stub;
    stub.set_handler([](recorded_request const&, std::size_t) {
        stub_reply r;
        r.raw = "HTTP/1.1 200 OK\r\nX-A: 1\r\nTransfer-Encoding: chunked\r\n\r\n"
                "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
        return r;
    });
    auto const res = send_request(stub.port(), {"GET", "/", {}, {}});
    EXPECT_EQ(res.status, 200U) << res.error;
    EXPECT_EQ(res.body, "hello world");
    EXPECT_EQ(res.header("X-A"), "1");
}

TEST(harness, connecting_to_an_unused_port_is_refused) {
    auto const res = send_request(unused_port(), {"GET", "/", {}, {}});
    EXPECT_EQ(res.status, 0U);
    EXPECT_NE(res.error.find("connect"), std::string::npos) << res.error;
}

TEST(harness, a_gateway_config_renders_dotted_keys_as_nested_yaml) {
    gateway_config cfg;
    cfg.set("listen", "127.0.0.1:0").set("idempotency.ttl", "1s").set("idempotency.lock_ttl", "2s");
    cfg.set_default("idempotency.ttl", "9s");
    EXPECT_EQ(cfg.yaml(), "idempotency:\n  lock_ttl: 2s\n  ttl: 1s\nlisten: 127.0.0.1:0\n");
}

TEST(harness, run_cli_captures_stdout_stderr_and_the_exit_code) {
    auto const r = run_cli({"-c", "echo out; echo err >&2; exit 3"}, 5s, "/bin/sh");
    EXPECT_EQ(r.exit_code, 3);
    EXPECT_EQ(r.out, "out\n");
    EXPECT_EQ(r.err, "err\n");
}

TEST(harness, gateway_process_reads_the_listening_line_and_collects_later_lines) {
    auto const script = write_temp_file(
        "#!/bin/sh\n"
        "trap 'exit 0' TERM\n" // before the first line: SIGTERM may follow it at once
        "echo "
        "'{\"msg\":\"listening\",\"listen\":\"127.0.0.1:1234\",\"admin\":\"127.0.0.1:5678\"}'\n"
        "echo '{\"msg\":\"access\",\"status\":201}'\n"
        "while true; do sleep 0.02; done\n",
        ".sh");
    std::filesystem::permissions(script, std::filesystem::perms::owner_all);
    {
        gateway_process fake(gateway_config{}, script.string());
        EXPECT_EQ(fake.port(), 1234);
        EXPECT_EQ(fake.admin_port(), 5678);
        auto const access = fake.wait_for_json(
            [](nlohmann::json const& j) { return j.value("msg", "") == "access"; }, 2s);
        ASSERT_TRUE(access.has_value()) << fake.output();
        EXPECT_EQ(access->value("status", 0), 201);
        EXPECT_EQ(fake.terminate(), 0);
    }
    std::filesystem::remove(script);
}

TEST(harness, metric_value_reads_one_series_from_prometheus_text) {
    std::string const text = "# HELP x\nidemgate_requests_total{outcome=\"executed\"} 3\n"
                             "idemgate_requests_total{outcome=\"replayed\"} 12\n";
    EXPECT_EQ(metric_value(text, R"(idemgate_requests_total{outcome="replayed"})"), 12);
    EXPECT_EQ(metric_value(text, R"(idemgate_requests_total{outcome="executed"})"), 3);
    EXPECT_EQ(metric_value(text, R"(idemgate_requests_total{outcome="conflict"})"), -1);
}

} // namespace
} // namespace idemgate::test
