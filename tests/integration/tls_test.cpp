// The client listener over TLS (issue 15): a real TLS client (tls_client) against the real
// binary, with certificates the test makes (test_pki): replay over TLS, ALPN, min_version,
// mTLS, rotation and reload, the handshake bound, and client certificates towards the
// upstream and Redis.
#include "gateway_fixture.hpp"
#include "support/test_pki.hpp"
#include "support/tls_client.hpp"
#include "support/tls_upstream.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>

#include <openssl/ssl.h>

#include <csignal>
#include <filesystem>
#include <fstream>

namespace idemgate::test {
namespace {

namespace fs = std::filesystem;
using usage = test_pki::usage;

/// Polls `pred` every 20 ms until it holds (true) or `limit` passes (false).
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = 10s) {
    auto const until = std::chrono::steady_clock::now() + limit;
    while (!pred()) {
        if (std::chrono::steady_clock::now() >= until) return false;
        std::this_thread::sleep_for(20ms);
    }
    return true;
}

/// A certificate directory swapped the way a Kubernetes secret volume does it: the config
/// names live/tls.crt and live/tls.key, `live` is a symlink to a versioned directory, and a
/// rotation renames a new symlink over it (both files change at once).
class rotating_files {
public:
    explicit rotating_files(fs::path dir) : dir_(std::move(dir)) {}
    void install(issued_cert const& c) { install(c.cert, c.key); }
    void install(fs::path const& cert, fs::path const& key) {
        auto const version = dir_ / ("v" + std::to_string(++n_));
        fs::create_directory(version);
        fs::copy_file(cert, version / "tls.crt");
        fs::copy_file(key, version / "tls.key");
        auto const tmp = dir_ / "live.tmp";
        fs::remove(tmp);
        fs::create_directory_symlink(version, tmp);
        fs::rename(tmp, dir_ / "live"); // atomic: no reader sees a half-rotated pair
    }
    std::string cert() const { return (dir_ / "live" / "tls.crt").string(); }
    std::string key() const { return (dir_ / "live" / "tls.key").string(); }

private:
    fs::path dir_;
    int n_ = 0;
};

class tls_test : public gateway_test {
protected:
    /// Starts the gateway with TLS on its listener (cert `server_`), plus `extra`.
    void start_tls(gateway_config cfg = {}) {
        cfg.set_default("tls.cert_file", server_.cert.string())
            .set_default("tls.key_file", server_.key.string());
        start_gateway(std::move(cfg));
    }
    /// Starts TLS on files that `files` rotates (a Secret volume's symlinks), first holding
    /// `server_`, checked for changes every `reload_interval`.
    void start_rotating(rotating_files& files, std::string const& reload_interval) {
        files.install(server_);
        start_tls(gateway_config{}
                      .set("tls.cert_file", files.cert())
                      .set("tls.key_file", files.key())
                      .set("tls.reload_interval", reload_interval));
    }
    tls_client_options verifying() const {
        tls_client_options o;
        o.ca_file = pki_.ca_cert();
        return o;
    }
    double metric(std::string const& series) const {
        return metric_value(admin_get("/metrics").body, series);
    }

