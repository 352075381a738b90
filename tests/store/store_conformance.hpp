#pragma once
// Fixture of the store conformance suite (store_conformance_test.cpp): one backend per param.
#include "idemgate/store/factory.hpp"
#include "idemgate/util/clock.hpp"
#include "support/run_task.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <latch>
#include <memory>
#include <optional>
#include <ostream>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace idemgate::test {

/// A backend under test.
struct store_backend {
    std::string name; // gtest param name: [A-Za-z0-9_]
    /// Builds a factory whose stores take time from `clk`, from `cfg` with the backend's own
    /// settings (backend, address) filled in.
    std::function<std::unique_ptr<store::factory>(util::clock const&, config::store_config cfg)>
        make_factory;
    /// Expiry runs on a clock the test cannot drive: real_clock() is injected and pass_time()
    /// sleeps.
    bool real_time = false;

    /// gtest prints the param by its name, not as bytes.
    friend void PrintTo(store_backend const& b, std::ostream* os) { *os << b.name; }
};

/// Defined in the backends section of store_conformance_test.cpp.
std::vector<store_backend> store_backends();

/// Outcomes of race_begins().
struct begin_tally {
    std::atomic<int> acquired{0};
    std::atomic<int> in_progress{0};
    std::atomic<int> other{0}; // any other kind or an error
};

/// One begin() whose outcome lands in `tally` (outlives every io_context that runs this).
inline task<void> tally_begin(store::store* s, store::scope_key key, store::fingerprint fp,
                              begin_tally* tally) {
    auto const r = co_await s->begin(std::move(key), fp, std::chrono::seconds(60));
    if (r && r->kind == store::begin_kind::acquired) {
        ++tally->acquired;
    } else if (r && r->kind == store::begin_kind::in_progress) {
        ++tally->in_progress;
    } else {
        ++tally->other;
    }
}

class store_conformance : public ::testing::TestWithParam<store_backend> {
protected:
    void SetUp() override {
        factory_ = GetParam().make_factory(clock(), config::store_config{});
        factory_->start();
        store_ = factory_->make(ioc_.get_executor());
        std::random_device rd;
        nonce_ = std::to_string(rd()) + "-" + std::to_string(rd());
    }

    /// Replaces the store under test with one of the same backend whose credentials may hold
    /// `max` records each (store.max_records_per_credential).
    void use_credential_bound(std::uint64_t max) {
        config::store_config cfg;
        cfg.max_records_per_credential = max;
        bounded_factory_ = GetParam().make_factory(clock(), cfg);
        bounded_factory_->start();
        bounded_store_ = bounded_factory_->make(ioc_.get_executor());
        std::swap(store_, bounded_store_); // the first store stays alive, unused
    }

    /// Stores go before the factories that made them (use_credential_bound swaps them).
    void TearDown() override {
        store_.reset();
        bounded_store_.reset();
    }

    /// key(name) of the credential (hashed API key) named `who`.
    store::scope_key key_of(std::string const& who, std::string const& name) const {
        auto k = key(who + "/" + name);
        k.credential = key("credential/" + who).hash;
        return k;
    }

    util::clock const& clock() const { return GetParam().real_time ? util::real_clock() : manual_; }

    /// Runs `scenario(attempt)` until it reports that it ran within its time windows (true),
    /// at most 5 times. With a real-time store a step that runs late (a loaded machine
    /// stalled the test) proves nothing about a "still alive" window: the scenario checks
    /// late() before asserting and returns false to be run again on fresh keys.
    template <class Scenario>
    void in_time(Scenario scenario) {
        for (int attempt = 0; attempt < 5; ++attempt) {
            if (scenario(attempt)) return;
        }
        FAIL() << "no attempt ran within its time windows (the machine is too loaded)";
    }

    /// Whether more than `limit` of real time passed since `since` (never with the manual
    /// clock, whose time passes only by pass_time()).
    static bool late(std::chrono::steady_clock::time_point since, std::chrono::milliseconds limit) {
        return std::chrono::steady_clock::now() - since > limit;
    }

    void pass_time(std::chrono::milliseconds d) {
        if (GetParam().real_time) {
            std::this_thread::sleep_for(d);
        } else {
            manual_.advance(d);
        }
    }

