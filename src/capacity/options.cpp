// `idemgate capacity` options: parsed strictly, every number bounded, so that the arithmetic
// never sees a value it was not planned for.
#include "idemgate/capacity/plan.hpp"
#include "idemgate/config/units.hpp"

#include <algorithm>
#include <charconv>
#include <map>
#include <optional>
#include <ostream>
#include <string_view>

namespace idemgate::capacity {

namespace {

constexpr std::string_view usage =
    "usage: idemgate capacity --rate R --body SIZE [--ttl T] [--encryption on|off]\n"
    "                         [--store redis|memory] [--replay-rate R] [--passthrough-rate R]\n"
    "                         [--primary-memory SIZE] [--replica-cores N]\n"
    "  --rate R              new keys per second (1 to 10000000)\n"
    "  --body SIZE           stored response body, e.g. 200, 2KiB (0 to 512MiB)\n"
    "  --ttl T               idempotency.ttl, e.g. 24h (1s to 30d; default 24h)\n"
    "  --encryption on|off   store.encryption (default off)\n"
    "  --store redis|memory  store.backend (default redis)\n"
    "  --replay-rate R       replays per second (0 to 10000000; default 0)\n"
    "  --passthrough-rate R  requests forwarded unprotected per second (default 0)\n"
    "  --primary-memory SIZE usable memory of one Redis primary (256MiB to 4TiB; default 25GiB)\n"
    "  --replica-cores N     cores of one gateway replica (1 to 256; default 2)\n"
    "Prints records held, Redis memory and primaries, gateway cores; docs/capacity.md.\n";

/// Digits only (no sign, no unit), at most `max`.
std::optional<std::uint64_t> parse_count(std::string const& text, std::uint64_t min,
                                         std::uint64_t max) {
    std::uint64_t v = 0;
    auto const* end = text.data() + text.size();
    auto const [ptr, ec] = std::from_chars(text.data(), end, v);
    if (text.empty() || ec != std::errc{} || ptr != end || v < min || v > max) return std::nullopt;
    return v;
}

std::string bad(std::string const& option, std::string const& expected, std::string const& got) {
    return option + ": expected " + expected + ", got \"" + got + "\"";
}

} // namespace

parsed_options parse_options(std::vector<std::string> const& args) {
    static constexpr std::string_view known[] = {"--rate",
                                                 "--body",
                                                 "--ttl",
                                                 "--encryption",
                                                 "--store",
                                                 "--replay-rate",
                                                 "--passthrough-rate",
                                                 "--primary-memory",
                                                 "--replica-cores"};
    std::map<std::string, std::string> opts;
    for (std::size_t i = 0; i < args.size(); i += 2) { // --name value pairs
        auto const& a = args[i];
        if (std::find(std::begin(known), std::end(known), a) == std::end(known))
            return "unknown option \"" + a + "\"";
        if (i + 1 >= args.size()) return a + " needs a value";
        if (!opts.emplace(a, args[i + 1]).second) return a + " given twice";
    }
    if (!opts.contains("--rate") || !opts.contains("--body"))
        return "--rate and --body are required";

    plan_input in;
    auto const rate_text = std::to_string(max_rate);
    if (auto v = parse_count(opts["--rate"], 1, max_rate)) {
        in.new_keys_per_s = *v;
    } else {
        return bad("--rate", "new keys per second, 1 to " + rate_text, opts["--rate"]);
    }
    auto const body = config::parse_byte_size(opts["--body"]);
    if (!body || body->bytes > max_body)
        return bad("--body", "a size such as 200, 2KiB or 4MiB, at most 512MiB", opts["--body"]);
    in.body_bytes = body->bytes;
    if (opts.contains("--ttl")) {
        auto const ttl = config::parse_duration(opts["--ttl"]);
        if (!ttl || *ttl < min_ttl || *ttl > max_ttl)
            return bad("--ttl", "a duration such as 24h, 1s to 30d", opts["--ttl"]);
        in.ttl = *ttl;
    }
    if (opts.contains("--encryption")) {
        auto const& e = opts["--encryption"];
        if (e != "on" && e != "off") return bad("--encryption", "on or off", e);
        in.encryption = e == "on";
    }
    if (opts.contains("--store")) {
        auto const& s = opts["--store"];
        if (s != "redis" && s != "memory") return bad("--store", "redis or memory", s);
        in.store = s == "redis" ? store_kind::redis : store_kind::memory;
    }
    for (auto const& [name, field] : {std::pair{"--replay-rate", &in.replays_per_s},
                                      std::pair{"--passthrough-rate", &in.passthrough_per_s}}) {
        if (!opts.contains(name)) continue;
        auto const v = parse_count(opts[name], 0, max_rate);
        if (!v) return bad(name, "requests per second, 0 to " + rate_text, opts[name]);
        *field = *v;
    }
    if (opts.contains("--primary-memory")) {
        auto const pm = config::parse_byte_size(opts["--primary-memory"]);
        if (!pm || pm->bytes < min_primary_memory || pm->bytes > max_primary_memory)
            return bad("--primary-memory", "a size such as 25GiB, 256MiB to 4TiB",
                       opts["--primary-memory"]);
        in.primary_memory = pm->bytes;
    }
    if (opts.contains("--replica-cores")) {
        auto const v = parse_count(opts["--replica-cores"], 1, max_replica_cores);
        if (!v) return bad("--replica-cores", "cores, 1 to 256", opts["--replica-cores"]);
        in.replica_cores = static_cast<unsigned>(*v);
    }
    return in;
}

int run_command(std::vector<std::string> const& args, std::ostream& out, std::ostream& err) {
    if (args.size() == 1 && (args[0] == "--help" || args[0] == "-h")) {
        out << usage;
        return 0;
    }
    auto const parsed = parse_options(args);
    if (auto const* why = std::get_if<std::string>(&parsed)) {
        err << "idemgate capacity: " << *why << '\n' << usage;
        return 2;
    }
    auto const& in = std::get<plan_input>(parsed);
    auto const& m = measured();
    out << format(in, compute(in, m), m);
    return 0;
}

} // namespace idemgate::capacity