    test_pki pki_;
    issued_cert server_ = pki_.issue("server", usage::server, 0x1001);
};

TEST_F(tls_test, new_key_and_replay_over_tls_with_alpn_http_1_1) {
    start_tls();
    tls_client client(port(), verifying());
    ASSERT_EQ(client.connect(), "");
    EXPECT_EQ(client.alpn(), "http/1.1");
    EXPECT_EQ(client.peer_serial(), server_.serial);
    auto const first = client.send(protected_post("tls-key-1"));
    ASSERT_EQ(first.status, 201U) << first.error << first.body;
    auto const second = client.send(protected_post("tls-key-1")); // same connection
    expect_replay_of(first, second);
    EXPECT_EQ(upstream_.calls(), 1U);
    EXPECT_EQ(client.peer_serial(), server_.serial); // still the first connection
    auto const passthrough = client.send({"GET", "/v1/things", {}, {}});
    EXPECT_EQ(passthrough.status, 201U) << passthrough.error;
    // The expiry an alert compares with time().
    EXPECT_GT(metric("idemgate_tls_cert_expiry_timestamp_seconds"),
              static_cast<double>(std::time(nullptr)));
}

TEST_F(tls_test, min_version_1_3_refuses_a_tls_1_2_client_and_counts_it) {
    start_tls(gateway_config{}.set("tls.min_version", "\"1.3\""));
    auto opt = verifying();
    opt.max_version = TLS1_2_VERSION;
    tls_client old(port(), opt);
    EXPECT_NE(old.connect(), "");
    tls_client current(port(), verifying());
    ASSERT_EQ(current.connect(), "");
    EXPECT_EQ(current.version(), "TLSv1.3");
    EXPECT_EQ(current.send(protected_post("tls13")).status, 201U);
    EXPECT_TRUE(eventually(
        [&] { return metric("idemgate_tls_handshake_failures_total{reason=\"error\"}") >= 1; }));
}

TEST_F(tls_test, a_tls_1_2_client_is_served_by_default) {
    start_tls();
    auto opt = verifying();
    opt.max_version = TLS1_2_VERSION;
    tls_client client(port(), opt);
    ASSERT_EQ(client.connect(), "");
    EXPECT_EQ(client.version(), "TLSv1.2");
    EXPECT_EQ(client.alpn(), "http/1.1");
    EXPECT_EQ(client.send(protected_post("tls12")).status, 201U);
}

TEST_F(tls_test, plain_http_on_a_tls_listener_is_a_counted_handshake_failure) {
    start_tls();
    auto const res = send(protected_post("plain"));
    EXPECT_EQ(res.status, 0U);
    EXPECT_EQ(upstream_.calls(), 0U);
    EXPECT_TRUE(eventually(
        [&] { return metric("idemgate_tls_handshake_failures_total{reason=\"error\"}") >= 1; }));
}

TEST_F(tls_test, mtls_refuses_a_client_without_a_certificate_and_serves_one_with) {
    auto const client_cert = pki_.issue("client-a", usage::client, 0x2001);
    test_pki other("another CA");
    auto const stranger = other.issue("stranger", usage::client, 0x3001);
    start_tls(gateway_config{}.set("tls.client_ca_file", pki_.ca_cert().string()));

    tls_client anonymous(port(), verifying());
    // TLS 1.3: the client's handshake may complete before the server checks; the request
    // then fails instead. Either way, no answer and no upstream call.
    auto const refused = anonymous.send(protected_post("mtls-none"));
    EXPECT_EQ(refused.status, 0U);

    auto opt = verifying();
    opt.cert_file = stranger.cert;
    opt.key_file = stranger.key;
    tls_client wrong_ca(port(), opt);
    EXPECT_EQ(wrong_ca.send(protected_post("mtls-stranger")).status, 0U);
    EXPECT_EQ(upstream_.calls(), 0U);

    opt.cert_file = client_cert.cert;
    opt.key_file = client_cert.key;
    tls_client known(port(), opt);
    auto const ok = known.send(protected_post("mtls-ok"));
    EXPECT_EQ(ok.status, 201U) << ok.error;
    EXPECT_EQ(upstream_.calls(), 1U);
    // Counted once the server's side of each failed handshake has ended.
    EXPECT_TRUE(eventually(
        [&] { return metric("idemgate_tls_handshake_failures_total{reason=\"error\"}") >= 2; }));
}

TEST_F(tls_test, rotated_files_serve_new_connections_and_keep_open_ones) {
    rotating_files files(pki_.dir());
    start_rotating(files, "100ms");
    tls_client open(port(), verifying());
    ASSERT_EQ(open.send(protected_post("rot-1")).status, 201U);
    EXPECT_EQ(open.peer_serial(), server_.serial);

    auto const next = pki_.issue("server-2", usage::server, 0x1002);
    files.install(next);
    EXPECT_TRUE(eventually([&] {
        tls_client fresh(port(), verifying());
        return fresh.connect().empty() && fresh.peer_serial() == next.serial;
    })) << gateway_->output();
    // The connection opened before the rotation is still served, on its old certificate.
    auto const again = open.send(protected_post("rot-1"));
    EXPECT_EQ(again.status, 201U) << again.error;
    EXPECT_EQ(again.header(replay_header), "true");
    EXPECT_EQ(open.peer_serial(), server_.serial);
    EXPECT_GE(metric("idemgate_tls_reloads_total{result=\"ok\"}"), 1);
    EXPECT_EQ(metric("idemgate_tls_reloads_total{result=\"error\"}"), 0);
}

TEST_F(tls_test, a_bad_rotated_certificate_keeps_the_old_one) {
    rotating_files files(pki_.dir());
    start_rotating(files, "100ms");
    auto const other = pki_.issue("server-3", usage::server, 0x1003);
    files.install(other.cert, server_.key); // a key that does not match the certificate
    EXPECT_TRUE(eventually([&] {
        return metric("idemgate_tls_reloads_total{result=\"error\"}") >= 1;
    })) << gateway_->output();
    tls_client fresh(port(), verifying());
    ASSERT_EQ(fresh.connect(), "");
    EXPECT_EQ(fresh.peer_serial(), server_.serial);
    EXPECT_EQ(fresh.send(protected_post("bad-rot")).status, 201U);
    EXPECT_FALSE(gateway_->json_lines("tls reload failed").empty());
    // An expired certificate is refused the same way.
    auto const expired = pki_.issue("expired", usage::server, 0x1004, -std::chrono::hours(1));
    files.install(expired);
    EXPECT_TRUE(
        eventually([&] { return metric("idemgate_tls_reloads_total{result=\"error\"}") >= 2; }));
    tls_client later(port(), verifying());
    ASSERT_EQ(later.connect(), "");
    EXPECT_EQ(later.peer_serial(), server_.serial);
}

TEST_F(tls_test, sighup_reloads_at_once) {
    rotating_files files(pki_.dir());
    start_rotating(files, "24h");
    auto const next = pki_.issue("server-4", usage::server, 0x1005);
    files.install(next);
    gateway_->signal(SIGHUP);
    EXPECT_TRUE(eventually([&] {
        tls_client fresh(port(), verifying());
        return fresh.connect().empty() && fresh.peer_serial() == next.serial;
    })) << gateway_->output();
}

TEST_F(tls_test, a_silent_client_is_cut_at_the_header_timeout) {
    start_tls(gateway_config{}.set("timeouts.request_headers", "300ms"));
    boost::asio::io_context ioc;
    boost::asio::ip::tcp::socket sock(ioc);
    sock.connect({boost::asio::ip::make_address("127.0.0.1"), port()});
    auto const t0 = std::chrono::steady_clock::now();
    char byte = 0;
    boost::system::error_code ec;
    boost::asio::read(sock, boost::asio::buffer(&byte, 1), ec); // blocks until the cut
    EXPECT_TRUE(ec) << "the gateway sent a byte to a client that sent none";
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
    EXPECT_TRUE(eventually(
        [&] { return metric("idemgate_tls_handshake_failures_total{reason=\"timeout\"}") >= 1; }));
}

TEST(tls_config, check_config_refuses_unusable_files_with_the_key_named) {
    test_pki pki;
    auto const good = pki.issue("good", usage::server, 1);
    auto const other = pki.issue("other", usage::server, 2);
    auto const expired = pki.issue("old", usage::server, 3, -std::chrono::hours(1));
    auto check = [](std::string const& tls) {
        temp_config_file const cfg("listen: 127.0.0.1:0\ntls:\n" + tls);
        auto r = run_cli({"--check-config", cfg.path.string()});
        return std::pair{r.exit_code, r.out + r.err};
    };
    auto const line = [](char const* key, fs::path const& p) {
        return std::string("  ") + key + ": " + p.string() + "\n";
    };
    auto [ok, ok_text] = check(line("cert_file", good.cert) + line("key_file", good.key));
    EXPECT_EQ(ok, 0) << ok_text;

    struct bad_case {
        std::string yaml;
        std::string key;
        std::string words;
    };
    std::vector<bad_case> const cases{
        {line("cert_file", "/nonexistent/tls.crt") + line("key_file", good.key), "tls.cert_file",
         "cannot read"},
        {line("cert_file", good.cert) + line("key_file", other.key), "tls.key_file", "match"},
        {line("cert_file", expired.cert) + line("key_file", expired.key), "tls.cert_file",
         "expired"},
        {line("cert_file", good.cert) + line("key_file", good.key) + "  min_version: \"1.1\"\n",
         "tls.min_version", "1.3"},
        {line("cert_file", good.cert), "tls.key_file", "required"},
        {line("cert_file", good.cert) + line("key_file", good.key) +
             line("client_ca_file", "/nonexistent/ca.crt"),
         "tls.client_ca_file", "cannot read"},
        {line("cert_file", good.cert) + line("key_file", good.key) + "  reload_interval: 10ms\n",
         "tls.reload_interval", "at least"},
        {line("cert_file", good.key) + line("key_file", good.key), "tls.cert_file", "PEM"},
    };
    for (auto const& c : cases) {
        auto [code, text] = check(c.yaml);
        EXPECT_EQ(code, 2) << c.yaml << text;
        EXPECT_NE(text.find(c.key), std::string::npos) << c.yaml << text;
        EXPECT_NE(text.find(c.words), std::string::npos) << c.yaml << text;
    }
}

TEST(tls_upstream_client_cert, the_upstream_sees_the_gateways_client_certificate) {
    test_pki pki;
    auto const server = pki.issue("upstream", usage::server, 1);
    auto const client = pki.issue("idemgate-client", usage::client, 2);
    tls_upstream upstream(server, pki.ca_cert());
    gateway_config cfg;
    cfg.set("upstream.tls.ca_file", pki.ca_cert().string())
        .set("upstream.tls.cert_file", client.cert.string())
        .set("upstream.tls.key_file", client.key.string());
    with_test_defaults(cfg, upstream.url());
    gateway_process gw(cfg);
    auto const first = send_request(gw.port(), protected_post("up-mtls"));
    EXPECT_EQ(first.status, 201U) << first.error << first.body << gw.output();
    EXPECT_EQ(first.header("X-Client-CN"), "idemgate-client");
    auto const replay = send_request(gw.port(), protected_post("up-mtls"));
    expect_replay_of(first, replay);
    EXPECT_EQ(upstream.requests(), 1U);
    EXPECT_EQ(gw.terminate(), 0);

    // Without the certificate the upstream refuses the handshake: nothing was sent, 502.
    gateway_config anon;
    anon.set("upstream.tls.ca_file", pki.ca_cert().string());
    with_test_defaults(anon, upstream.url());
    gateway_process gw2(anon);
    auto const refused = send_request(gw2.port(), protected_post("up-anon"));
    EXPECT_EQ(refused.status, 502U) << refused.body;
    EXPECT_TRUE(eventually([&] { return upstream.handshake_failures() >= 1; }));
    EXPECT_EQ(upstream.requests(), 1U);
    EXPECT_EQ(gw2.terminate(), 0);
}

TEST(tls_redis_client_cert, rediss_with_a_client_certificate_when_redis_requires_one) {
    test_pki pki;
    auto const client = pki.issue("idemgate-redis", usage::client, 7);
    redis_server redis(redis_server::tls_only{},
                       {"--tls-auth-clients", "yes", "--tls-ca-cert-file", pki.ca_cert().string()});
    upstream_stub upstream;
    auto const url = "rediss://127.0.0.1:" + std::to_string(redis.port()) + "/0";
    gateway_config cfg;
    cfg.set("store.backend", "redis")
        .set("store.redis.url", url)
        .set("store.redis.tls.ca_file", redis.ca_file().string())
        .set("store.redis.tls.cert_file", client.cert.string())
        .set("store.redis.tls.key_file", client.key.string());
    with_test_defaults(cfg, upstream.url());
    gateway_process gw(cfg);
    EXPECT_TRUE(eventually([&] {
        return send_request(gw.admin_port(), {"GET", "/readyz", {}, {}}).status == 200;
    })) << gw.output();
    auto const first = send_request(gw.port(), protected_post("redis-mtls"));
    EXPECT_EQ(first.status, 201U) << first.error << first.body << gw.output();
    auto const replay = send_request(gw.port(), protected_post("redis-mtls"));
    expect_replay_of(first, replay);
    EXPECT_EQ(upstream.calls(), 1U);
    EXPECT_EQ(gw.terminate(), 0);

    // Without it Redis refuses the connection: the store is down, protected requests 503.
    gateway_config anon;
    anon.set("store.backend", "redis")
        .set("store.redis.url", url)
        .set("store.redis.tls.ca_file", redis.ca_file().string());
    with_test_defaults(anon, upstream.url());
    gateway_process gw2(anon);
    auto const refused = send_request(gw2.port(), protected_post("redis-anon"));
    EXPECT_EQ(refused.status, 503U) << refused.body;
    EXPECT_EQ(upstream.calls(), 1U);
    EXPECT_EQ(gw2.terminate(), 0);
}

} // namespace
} // namespace idemgate::test
