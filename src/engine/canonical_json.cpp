#include "idemgate/engine/canonical_json.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstddef>
#include <string>
#include <unordered_set>
#include <vector>

namespace idemgate::engine {

namespace {

using json = nlohmann::json;

/// Deeper documents are hashed as bytes: nlohmann's dump() recurses once per level.
constexpr std::size_t max_depth = 256;

/// DBL_DIG: two different decimals of at most 15 significant digits never parse to the same
/// double, so they never share a canonical form.
constexpr std::size_t max_float_digits = 15;

/// Significant digits of a JSON number text: mantissa without sign, point and the leading and
/// trailing zeros ("-0.012300e5" has 3).
std::size_t significant_digits(std::string const& text) {
    std::string digits;
    for (char const c : text) {
        if (c == 'e' || c == 'E') break;
        if (c >= '0' && c <= '9') digits.push_back(c);
    }
    std::size_t const first = digits.find_first_not_of('0');
    if (first == std::string::npos) return 0;
    std::size_t const last = digits.find_last_not_of('0');
    return last - first + 1;
}

/// First pass over the text. It accepts only documents whose canonical form is faithful:
/// canonicalising may make equal bodies match, but must never make two different bodies match.
/// Rejected (hashed as bytes instead): duplicate object keys (the DOM would keep one of them),
/// numbers a double cannot hold exactly enough (more than 15 digits, overflow to infinity which
/// dump() writes as null, underflow), and nesting deeper than max_depth.
class faithful_check {
public:
    bool null() { return true; }
    bool boolean(bool /*unused*/) { return true; }
    bool number_integer(json::number_integer_t /*unused*/) { return true; }
    bool number_unsigned(json::number_unsigned_t /*unused*/) { return true; }
    bool number_float(json::number_float_t value, json::string_t const& text) {
        std::size_t const digits = significant_digits(text);
        if (digits == 0) return value == 0.0;
        if (!std::isnormal(value)) return false;
        if (digits <= max_float_digits) return true;
        // dump() writes some doubles with 16 or 17 digits (Grisu2 is not always the shortest:
        // 1.04700472 comes out as 1.0470047200000001), so a form would not be its own form.
        // That spelling, and no other, stands for its double as a shorter one does: still no
        // two different texts of more than 15 digits share a form.
        return json(value).dump() == text;
    }
    bool string(json::string_t& /*unused*/) { return true; }
    bool binary(json::binary_t& /*unused*/) { return false; }
    bool start_object(std::size_t /*unused*/) {
        keys_.emplace_back();
        return keys_.size() + arrays_ <= max_depth;
    }
    bool key(json::string_t& k) { return keys_.back().insert(k).second; }
    bool end_object() {
        keys_.pop_back();
        return true;
    }
    bool start_array(std::size_t /*unused*/) {
        ++arrays_;
        return keys_.size() + arrays_ <= max_depth;
    }
    bool end_array() {
        --arrays_;
        return true;
    }
    bool parse_error(std::size_t /*unused*/, std::string const& /*unused*/,
                     nlohmann::detail::exception const& /*unused*/) {
        return false;
    }

private:
    std::vector<std::unordered_set<std::string>> keys_; // one set per open object
    std::size_t arrays_ = 0;
};

} // namespace

std::optional<std::string> canonical_json(std::string_view text) {
    // nlohmann's lexer takes a NUL byte for the end of input, so `{}\0junk` would parse as
    // `{}`. JSON never holds a raw NUL (RFC 8259 §7: control characters are escaped).
    if (text.find('\0') != std::string_view::npos) return std::nullopt;
    faithful_check check;
    // strict = true: anything after the first value (other than whitespace) fails.
    if (!json::sax_parse(text.begin(), text.end(), &check, json::input_format_t::json, true)) {
        return std::nullopt;
    }
    json const doc = json::parse(text.begin(), text.end(), nullptr, false);
    if (doc.is_discarded()) return std::nullopt;
    // nlohmann's object is a std::map: keys come out sorted (by bytes), compact separators.
    return doc.dump(-1, ' ', false, json::error_handler_t::replace);
}

} // namespace idemgate::engine
