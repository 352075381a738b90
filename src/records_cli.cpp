#include "records_cli.hpp"

#include "idemgate/config/routes.hpp"
#include "idemgate/engine/records.hpp"
#include "idemgate/log/log.hpp"
#include "idemgate/store/factory.hpp"
#include "idemgate/util/clock.hpp"

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <optional>
#include <sstream>

namespace idemgate::cli {

namespace {

constexpr std::string_view records_usage =
    "usage: idemgate records lookup|evict --config FILE\n"
    "           (--api-key-file F --method M --path P [--account A] | --route MATCH)\n"
    "           --key K [--include-body]\n";

int usage(std::string_view why) {
    std::cerr << "idemgate records: " << why << '\n' << records_usage;
    return usage_error;
}

/// The file's text without one trailing newline (LF or CRLF); nullopt when unreadable.
std::optional<std::string> read_key_file(std::string const& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (text.ends_with('\n')) text.pop_back();
    if (text.ends_with('\r')) text.pop_back();
    return text;
}

int exit_of(unsigned status) noexcept {
    if (status == 200) return found;
    if (status == 404) return not_found;
    if (status == 400) return usage_error;
    return store_unavailable; // 503, and 500: a record the store holds but cannot open
}

} // namespace

int run_records_command(std::vector<std::string> const& args,
                        std::optional<config::config> (*load)(std::string const&)) {
    if (args.empty() || (args[0] != "lookup" && args[0] != "evict"))
        return usage("expected lookup or evict");
    auto const op = args[0] == "evict" ? engine::records_op::evict : engine::records_op::lookup;
    std::map<std::string, std::string> opts;
    bool include_body = false;
    for (std::size_t i = 1; i < args.size(); ++i) {
        auto const& a = args[i];
        if (a == "--include-body") {
            include_body = true;
            continue;
        }
        static constexpr std::array<std::string_view, 7> known{
            "--config", "--api-key-file", "--method", "--path", "--account", "--route", "--key"};
        if (std::find(known.begin(), known.end(), a) == known.end())
            return usage("unknown option " + a);
        if (i + 1 >= args.size()) return usage(a + " needs a value");
        if (!opts.emplace(a, args[i + 1]).second) return usage(a + " given twice");
        ++i;
    }
    if (!opts.contains("--config") || !opts.contains("--key"))
        return usage("--config and --key are required");
    bool const by_route = opts.contains("--route");
    bool const by_client = opts.contains("--api-key-file") || opts.contains("--method") ||
                           opts.contains("--path") || opts.contains("--account");
    if (by_route == by_client) return usage("name the scope by client or by --route, not both");
    nlohmann::json body{{"key", opts["--key"]}};
    if (by_route) {
        body["route"] = opts["--route"];
    } else {
        if (!opts.contains("--api-key-file") || !opts.contains("--method") ||
            !opts.contains("--path"))
            return usage("--api-key-file, --method and --path are required");
        auto const api_key = read_key_file(opts["--api-key-file"]);
        if (!api_key) return usage("cannot read " + opts["--api-key-file"]);
        if (api_key->empty()) return usage(opts["--api-key-file"] + " is empty");
        body["api_key"] = *api_key;
        body["method"] = opts["--method"];
        body["path"] = opts["--path"];
        if (opts.contains("--account")) body["account"] = opts["--account"];
    }
    if (include_body) body["include_body"] = true;

    auto cfg = load(opts["--config"]);
    if (!cfg) return usage_error;
    log::setup(cfg->log, /*to_stderr=*/true); // stdout carries the answer
    try {
        net::io_context ioc{1};
        auto const stores =
            store::make_factory(cfg->store, util::real_clock(), config::longest_ttl(*cfg));
        auto st = stores->make(ioc.get_executor());
        engine::scope_hasher const scopes(cfg->idempotency.scope_secret);
        auto const ledger_routes = config::route_scoped_matches(*cfg);
        std::optional<engine::records_answer> answer;
        auto const text = body.dump();
        net::co_spawn(
            ioc,
            [&]() -> task<void> {
                answer = co_await engine::run_records(op, text, *st, scopes, ledger_routes);
            },
            [&ioc](std::exception_ptr const&) { ioc.stop(); });
        // The store bounds every call by its command timeout; this only guards against a
        // store that never answers.
        ioc.run_for(cfg->store.redis.command_timeout + cfg->store.redis.connect_timeout +
                    std::chrono::seconds(5));
        st.reset(); // before its io_context
        if (!answer) {
            std::cerr << "idemgate records: the store did not answer\n";
            return store_unavailable;
        }
        std::cout << answer->body << '\n';
        if (answer->status != 200 && answer->status != 404)
            std::cerr << "idemgate records: " << answer->body << '\n';
        return exit_of(answer->status);
    } catch (std::exception const& e) {
        std::cerr << "idemgate records: " << e.what() << '\n';
        return store_unavailable;
    }
}

} // namespace idemgate::cli
