#include "idemgate/config/env.hpp"
#include "idemgate/config/parse.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <set>

namespace idemgate::config {
namespace {

using namespace std::chrono_literals;

/// An injected environment holding exactly `vars`.
env_lookup env_of(std::map<std::string, std::string> vars) {
    return [vars = std::move(vars)](std::string const& name) -> std::optional<std::string> {
        auto const it = vars.find(name);
        if (it == vars.end()) return std::nullopt;
        return it->second;
    };
}

std::string all_problems(parse_result const& r) {
    std::string out;
    for (auto const& p : r.problems) out += p.to_string() + "\n";
    return out;
}

/// A file under the build's temp dir, removed at the end of the test.
class temp_file {
public:
    explicit temp_file(std::string const& content) {
        path_ = testing::TempDir() + "idemgate_secret_" + std::to_string(::getpid()) + "_" +
                std::to_string(counter_++);
        std::ofstream(path_, std::ios::binary) << content;
    }
    ~temp_file() { std::remove(path_.c_str()); }
    temp_file(temp_file const&) = delete;
    temp_file& operator=(temp_file const&) = delete;
    std::string const& path() const { return path_; }

private:
    static inline int counter_ = 0;
    std::string path_;
};

struct expand_row {
    std::string text;
    std::string expected; // when error_part is empty
    std::string error_part;
};

void PrintTo(expand_row const& row, std::ostream* os) {
    *os << '"' << row.text << '"';
}

class expand_env_table : public testing::TestWithParam<expand_row> {};

TEST_P(expand_env_table, substitutes_like_a_shell_or_says_why_not) {
    auto const env = env_of({{"HOST", "db.local"}, {"EMPTY", ""}, {"PORT", "6380"}});
    auto const& row = GetParam();
    auto const r = expand_env(row.text, env);
    if (row.error_part.empty()) {
        ASSERT_TRUE(r.ok()) << r.error;
        EXPECT_EQ(r.value, row.expected);
    } else {
        ASSERT_FALSE(r.ok()) << "unexpected value " << r.value;
        EXPECT_NE(r.error.find(row.error_part), std::string::npos) << r.error;
    }
}

INSTANTIATE_TEST_SUITE_P(
    rows, expand_env_table,
    testing::Values(
        expand_row{"plain", "plain", ""}, expand_row{"${HOST}", "db.local", ""},
        expand_row{"redis://${HOST}:${PORT}/0", "redis://db.local:6380/0", ""},
        expand_row{"${MISSING:-fallback}", "fallback", ""},
        expand_row{"${EMPTY:-fallback}", "fallback", ""}, // unset or empty, as ${VAR:-x} in sh
        expand_row{"${HOST:-fallback}", "db.local", ""}, expand_row{"${MISSING:-}", "", ""},
        expand_row{"${EMPTY}", "", ""}, expand_row{"cost $5 and $HOME", "cost $5 and $HOME", ""},
        expand_row{"$${HOST}", "${HOST}", ""}, expand_row{"a:-b}", "a:-b}", ""},
        expand_row{"${MISSING}", "", "MISSING is not set"},
        expand_row{"${HOST", "", "unterminated"}, expand_row{"${}", "", "invalid variable name"},
        expand_row{"${1X}", "", "invalid variable name"},
        expand_row{"${A-B}", "", "invalid variable name"},
        expand_row{"${MISSING:-${HOST}}", "", "nested"}));

TEST(override_variable, upper_cases_the_key_path_and_replaces_dots) {
    EXPECT_EQ(override_variable("store.redis.url"), "IDEMGATE_STORE_REDIS_URL");
    EXPECT_EQ(override_variable("listen"), "IDEMGATE_LISTEN");
    EXPECT_EQ(override_variable("idempotency.lock_ttl"), "IDEMGATE_IDEMPOTENCY_LOCK_TTL");
}

TEST(split_list, trims_items_and_gives_an_empty_list_for_blank_text) {
    EXPECT_EQ(split_list("POST,PATCH"), (std::vector<std::string>{"POST", "PATCH"}));
    EXPECT_EQ(split_list(" 408 , 429 "), (std::vector<std::string>{"408", "429"}));
    EXPECT_EQ(split_list("a,,b"), (std::vector<std::string>{"a", "", "b"}));
    EXPECT_TRUE(split_list("").empty());
    EXPECT_TRUE(split_list("  ").empty());
}

TEST(env_override, replaces_file_values_and_fills_absent_sections) {
    auto const env = env_of({{"IDEMGATE_LISTEN", "127.0.0.1:7000"},
                             {"IDEMGATE_STORE_REDIS_URL", "redis://cache:6379/3"},
                             {"IDEMGATE_IDEMPOTENCY_LOCK_TTL", "30s"},
                             {"IDEMGATE_IDEMPOTENCY_METHODS", "post, PUT"},
                             {"IDEMGATE_IDEMPOTENCY_NO_STORE_STATUSES", "503,504"},
                             {"IDEMGATE_UPSTREAM_TLS_INSECURE_SKIP_VERIFY", "true"},
                             {"IDEMGATE_STORE_BACKEND", "redis"}});
    auto const r = parse_yaml("listen: 0.0.0.0:1\nidempotency:\n  lock_ttl: 5s\n", "f.yaml", env);
    ASSERT_TRUE(r.ok()) << all_problems(r);
    EXPECT_EQ(r.cfg.listen, "127.0.0.1:7000");
    EXPECT_EQ(r.cfg.store.redis.url, "redis://cache:6379/3");
    EXPECT_EQ(r.cfg.idempotency.lock_ttl, 30s);
    EXPECT_EQ(r.cfg.idempotency.methods, (std::vector<std::string>{"POST", "PUT"}));
    EXPECT_EQ(r.cfg.idempotency.no_store_statuses, (std::vector<unsigned>{503, 504}));
    EXPECT_TRUE(r.cfg.upstream.tls.insecure_skip_verify);
    EXPECT_EQ(r.cfg.store.backend, store_backend::redis);
}

TEST(env_override, sets_the_listener_tls_keys) {
    auto const env = env_of({{"IDEMGATE_TLS_MIN_VERSION", "1.3"},
                             {"IDEMGATE_TLS_RELOAD_INTERVAL", "5s"},
                             {"IDEMGATE_TLS_CLIENT_CA_FILE", ""}});
    auto const r = parse_yaml("listen: 0.0.0.0:1\n", "f.yaml", env);
    ASSERT_TRUE(r.ok()) << all_problems(r);
    EXPECT_EQ(r.cfg.tls.min_version, tls_version::v1_3);
    EXPECT_EQ(r.cfg.tls.reload_interval, 5s);
    // A client CA without a certificate is refused: mTLS needs TLS.
    auto const bad = parse_yaml("listen: 0.0.0.0:1\n", "f.yaml",
                                env_of({{"IDEMGATE_TLS_CLIENT_CA_FILE", "/ca.crt"}}));
    EXPECT_FALSE(bad.ok());
}

TEST(env_override, takes_the_redis_nodes_as_a_comma_separated_list) {
    auto const env = env_of({{"IDEMGATE_STORE_REDIS_NODES", "10.0.0.1:7000, 10.0.0.2:7000"},
                             {"IDEMGATE_STORE_REDIS_MODE", "cluster"},
                             {"IDEMGATE_STORE_BACKEND", "redis"}});
    auto const r = parse_yaml("store:\n  redis:\n    nodes: [\"h:1\"]\n", "f.yaml", env);
    ASSERT_TRUE(r.ok()) << all_problems(r);
    EXPECT_EQ(r.cfg.store.redis.nodes,
              (std::vector<std::string>{"10.0.0.1:7000", "10.0.0.2:7000"}));
    EXPECT_EQ(r.cfg.store.redis.mode, redis_mode::cluster);
}

TEST(env_override, an_empty_value_overrides_too) {
    auto const r = parse_yaml("admin:\n  listen: 127.0.0.1:9\n", "f.yaml",
                              env_of({{"IDEMGATE_ADMIN_LISTEN", ""}}));
    ASSERT_TRUE(r.ok()) << all_problems(r);
    EXPECT_EQ(r.cfg.admin.listen, ""); // admin listener disabled
}

TEST(env_override, is_validated_like_a_file_value_and_names_the_variable) {
    auto const env = env_of({{"IDEMGATE_IDEMPOTENCY_LOCK_TTL", "60"},
                             {"IDEMGATE_LISTEN", "8080"},
                             {"IDEMGATE_IDEMPOTENCY_METHODS", ""}});
    auto const r = parse_yaml("{}", "f.yaml", env);
    ASSERT_EQ(r.problems.size(), 3u) << all_problems(r);
    EXPECT_EQ(r.problems[0].file, "environment IDEMGATE_IDEMPOTENCY_LOCK_TTL");
    EXPECT_EQ(r.problems[0].key_path, "idempotency.lock_ttl");
    EXPECT_EQ(r.problems[1].to_string(),
              "environment IDEMGATE_LISTEN listen: missing :port (write host:port, e.g. "
              "0.0.0.0:8080) in \"8080\"");
    EXPECT_EQ(r.problems[2].key_path, "idempotency.methods");
    EXPECT_EQ(r.problems[2].file, "environment IDEMGATE_IDEMPOTENCY_METHODS");
}

TEST(env_override, value_is_taken_literally_without_expansion) {
    auto const r = parse_yaml("{}", "f.yaml",
                              env_of({{"IDEMGATE_STORE_REDIS_KEY_PREFIX", "${NOT_EXPANDED}"}}));
    ASSERT_TRUE(r.ok()) << all_problems(r);
    EXPECT_EQ(r.cfg.store.redis.key_prefix, "${NOT_EXPANDED}");
}

TEST(env_override, every_key_has_its_own_variable) {
    std::vector<std::string> asked;
    env_lookup const recorder = [&asked](std::string const& name) -> std::optional<std::string> {
        asked.push_back(name);
        return std::nullopt;
    };
    auto const r = parse_yaml("{}", "f.yaml", recorder);
    ASSERT_TRUE(r.ok());
    std::set<std::string> const unique(asked.begin(), asked.end());
    EXPECT_EQ(unique.size(), asked.size()) << "two keys share an override variable";
    for (auto const* name :
         {"IDEMGATE_LISTEN", "IDEMGATE_THREADS", "IDEMGATE_STORE_REDIS_URL",
          "IDEMGATE_STORE_REDIS_PASSWORD", "IDEMGATE_STORE_REDIS_PASSWORD_FILE",
          "IDEMGATE_IDEMPOTENCY_SCOPE_SECRET_FILE", "IDEMGATE_UPSTREAM_TLS_CA_FILE",
          "IDEMGATE_STORE_REDIS_TLS_CA_FILE", "IDEMGATE_SHUTDOWN_TIMEOUT",
          "IDEMGATE_LOG_ACCESS_LOG", "IDEMGATE_ADMIN_LISTEN"}) {
        EXPECT_EQ(unique.count(name), 1u) << name;
    }
    EXPECT_GE(unique.size(), 50u); // every leaf key of config.hpp plus the two *_file keys
}

TEST(env_expansion, applies_to_scalars_and_list_items_of_the_file) {
    auto const env = env_of({{"REDIS_HOST", "cache"}, {"M", "put"}});
    auto const r =
        parse_yaml("store:\n  redis:\n    url: redis://${REDIS_HOST}:${REDIS_PORT:-6390}/1\n"
                   "idempotency:\n  methods: [POST, \"${M}\"]\n  ttl: ${TTL:-2h}\n",
                   "f.yaml", env);
    ASSERT_TRUE(r.ok()) << all_problems(r);
    EXPECT_EQ(r.cfg.store.redis.url, "redis://cache:6390/1");
    EXPECT_EQ(r.cfg.idempotency.methods, (std::vector<std::string>{"POST", "PUT"}));
    EXPECT_EQ(r.cfg.idempotency.ttl, 2h);
}

TEST(env_expansion, an_unset_variable_is_a_problem_at_its_line) {
    auto const r = parse_yaml("listen: 127.0.0.1:1\nidempotency:\n  methods: [POST, \"${NOPE}\"]\n",
                              "f.yaml", env_of({}));
    ASSERT_EQ(r.problems.size(), 1u) << all_problems(r);
    EXPECT_EQ(r.problems[0].key_path, "idempotency.methods[1]");
    EXPECT_EQ(r.problems[0].line, 3);
    EXPECT_NE(r.problems[0].message.find("NOPE is not set"), std::string::npos);
}

TEST(secret_files, read_the_secret_without_its_trailing_newline) {
    temp_file const password("s3cr3t\n");
    temp_file const pepper("pepper\r\n");
    auto const r = parse_yaml("store:\n  redis:\n    password_file: " + password.path() +
                                  "\nidempotency:\n  scope_secret_file: " + pepper.path() + "\n",
                              "f.yaml", env_of({}));
    ASSERT_TRUE(r.ok()) << all_problems(r);
    EXPECT_EQ(r.cfg.store.redis.password, "s3cr3t");
    EXPECT_EQ(r.cfg.idempotency.scope_secret, "pepper");
}

TEST(secret_files, read_the_admin_token_from_admin_token_file_or_inline) {
    temp_file const token("0123456789abcdef-admin\n");
    auto const from_file =
        parse_yaml("admin:\n  token_file: " + token.path() + "\n", "f.yaml", env_of({}));
    ASSERT_TRUE(from_file.ok()) << all_problems(from_file);
    EXPECT_EQ(from_file.cfg.admin.token, "0123456789abcdef-admin");
    auto const inline_token =
        parse_yaml("admin:\n  token: 0123456789abcdef-inline\n", "f.yaml", env_of({}));
    ASSERT_TRUE(inline_token.ok()) << all_problems(inline_token);
    EXPECT_EQ(inline_token.cfg.admin.token, "0123456789abcdef-inline");
    auto const both =
        parse_yaml("admin:\n  token: 0123456789abcdef-inline\n  token_file: " + token.path() + "\n",
                   "f.yaml", env_of({}));
    EXPECT_FALSE(both.ok());
}

TEST(secret_files, can_be_named_by_an_override_variable) {
    temp_file const password("from-file");
    auto const r = parse_yaml("{}", "f.yaml",
                              env_of({{"IDEMGATE_STORE_REDIS_PASSWORD_FILE", password.path()}}));
    ASSERT_TRUE(r.ok()) << all_problems(r);
    EXPECT_EQ(r.cfg.store.redis.password, "from-file");
}

TEST(secret_files, refuse_a_missing_or_empty_file_and_both_forms_at_once) {
    temp_file const empty("\n");
    temp_file const good("x");
    auto const missing = parse_yaml("idempotency:\n  scope_secret_file: /nonexistent/secret\n",
                                    "f.yaml", env_of({}));
    ASSERT_EQ(missing.problems.size(), 1u) << all_problems(missing);
    EXPECT_EQ(missing.problems[0].key_path, "idempotency.scope_secret_file");
    EXPECT_EQ(missing.problems[0].line, 2);
    EXPECT_NE(missing.problems[0].message.find("cannot open"), std::string::npos);

    auto const blank = parse_yaml("idempotency:\n  scope_secret_file: " + empty.path() + "\n",
                                  "f.yaml", env_of({}));
    ASSERT_EQ(blank.problems.size(), 1u) << all_problems(blank);
    EXPECT_NE(blank.problems[0].message.find("is empty"), std::string::npos);

    auto const both =
        parse_yaml("store:\n  redis:\n    password: a\n    password_file: " + good.path() + "\n",
                   "f.yaml", env_of({}));
    ASSERT_EQ(both.problems.size(), 1u) << all_problems(both);
    EXPECT_EQ(both.problems[0].key_path, "store.redis.password_file");
    EXPECT_NE(both.problems[0].message.find("not both"), std::string::npos);
}

struct redact_row {
    std::string url;
    std::string expected;
};

void PrintTo(redact_row const& row, std::ostream* os) {
    *os << '"' << row.url << '"';
}

class redacted_url_table : public testing::TestWithParam<redact_row> {};

TEST_P(redacted_url_table, hides_the_password_and_keeps_the_rest) {
    EXPECT_EQ(redacted_url(GetParam().url), GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(
    rows, redacted_url_table,
    testing::Values(redact_row{"redis://app:pw@h:6379/0", "redis://app:***@h:6379/0"},
                    redact_row{"rediss://:pw@h", "rediss://:***@h"},
                    redact_row{"redis://pw@h/1", "redis://***@h/1"},
                    redact_row{"redis://a:p@ss:w@rd@h:1/2", "redis://a:***@h:1/2"},
                    redact_row{"redis://h:6379/0", "redis://h:6379/0"},
                    redact_row{"http://h/path@x",
                               "http://h/path@x"}, // an @ in the path is no user info
                    redact_row{"", ""}));

} // namespace
} // namespace idemgate::config
