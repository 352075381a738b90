// store.encryption and keyed fingerprints (docs/operations.md "Encryption at rest"): what a
// Redis dump shows, what a record moved to another scope gives, key rotation, records
// written before either was turned on, and the command line around the keys file.
#include "replica_fixture.hpp"

#include "idemgate/store/redis_record.hpp"
#include "support/digest.hpp"

#include <stdexcept>

namespace idemgate::test {
namespace {

constexpr char const* cookie = "session=SECRET_cookie_31";
constexpr char const* body_marker = "SECRET_amount_4242";
std::string const key_a = "ka:" + std::string(43, 'A') + "=";
std::string const key_b = "kb:" + std::string(42, 'B') + "A=";

/// A keys file, removed with the object.
struct keys_file : temp_config_file {
    explicit keys_file(std::string const& text) : temp_config_file(text, ".keys") {}
};

class encryption_at_rest : public redis_gateways_test {
protected:
    void SetUp() override {
        upstream_.set_handler([](recorded_request const&, std::size_t n) {
            auto reply = upstream_stub::default_reply(n);
            reply.headers.emplace_back("Set-Cookie", cookie);
            reply.body = std::string(R"({"id":"evt_)") + std::to_string(n) + R"(","amount":")" +
                         body_marker + "\"}";
            return reply;
        });
    }

    static gateway_config sealed_with(keys_file const& keys, std::string secret = "s3cret") {
        gateway_config cfg;
        cfg.set("store.encryption.keys_file", keys.path.string());
        if (!secret.empty()) cfg.set("idempotency.scope_secret", secret);
        return cfg;
    }

    /// The one record hash under the test's prefix with this idempotency key's scope: found
    /// as the only record key that appeared since `before`.
    std::vector<std::string> record_keys() const {
        auto const r = redis_.command({"KEYS", key_prefix_ + "{*}"});
        std::vector<std::string> out;
        for (auto const& e : r.elements) out.push_back(e.str);
        return out;
    }

    /// A completed record's parts (docs/redis.md "Record layout": one string).
    struct stored {
        store::fingerprint fp{};
        std::int64_t created_ms = 0;
        std::string response; // sealed when store.encryption is on
    };

    stored completed_record(std::string const& key) const {
        auto const v = redis_.command({"GET", key}).str;
        auto const d = store::redis_record::decode(v);
        if (!d || !d->done) throw std::runtime_error("not a completed record: " + key);
        return {d->c.fp, d->c.created_ms, std::string(d->c.response)};
    }

    /// Rewrites a completed record, keeping its expiry.
    void write_record(std::string const& key, stored const& r) const {
        redis_.command({"SET", key,
                        *store::redis_record::encode_completed(r.fp, r.created_ms, r.response),
                        "KEEPTTL"});
    }

    static std::string hex(store::fingerprint const& fp) {
        constexpr std::string_view digits = "0123456789abcdef";
        std::string out;
        for (auto const b : fp) {
            out.push_back(digits[b >> 4U]);
            out.push_back(digits[b & 0x0FU]);
        }
        return out;
    }

    static store::fingerprint from_hex(std::string const& h) {
        store::fingerprint fp{};
        for (std::size_t i = 0; i < fp.size(); ++i)
            fp[i] = static_cast<std::uint8_t>(std::stoi(h.substr(2 * i, 2), nullptr, 16));
        return fp;
    }

