// idemgate: an HTTP idempotency gateway. CLI per contract §6.
#include "idemgate/admin/healthcheck.hpp"
#include "idemgate/capacity/plan.hpp"
#include "idemgate/config/parse.hpp"
#include "idemgate/log/log.hpp"
#include "idemgate/revision.hpp" // generated at build time
#include "idemgate/server/gateway.hpp"
#include "idemgate/store/sealer.hpp"
#include "records_cli.hpp"

#include <cstddef>
#include <cstdio>
#include <exception>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

// Declared here rather than through <jemalloc/jemalloc.h> or <mimalloc.h>: those redeclare
// malloc and friends, and main.cpp needs only the version call.
#if defined(IDEMGATE_ALLOCATOR_JEMALLOC)
extern "C" int mallctl(char const* name, void* oldp, std::size_t* oldlenp, void* newp,
                       std::size_t newlen);
#elif defined(IDEMGATE_ALLOCATOR_MIMALLOC)
extern "C" int mi_version();
#endif

namespace {

/// The malloc this executable was linked with (IDEMGATE_ALLOCATOR), asked for its version
/// at run time, so that `--version` (and the benchmark's versions.txt) shows which one a
/// binary really runs.
std::string allocator() {
#if defined(IDEMGATE_ALLOCATOR_JEMALLOC)
    char const* version = nullptr;
    std::size_t len = sizeof version;
    if (mallctl("version", static_cast<void*>(&version), &len, nullptr, 0) == 0 && version)
        return std::string("jemalloc ") + version;
    return "jemalloc";
#elif defined(IDEMGATE_ALLOCATOR_MIMALLOC)
    int const v = mi_version(); // e.g. 209 for 2.0.9
    return "mimalloc " + std::to_string(v / 100) + '.' + std::to_string(v / 10 % 10) + '.' +
           std::to_string(v % 10);
#else
    return "system";
#endif
}

constexpr std::string_view usage = R"(usage: idemgate --config FILE
       idemgate --check-config FILE
       idemgate healthcheck --config FILE [--ready]
       idemgate keys generate
       idemgate records lookup|evict --config FILE
                (--api-key-file F --method M --path P [--account A] | --route MATCH)
                --key K [--include-body]
       idemgate capacity --rate R --body SIZE [--ttl T] [--encryption on|off]
                [--store redis|memory] [--replay-rate R] [--primary-memory SIZE] ...
       idemgate --version | --help

An HTTP/1.1 reverse proxy that makes mutating calls safe to retry with an
Idempotency-Key header (replay of the first response, 409 on a reused key).

  --config FILE        run with the YAML configuration FILE
  --check-config FILE  validate FILE: exit 0, or 2 with one line per problem
  healthcheck          GET /livez (or /readyz with --ready) on admin.listen of FILE:
                       exit 0 when it answers 200, else 1 (an exec probe)
  keys generate        print a new line for store.encryption.keys_file
                       (<id>:<base64 of 32 random bytes>); see docs/operations.md
  records              look up or evict the record of one scope in the configured
                       store (as POST /admin/v1/records/*): prints its JSON; exit 0
                       found, 1 not found, 2 usage or config error, 3 store unavailable
  capacity             records held, Redis memory and primaries, gateway cores for a
                       rate, body size and ttl, from measured inputs (docs/capacity.md);
                       exit 0, or 2 on a bad option (`idemgate capacity --help`)
  --version            print the version and exit
  --help               print this help and exit

Environment variables IDEMGATE_<KEY_PATH> override the file's values
(e.g. IDEMGATE_STORE_REDIS_URL); see docs/configuration.md.
)";

/// Loads FILE, and the keys file it names; prints one line per problem to stderr. nullopt
/// on problems.
std::optional<idemgate::config::config> load(std::string const& path) {
    auto parsed = idemgate::config::load_file(path);
    for (auto const& p : parsed.problems) std::cerr << p.to_string() << '\n';
    if (!parsed.ok()) return std::nullopt;
    if (auto const& file = parsed.cfg.store.encryption.keys_file; !file.empty()) {
        std::string why;
        if (!idemgate::store::load_keys(file, why)) {
            std::cerr << path << ": store.encryption.keys_file: " << why << '\n';
            return std::nullopt;
        }
    }
    return std::move(parsed.cfg);
}

} // namespace

int main(int argc, char** argv) {
    std::string_view const cmd = argc > 1 ? argv[1] : "";
    if (argc == 2 && (cmd == "--help" || cmd == "-h")) {
        std::cout << usage;
        return 0;
    }
    if (argc == 2 && cmd == "--version") {
        std::cout << "idemgate " << IDEMGATE_VERSION << " (" << IDEMGATE_REVISION << ", allocator "
                  << allocator() << ")\n";
        return 0;
    }
    if (cmd == "keys") {
        if (argc != 3 || std::string_view(argv[2]) != "generate") {
            std::cerr << usage;
            return 2;
        }
        std::cout << idemgate::store::generate_key_line() << '\n';
        return 0;
    }
    if (cmd == "records") {
        return idemgate::cli::run_records_command(std::vector<std::string>(argv + 2, argv + argc),
                                                  load);
    }
    if (cmd == "capacity") {
        return idemgate::capacity::run_command(std::vector<std::string>(argv + 2, argv + argc),
                                               std::cout, std::cerr);
    }
    if (cmd == "healthcheck") {
        std::string_view const flag = argc > 2 ? argv[2] : "";
        bool const ready = argc == 5 && std::string_view(argv[4]) == "--ready";
        if (flag != "--config" || (argc != 4 && !ready)) {
            std::cerr << usage;
            return 2;
        }
        auto cfg = load(argv[3]);
        if (!cfg) return 2;
        return idemgate::admin::healthcheck(cfg->admin, ready ? "/readyz" : "/livez");
    }
    if (argc != 3 || (cmd != "--config" && cmd != "--check-config")) {
        std::cerr << usage;
        return 2;
    }
    auto cfg = load(argv[2]);
    if (!cfg) return 2;
    auto const warnings = idemgate::config::warnings(*cfg);
    if (cmd == "--check-config") {
        // Risky but valid (contract §7): said, yet still exit 0.
        for (auto const& w : warnings)
            std::cerr << argv[2] << " warning: " << w.to_string() << '\n';
        std::cout << argv[2] << ": configuration OK\n";
        return 0;
    }
    try {
        idemgate::log::setup(cfg->log);
        for (auto const& w : warnings)
            idemgate::log::warn("risky setting", {{"key", w.key_path}, {"problem", w.message}});
        idemgate::server::gateway gw(std::move(*cfg));
        return gw.run();
    } catch (std::exception const& e) {
        idemgate::log::error("startup failed", {{"error", e.what()}});
        std::cerr << "idemgate: " << e.what() << '\n';
        return 1;
    }
}
