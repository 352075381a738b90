// docs/operations.md "Logs": access lines are JSON objects with the documented fields, the
// request id is kept or generated and travels to the upstream and back, no line holds an API
// key, and log.format / log.level / log.access_log change what is written.
#include "gateway_fixture.hpp"
#include "support/child_process.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

namespace idemgate::test {
namespace {

/// The gateway with stdout and stderr sent to a file, for configurations whose output
/// gateway_process cannot follow: text lines, or a level that hides the "listening" line.
/// Ports are fixed up front (unused_port) and readiness is /livez answering.
class plain_gateway {
public:
    explicit plain_gateway(gateway_config cfg)
        : port_(ports_[0]), admin_port_(ports_[1]),
          config_(
              write_temp_file(cfg.set("listen", "127.0.0.1:" + std::to_string(port_))
                                  .set("admin.listen", "127.0.0.1:" + std::to_string(admin_port_))
                                  .yaml(),
                              ".yaml")),
          log_(write_temp_file("", ".log")) {
        pid_ = spawn_logged({gateway_binary(), "--config", config_.string()}, log_);
    }
    ~plain_gateway() {
        stop();
        std::error_code ignored;
        std::filesystem::remove(config_, ignored);
        std::filesystem::remove(log_, ignored);
    }
    plain_gateway(plain_gateway const&) = delete;
    plain_gateway& operator=(plain_gateway const&) = delete;

    std::uint16_t port() const { return port_; }

    /// True once /livez answers 200 (at most 10 s).
    bool wait_live() const {
        auto const deadline = std::chrono::steady_clock::now() + 10s;
        while (std::chrono::steady_clock::now() < deadline) {
            if (send_request(admin_port_, {"GET", "/livez", {}, {}}).status == 200) return true;
            std::this_thread::sleep_for(20ms);
        }
        return false;
    }

    /// SIGTERM and wait (SIGKILL after 8 s); the exit code, or 128 + signal.
    int stop() {
        if (pid_ <= 0) return exit_code_;
        ::kill(pid_, SIGTERM);
        int status = 0;
        auto const deadline = std::chrono::steady_clock::now() + 8s;
        while (::waitpid(pid_, &status, WNOHANG) == 0) {
            if (std::chrono::steady_clock::now() > deadline) ::kill(pid_, SIGKILL);
            std::this_thread::sleep_for(5ms);
        }
        pid_ = -1;
        exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        return exit_code_;
    }

