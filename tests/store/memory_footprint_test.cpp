// Issue 9 §5: store.memory.max_bytes must bound what the memory store's records take from the
// process (RSS) within ~1.5×, so the charge per record must be an honest estimate of its cost:
// key, map and index nodes, the record, its strings and the allocator's overhead.
#include "idemgate/store/memory_store.hpp"
#include "idemgate/store/owner_token.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>

namespace idemgate::store {
namespace {

using namespace std::chrono_literals;

/// Resident set size of this process, from /proc/self/statm (pages).
std::uint64_t rss_bytes() {
    std::ifstream statm("/proc/self/statm");
    std::uint64_t size = 0;
    std::uint64_t resident = 0;
    statm >> size >> resident;
    return resident * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
}

std::string hex64(std::uint64_t n) {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(n));
    return std::string(buf) + std::string(48, 'a');
}

/// ~300 bytes of response, as in the issue: a JSON body and a few ordinary headers.
stored_response small_response(std::uint64_t n) {
    stored_response r;
    r.status = 201;
    r.headers = {{"Content-Type", "application/json"},
                 {"Date", "Mon, 30 Nov 2026 18:00:00 GMT"},
                 {"X-Request-Id", "req_" + hex64(n).substr(0, 24)}};
    r.body = R"({"id":"ch_)" + hex64(n) + R"(","object":"charge","amount":1500,)" +
             R"("currency":"eur","status":"succeeded","livemode":false,"captured":true,)" +
             R"("description":"integration"})";
    return r;
}

TEST(memory_footprint, max_bytes_bounds_the_resident_memory_of_the_records_within_1_5x) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    GTEST_SKIP() << "a sanitizer's allocator changes what an allocation costs";
#endif
    config::memory_store_config cfg;
    cfg.max_records = 10'000'000;
    cfg.max_bytes = config::byte_size{std::uint64_t{8} << 30};
    util::manual_clock clock;
    memory_db db(cfg, clock, credential_bound{100'000'000, 24h});
    constexpr std::uint64_t n = 100'000;
    std::string const credential(64, 'c');
    fingerprint const fp{1, 2, 3};

    auto const before = rss_bytes();
    std::uint64_t response_bytes = 0;
    for (std::uint64_t i = 0; i < n; ++i) {
        scope_key const key{hex64(i), credential};
        auto const owner = make_owner_token();
        ASSERT_TRUE(owner);
        auto const begun = db.begin(key, fp, 60s, *owner);
        ASSERT_TRUE(begun && begun->kind == begin_kind::acquired);
        auto response = small_response(i);
        response_bytes += response.body.size();
        for (auto const& [name, value] : response.headers)
            response_bytes += name.size() + value.size();
        ASSERT_EQ(db.complete(key, begun->owner, std::move(response), 24h), error_code{});
    }
    auto const grown = static_cast<double>(rss_bytes() - before);
    auto const charged = static_cast<double>(db.bytes());
    std::cout << "records: " << n << ", response bytes per record: " << response_bytes / n
              << ", RSS per record: " << grown / n << " B, charged per record: " << charged / n
              << " B, RSS / charged: " << grown / charged << "\n";
    EXPECT_LE(grown, 1.5 * charged);
    EXPECT_GE(grown, charged / 1.5); // honest, not just large
}

} // namespace
} // namespace idemgate::store