    /// A 64-hex-char key unique to this test run, so tests sharing a server never collide.
    store::scope_key key(std::string const& name) const {
        auto const text = nonce_ + "/" + name;
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int len = 0;
        if (EVP_Digest(text.data(), text.size(), md, &len, EVP_sha256(), nullptr) != 1) {
            throw std::runtime_error("EVP_Digest failed");
        }
        static constexpr char digits[] = "0123456789abcdef";
        store::scope_key k;
        for (unsigned i = 0; i < len; ++i) {
            k.hash.push_back(digits[md[i] >> 4U]);
            k.hash.push_back(digits[md[i] & 0x0FU]);
        }
        return k;
    }

    static store::fingerprint fp(std::uint8_t seed) {
        store::fingerprint f{};
        for (std::size_t i = 0; i < f.size(); ++i) f[i] = static_cast<std::uint8_t>(seed + i);
        return f;
    }

    /// Repeated and ordered headers, a binary body with NUL and high bytes.
    static store::stored_response sample_response() {
        store::stored_response r;
        r.status = 201;
        r.headers = {{"Content-Type", "application/octet-stream"},
                     {"X-Zeta", "1"},
                     {"Set-Cookie", "a=1"},
                     {"X-Alpha", ""},
                     {"Set-Cookie", "b=2"}};
        r.body = std::string("\x00\x01\xff\xfe{\"id\":42}\r\n\x00", 16);
        return r;
    }

    static store::stored_response other_response() {
        store::stored_response r;
        r.status = 500;
        r.body = "other";
        return r;
    }

    /// The store's begin; an error fails the test (thrown out of the test body).
    store::begin_result begin(store::scope_key const& k, store::fingerprint const& f,
                              std::chrono::milliseconds lock_ttl = std::chrono::seconds(60)) {
        auto r = run_task(ioc_, store_->begin(k, f, lock_ttl));
        if (!r) throw std::runtime_error("begin failed: " + r.error().message());
        return std::move(*r);
    }

    error_code complete(store::scope_key const& k, store::owner_token const& owner,
                        store::stored_response response,
                        std::chrono::milliseconds ttl = std::chrono::hours(24)) {
        return run_task(ioc_, store_->complete(k, owner, std::move(response), ttl));
    }

    error_code release(store::scope_key const& k, store::owner_token const& owner) {
        return run_task(ioc_, store_->release(k, owner));
    }

    error_code renew(store::scope_key const& k, store::owner_token const& owner,
                     std::chrono::milliseconds lock_ttl) {
        return run_task(ioc_, store_->renew(k, owner, lock_ttl));
    }

    /// The records API's lookup; an error fails the test.
    std::optional<store::record_found> lookup(store::scope_key const& k) {
        auto r = run_task(ioc_, store_->lookup(k));
        if (!r) throw std::runtime_error("lookup failed: " + r.error().message());
        return std::move(*r);
    }

    /// The records API's evict; an error fails the test.
    bool evict(store::scope_key const& k) {
        auto r = run_task(ioc_, store_->evict(k));
        if (!r) throw std::runtime_error("evict failed: " + r.error().message());
        return *r == store::eviction::evicted;
    }

    /// `threads` threads, each with its own io_context and store from the shared factory, run
    /// `per_thread` concurrent begins of the same scope, all released at once by a latch.
    /// A context stops when its begins are done (a store may keep it busy, e.g. reading).
    void race_begins(store::scope_key const& k, store::fingerprint const& f, int threads,
                     int per_thread, begin_tally& tally) {
        std::latch start(threads);
        std::vector<std::thread> pool;
        for (int t = 0; t < threads; ++t) {
            pool.emplace_back([&] {
                net::io_context ioc;
                auto s = factory_->make(ioc.get_executor());
                int remaining = per_thread; // touched only by this thread's ioc
                for (int i = 0; i < per_thread; ++i) {
                    net::co_spawn(ioc, tally_begin(s.get(), k, f, &tally),
                                  [&remaining, &ioc](std::exception_ptr const&) {
                                      if (--remaining == 0) ioc.stop();
                                  });
                }
                start.arrive_and_wait();
                ioc.run_for(std::chrono::seconds(10));
                if (remaining != 0) tally.other += remaining; // timed out
            });
        }
        for (auto& th : pool) th.join();
    }

    util::manual_clock manual_;
    net::io_context ioc_;
    std::unique_ptr<store::factory> factory_; // destroyed after the store it made
    std::unique_ptr<store::store> store_;
    std::unique_ptr<store::factory> bounded_factory_; // use_credential_bound()
    std::unique_ptr<store::store> bounded_store_;     // destroyed before bounded_factory_
    std::string nonce_;
};

} // namespace idemgate::test