    std::string output() const {
        std::stringstream s;
        s << std::ifstream(log_).rdbuf();
        return s.str();
    }

private:
    std::vector<std::uint16_t> ports_ = unused_ports(2); // first: declared before the ports
    std::uint16_t port_;
    std::uint16_t admin_port_;
    std::filesystem::path config_;
    std::filesystem::path log_;
    pid_t pid_ = -1;
    int exit_code_ = -1;
};

std::vector<std::string> split_lines(std::string const& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
}

class operations_logs : public gateway_test {
protected:
    gateway_config plain_config() const {
        return gateway_config{}
            .set("upstream.url", upstream_.url())
            .set("store.backend", "memory")
            .set("threads", "1");
    }
};

TEST_F(operations_logs, an_access_line_is_a_json_object_with_every_documented_field) {
    start_gateway();
    auto req = with_header(protected_post("acc-1"), "X-Request-Id", "req-ops-0001");
    req.target = "/v1/charges?card=4242";
    auto const res = send(req);
    ASSERT_EQ(res.status, 201U) << res.error;
    EXPECT_EQ(res.header("X-Request-Id"), "req-ops-0001");
    ASSERT_EQ(upstream_.calls(), 1U);
    EXPECT_EQ(upstream_.last_request().header("X-Request-Id"), "req-ops-0001");
    auto const line = gateway_->wait_for_json(
        [](nlohmann::json const& j) { return j.value("msg", "") == "access"; }, 3s);
    ASSERT_TRUE(line.has_value()) << gateway_->output();
    std::regex const rfc3339(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)");
    EXPECT_TRUE(std::regex_match(line->value("ts", ""), rfc3339)) << line->dump();
    EXPECT_EQ(line->value("level", ""), "info");
    EXPECT_EQ(line->value("method", ""), "POST");
    EXPECT_EQ(line->value("path", ""), "/v1/charges"); // the query may hold secrets
    EXPECT_EQ(line->value("status", 0), 201);
    EXPECT_EQ(line->value("outcome", ""), "executed");
    EXPECT_EQ(line->value("key", ""), "acc-1");
    EXPECT_EQ(line->value("request_id", ""), "req-ops-0001");
    ASSERT_TRUE(line->contains("duration_ms") && (*line)["duration_ms"].is_number());
    EXPECT_GE((*line)["duration_ms"].get<double>(), 0.0);
    EXPECT_EQ(line->dump().find("4242"), std::string::npos);
}

TEST_F(operations_logs, a_passthrough_access_line_says_why_the_request_was_not_protected) {
    start_gateway();
    auto const no_key = without_header(protected_post(""), "Idempotency-Key");
    ASSERT_EQ(send(with_header(no_key, "X-Request-Id", "why-missing-key")).status, 201U);
    ASSERT_EQ(send({"GET", "/v1/charges", {{"X-Request-Id", "why-method"}}, {}}).status, 201U);
    auto const protected_one =
        send(with_header(protected_post("why-1"), "X-Request-Id", "why-none"));
    ASSERT_EQ(protected_one.status, 201U);
    auto const line_of = [&](std::string const& id) {
        return gateway_->wait_for_json(
            [&](nlohmann::json const& j) {
                return j.value("msg", "") == "access" && j.value("request_id", "") == id;
            },
            3s);
    };
    auto const missing = line_of("why-missing-key");
    ASSERT_TRUE(missing.has_value()) << gateway_->output();
    EXPECT_EQ(missing->value("outcome", ""), "passthrough");
    EXPECT_EQ(missing->value("unprotected", ""), "missing_key");
    auto const method = line_of("why-method");
    ASSERT_TRUE(method.has_value()) << gateway_->output();
    EXPECT_EQ(method->value("unprotected", ""), "method");
    auto const executed = line_of("why-none");
    ASSERT_TRUE(executed.has_value()) << gateway_->output();
    EXPECT_FALSE(executed->contains("unprotected")) << executed->dump();
}

TEST_F(operations_logs, a_missing_request_id_is_generated_forwarded_echoed_and_logged) {
    start_gateway();
    auto const a = send(protected_post("rid-1"));
    auto const b = send({"GET", "/v1/charges", {}, {}});
    ASSERT_EQ(a.status, 201U) << a.error;
    ASSERT_EQ(b.status, 201U) << b.error;
    auto const sent = upstream_.requests();
    ASSERT_EQ(sent.size(), 2U);
    EXPECT_FALSE(a.header("X-Request-Id").empty());
    EXPECT_EQ(sent[0].header("X-Request-Id"), a.header("X-Request-Id"));
    EXPECT_EQ(sent[1].header("X-Request-Id"), b.header("X-Request-Id"));
    EXPECT_NE(a.header("X-Request-Id"), b.header("X-Request-Id"));
    auto const id = a.header("X-Request-Id");
    EXPECT_TRUE(gateway_->wait_for_json(
        [&](nlohmann::json const& j) { return j.value("request_id", "") == id; }, 3s))
        << gateway_->output();
}

TEST_F(operations_logs, every_line_is_json_and_none_holds_an_api_key) {
    start_gateway();
    // Basic: the user part is the API key (docs/behaviour.md); "c2tfYmFzaWNfdXNlcl83Nzpwdw=="
    // is base64("sk_basic_user_77:pw").
    auto basic = without_header(protected_post("sec-1"), "Authorization");
    basic = with_header(basic, "Authorization", "Basic c2tfYmFzaWNfdXNlcl83Nzpwdw==");
    EXPECT_EQ(send(basic).status, 201U);
    EXPECT_EQ(send(protected_post("sec-2")).status, 201U);
    expect_error(send(protected_post("")), 400, "idempotency_key_invalid");
    ASSERT_TRUE(gateway_->wait_for_json(
        [](nlohmann::json const& j) { return j.value("outcome", "") == "rejected"; }, 3s));
    EXPECT_EQ(gateway_->terminate(), 0);
    auto const lines = gateway_->lines();
    EXPECT_GE(lines.size(), 5U); // listening, 3 access lines, signal, draining, stopped
    for (auto const& line : lines) {
        auto const j = nlohmann::json::parse(line, nullptr, false);
        EXPECT_TRUE(j.is_object() && j.contains("ts") && j.contains("level") && j.contains("msg"))
            << line;
        for (auto const* secret : {test_api_key, "sk_basic_user_77", "c2tfYmFzaWNf"})
            EXPECT_EQ(line.find(secret), std::string::npos) << line;
    }
}

TEST_F(operations_logs, text_format_writes_readable_lines_that_are_not_json) {
    plain_gateway gw(plain_config().set("log.format", "text"));
    ASSERT_TRUE(gw.wait_live()) << gw.output();
    EXPECT_EQ(send_request(gw.port(), protected_post("txt-1")).status, 201U);
    EXPECT_EQ(gw.stop(), 0) << gw.output();
    auto const lines = split_lines(gw.output());
    ASSERT_FALSE(lines.empty());
    std::string access;
    for (auto const& line : lines) {
        EXPECT_FALSE(nlohmann::json::parse(line, nullptr, false).is_object()) << line;
        if (line.find(" access ") != std::string::npos) access = line;
    }
    std::regex const shape(R"(\d{4}-\d\d-\d\dT[\d:.]+Z info access .*)");
    EXPECT_TRUE(std::regex_match(access, shape)) << gw.output();
    for (auto const* field : {"method=POST", "path=/v1/charges", "status=201", "outcome=executed",
                              "key=txt-1", "request_id="})
        EXPECT_NE(access.find(field), std::string::npos) << field << " in " << access;
    EXPECT_EQ(gw.output().find(test_api_key), std::string::npos);
}

TEST_F(operations_logs, level_warn_keeps_warnings_and_drops_access_and_info_lines) {
    upstream_.set_handler([](recorded_request const&, std::size_t n) {
        auto reply = upstream_stub::default_reply(n);
        if (n == 2) reply.delay = 3s; // still running when the shutdown timeout ends
        return reply;
    });
    plain_gateway gw(plain_config().set("log.level", "warn").set("shutdown.timeout", "200ms"));
    ASSERT_TRUE(gw.wait_live()) << gw.output();
    EXPECT_EQ(send_request(gw.port(), protected_post("warn-1")).status, 201U);
    std::thread slow([&] { send_request(gw.port(), protected_post("warn-2")); });
    EXPECT_TRUE(upstream_.wait_for_calls(2, 5s));
    EXPECT_EQ(gw.stop(), 0);
    slow.join();
    auto const out = gw.output();
    EXPECT_NE(out.find("shutdown timeout"), std::string::npos) << out; // a warn line is kept
    for (auto const& line : split_lines(out)) {
        auto const j = nlohmann::json::parse(line, nullptr, false);
        ASSERT_TRUE(j.is_object()) << line;
        EXPECT_NE(j.value("level", ""), "info") << line;
    }
}

TEST_F(operations_logs, access_log_false_drops_only_the_access_lines) {
    start_gateway(gateway_config{}.set("log.access_log", "false"));
    EXPECT_EQ(send(protected_post("off-1")).status, 201U);
    EXPECT_EQ(send(protected_post("off-1")).status, 201U);
    EXPECT_EQ(gateway_->terminate(), 0);
    EXPECT_TRUE(gateway_->json_lines("access").empty()) << gateway_->output();
    EXPECT_EQ(gateway_->json_lines("stopped").size(), 1U) << gateway_->output();
}

} // namespace
} // namespace idemgate::test
