// The config loader (config/parse.hpp): YAML, `${VAR}` expansion and IDEMGATE_* overrides.
// Input: the text of a config file; the environment is a fixed map.
//
// Invariants, besides no crash, no exception and no sanitizer report:
// - a config accepted is valid (validate() finds nothing);
// - its effective form (to_yaml, secrets redacted) is accepted too, and is a fixed point:
//   loading it gives the same form again;
// - expand_env on the text never throws, and leaves a text without `$` as it is.
#include "fuzz_check.hpp"

#include "idemgate/config/env.hpp"
#include "idemgate/config/parse.hpp"

#include <cstdint>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace {

/// What `${VAR}` and the override variables read; fixed, so that a crash reproduces.
std::optional<std::string> fake_env(std::string const& name) {
    static std::map<std::string, std::string> const vars{
        {"HOST", "127.0.0.1"},
        {"PORT", "8080"},
        {"EMPTY", ""},
        {"UPSTREAM", "http://127.0.0.1:9000/base"},
        {"IDEMGATE_IDEMPOTENCY_METHODS", "POST, PATCH, PUT"},
        {"IDEMGATE_LIMITS_MAX_HEADERS", "50"},
    };
    auto const it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
    using namespace idemgate::config;
    std::string_view const text(reinterpret_cast<char const*>(data), size);
    env_lookup const env = fake_env;
    auto const expanded = expand_env(text, env);
    if (text.find('$') == std::string_view::npos)
        FUZZ_CHECK(expanded.ok() && expanded.value == text);
    auto const first = parse_yaml(text, "fuzz.yaml", env);
    if (!first.ok()) return 0;
    FUZZ_CHECK(validate(first.cfg).empty());
    auto const form = to_yaml(first.cfg);
    auto const second = parse_yaml(form, "effective.yaml", env);
    if (!second.ok()) {
        for (auto const& p : second.problems) std::fprintf(stderr, "%s\n", p.to_string().c_str());
        std::fprintf(stderr, "effective form:\n%s\n", form.c_str());
    }
    FUZZ_CHECK(second.ok());
    FUZZ_CHECK(to_yaml(second.cfg) == form);
    return 0;
}
