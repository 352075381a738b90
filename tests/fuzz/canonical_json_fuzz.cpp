// Canonical JSON (engine/canonical_json.hpp), which the canonical_json fingerprint hashes.
// Input: any bytes, taken as a request body.
//
// Invariants, besides no crash and no sanitizer report:
// - the canonical form is idempotent: c(c(x)) == c(x);
// - equal documents give equal forms: the same document written by nlohmann (compact, and
//   indented with its keys in another order of whitespace) has the same form;
// - a form is never given for a text that is not JSON (the fingerprint then hashes bytes).
#include "fuzz_check.hpp"

#include "idemgate/engine/canonical_json.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
    using idemgate::engine::canonical_json;
    using json = nlohmann::json;
    std::string_view const text(reinterpret_cast<char const*>(data), size);
    auto const c = canonical_json(text);
    bool const valid =
        json::accept(text.begin(), text.end()) && text.find('\0') == std::string_view::npos;
    if (!c) return 0;
    FUZZ_CHECK(valid);
    auto const again = canonical_json(*c);
    FUZZ_CHECK(again.has_value() && *again == *c);
    auto const doc = json::parse(text.begin(), text.end());
    for (int const indent : {-1, 1}) {
        auto const other = canonical_json(doc.dump(indent));
        FUZZ_CHECK(other.has_value() && *other == *c);
    }
    return 0;
}