    /// Restarts the one replica with `cfg` (stopped cleanly first).
    void restart_with(gateway_config cfg) {
        ASSERT_EQ(replica(0).terminate(), 0);
        replicas_.clear();
        start_replica(std::move(cfg));
    }
};

TEST_F(encryption_at_rest, a_redis_dump_shows_no_response_and_no_plain_fingerprint) {
    keys_file const keys(key_a);
    start_replica(sealed_with(keys));
    auto const req = protected_post("enc-1", R"({"amount":4200})");
    auto const first = send_to(0, req);
    ASSERT_EQ(first.status, 201U) << first.error;
    auto const records = record_keys();
    ASSERT_EQ(records.size(), 1U);
    auto const rs = completed_record(records[0]).response;
    ASSERT_FALSE(rs.empty());
    EXPECT_EQ(rs.find(body_marker), std::string::npos);
    EXPECT_EQ(rs.find("SECRET_cookie"), std::string::npos);
    EXPECT_EQ(rs.find("Set-Cookie"), std::string::npos);
    EXPECT_EQ(rs.substr(0, 3), std::string("S\x01\x02", 3)); // sealed, version 1, id "ka"
    EXPECT_EQ(rs.substr(3, 2), "ka");
    auto const fp = hex(completed_record(records[0]).fp);
    EXPECT_EQ(fp.size(), 64U);
    EXPECT_NE(fp, sha256_hex(req.body)); // keyed by scope_secret: nothing to brute-force

    auto const replay = send_to(0, req);
    EXPECT_EQ(replay.status, 201U);
    EXPECT_EQ(replay.header(replay_header), "true");
    EXPECT_EQ(replay.body, first.body);
    EXPECT_EQ(replay.header("Set-Cookie"), cookie);
    EXPECT_EQ(upstream_.calls(), 1U);
    // A different body under the same key is still a conflict.
    EXPECT_EQ(send_to(0, protected_post("enc-1", R"({"amount":1})")).status, 409U);
    EXPECT_EQ(upstream_.calls(), 1U);
}

TEST_F(encryption_at_rest, a_record_moved_to_another_scope_does_not_open_and_nothing_runs) {
    keys_file const keys(key_a);
    start_replica(sealed_with(keys));
    auto const victim = protected_post("victim-key");
    auto const attacker = protected_post("attacker-key");
    ASSERT_EQ(send_to(0, victim).status, 201U);
    auto const before = record_keys();
    ASSERT_EQ(send_to(0, attacker).status, 201U);
    auto after = record_keys();
    ASSERT_EQ(after.size(), 2U);
    std::string const victim_key = before.at(0);
    std::string const attacker_key = after[0] == victim_key ? after[1] : after[0];
    // The attacker's record keeps its own fingerprint and gets the victim's sealed response.
    auto moved = completed_record(attacker_key);
    moved.response = completed_record(victim_key).response;
    write_record(attacker_key, moved);

    auto const r = send_to(0, attacker);
    EXPECT_EQ(r.status, 503U) << r.body; // store.on_unavailable: fail_closed
    EXPECT_EQ(r.body.find("victim"), std::string::npos);
    EXPECT_EQ(r.body.find("evt_1"), std::string::npos);
    EXPECT_EQ(upstream_.calls(), 2U); // not executed again
    EXPECT_EQ(metric(0, R"(idemgate_store_errors_total{kind="unreadable"})"), 1.0);
    EXPECT_TRUE(replica(0).wait_for_json(
        [](nlohmann::json const& j) {
            return j.value("msg", "").find("does not open") != std::string::npos;
        },
        3s))
        << replica(0).output();
    EXPECT_EQ(replica(0).output().find("evt_1"), std::string::npos); // no content logged
    // The victim's own record still replays.
    EXPECT_EQ(send_to(0, victim).header(replay_header), "true");
}

TEST_F(encryption_at_rest, keys_rotate_without_downtime_and_a_removed_key_stops_opening) {
    keys_file const old_keys(key_a);
    keys_file const rotated(key_b + "\n" + key_a + "\n");
    keys_file const new_only(key_b);
    start_replica(sealed_with(old_keys));
    auto const before = protected_post("rot-1");
    ASSERT_EQ(send_to(0, before).status, 201U);

    restart_with(sealed_with(rotated));
    EXPECT_EQ(send_to(0, before).header(replay_header), "true"); // sealed with ka, opens
    auto const after = protected_post("rot-2");
    ASSERT_EQ(send_to(0, after).status, 201U);
    std::size_t sealed_with_kb = 0;
    for (auto const& k : record_keys())
        if (completed_record(k).response.substr(3, 2) == "kb") ++sealed_with_kb;
    EXPECT_EQ(sealed_with_kb, 1U); // the first key of the file seals
    EXPECT_EQ(upstream_.calls(), 2U);

    restart_with(sealed_with(new_only));
    EXPECT_EQ(send_to(0, after).header(replay_header), "true");
    EXPECT_EQ(send_to(0, before).status, 503U); // ka is gone: it does not open
    EXPECT_EQ(upstream_.calls(), 2U);
}

TEST_F(encryption_at_rest, records_in_clear_are_refused_unless_accept_unsealed) {
    start_replica(); // no encryption, no scope_secret: plain records
    auto const req = protected_post("clear-1");
    ASSERT_EQ(send_to(0, req).status, 201U);
    keys_file const keys(key_a);

    restart_with(sealed_with(keys, ""));
    EXPECT_EQ(send_to(0, req).status, 503U);
    EXPECT_EQ(metric(0, R"(idemgate_store_errors_total{kind="unreadable"})"), 1.0);

    restart_with(sealed_with(keys, "").set("store.encryption.accept_unsealed", "true"));
    EXPECT_EQ(send_to(0, req).header(replay_header), "true");
    EXPECT_EQ(upstream_.calls(), 1U);
}

TEST_F(encryption_at_rest, a_record_from_before_fingerprints_were_keyed_still_replays) {
    start_replica(gateway_config{}.set("idempotency.scope_secret", "s3cret"));
    auto const req = protected_post("legacy-1");
    ASSERT_EQ(send_to(0, req).status, 201U);
    auto const record = record_keys().at(0);
    ASSERT_NE(hex(completed_record(record).fp), sha256_hex(req.body));
    // As the previous version wrote it (same scope: the secret already keyed the API key):
    // the body's plain SHA-256.
    auto legacy = completed_record(record);
    legacy.fp = from_hex(sha256_hex(req.body));
    write_record(record, legacy);

    auto const replay = send_to(0, req);
    EXPECT_EQ(replay.status, 201U);
    EXPECT_EQ(replay.header(replay_header), "true");
    auto const other = send_to(0, protected_post("legacy-1", R"({"amount":1})"));
    EXPECT_EQ(other.status, 409U) << other.body;
    EXPECT_EQ(upstream_.calls(), 1U);
}

TEST(encryption_cli, check_config_names_a_bad_keys_file_and_exits_2) {
    keys_file const bad("ka:not-base64\n");
    temp_config_file const cfg("store:\n  backend: redis\n  encryption:\n    keys_file: " +
                               bad.path.string() + "\nidempotency:\n  scope_secret: x\n");
    auto const r = run_cli({"--check-config", cfg.path.string()});
    EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
    EXPECT_NE(r.err.find("store.encryption.keys_file"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("line 1"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("not-base64"), std::string::npos) << r.err; // never echo a key
}

TEST(encryption_cli, check_config_warns_of_an_empty_scope_secret_with_redis) {
    temp_config_file const cfg("store:\n  backend: redis\n");
    auto const r = run_cli({"--check-config", cfg.path.string()});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_NE(r.err.find("warning: idempotency.scope_secret"), std::string::npos) << r.err;
}

TEST(encryption_cli, keys_generate_prints_a_line_the_gateway_accepts) {
    auto const a = run_cli({"keys", "generate"});
    auto const b = run_cli({"keys", "generate"});
    ASSERT_EQ(a.exit_code, 0) << a.err;
    EXPECT_NE(a.out, b.out);
    keys_file const keys(a.out + b.out);
    temp_config_file const cfg("store:\n  backend: redis\n  encryption:\n    keys_file: " +
                               keys.path.string() + "\nidempotency:\n  scope_secret: x\n");
    auto const r = run_cli({"--check-config", cfg.path.string()});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
}

} // namespace
} // namespace idemgate::test
