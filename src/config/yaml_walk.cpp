#include "yaml_walk.hpp"

#include <algorithm>
#include <charconv>
#include <limits>

namespace idemgate::config::detail {
namespace {

std::string join(std::string const& path, std::string_view key) {
    return path.empty() ? std::string(key) : path + "." + std::string(key);
}

std::string_view kind_of(YAML::Node const& node) {
    switch (node.Type()) {
    case YAML::NodeType::Map:
        return "a mapping";
    case YAML::NodeType::Sequence:
        return "a list";
    case YAML::NodeType::Scalar:
        return "a single value";
    default:
        return "nothing (null)";
    }
}

/// Digits only, no sign, fitting in T.
template <class T>
std::optional<T> parse_unsigned(std::string const& text) {
    T value{};
    auto const* const end = text.data() + text.size();
    if (text.empty() || text.front() < '0' || text.front() > '9') return std::nullopt;
    auto const [ptr, ec] = std::from_chars(text.data(), end, value);
    if (ec != std::errc{} || ptr != end) return std::nullopt;
    return value;
}

std::optional<bool> parse_bool(std::string const& text) {
    if (text == "true" || text == "True" || text == "TRUE") return true;
    if (text == "false" || text == "False" || text == "FALSE") return false;
    return std::nullopt;
}

/// Levenshtein distance, for "did you mean" on unknown keys.
std::size_t distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            std::size_t const up = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
            diagonal = up;
        }
    }
    return row[b.size()];
}

constexpr std::string_view expected_duration =
    "expected a duration with a unit (ms, s, m, h, d) such as 500ms, 60s or 24h";
constexpr std::string_view expected_size =
    "expected a size such as 100B, 512KiB, 4MiB, 1GiB, 10MB or a number of bytes";

} // namespace

walk_context::walk_context(std::string file, env_lookup env)
    : file_(std::move(file)), env_(std::move(env)) {}

origin walk_context::at(YAML::Mark const& mark) const {
    if (mark.is_null()) return {file_, 0, 0};
    return {file_, mark.line + 1, mark.column + 1};
}

void walk_context::report(origin const& where, std::string key_path, std::string message) {
    problems_.push_back(
        {where.file, where.line, where.column, std::move(key_path), std::move(message)});
}

void walk_context::remember(std::string const& key_path, origin const& where) {
    origins_[key_path] = where;
}

std::optional<origin> walk_context::origin_of(std::string const& key_path) const {
    auto const it = origins_.find(key_path);
    if (it == origins_.end()) return std::nullopt;
    return it->second;
}

std::optional<std::string> walk_context::lookup(std::string const& variable) const {
    return env_ ? env_(variable) : std::nullopt;
}

std::string quoted(std::string_view text) {
    constexpr std::size_t max_shown = 60;
    std::string out = "\"";
    for (char const c : text.substr(0, max_shown)) {
        out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
    }
    return out + (text.size() > max_shown ? "...\"" : "\"");
}

map_reader::map_reader(walk_context& ctx, YAML::Node const& node, std::string path, bool overrides)
    : ctx_(ctx), path_(std::move(path)), overrides_(overrides) {
    if (!node.IsDefined() || node.IsNull()) return;
    if (!node.IsMap()) {
        ctx_.report(ctx_.at(node.Mark()), path_,
                    std::string("expected a mapping of keys, got ") + std::string(kind_of(node)));
        return;
    }
    collect(node);
}

void map_reader::collect(YAML::Node const& node) {
    for (auto it = node.begin(); it != node.end(); ++it) {
        YAML::Node const key = it->first; // a copy: operator-> yields a temporary pair
        if (!key.IsScalar()) {
            ctx_.report(ctx_.at(key.Mark()), path_, "a key must be a plain name");
            continue;
        }
        auto const first = std::find_if(entries_.begin(), entries_.end(),
                                        [&](entry const& e) { return e.key == key.Scalar(); });
        if (first != entries_.end()) {
            auto const line = ctx_.at(first->key_node.Mark()).line;
            ctx_.report(ctx_.at(key.Mark()), join(path_, key.Scalar()),
                        "duplicate key (first set on line " + std::to_string(line) + ")");
            continue;
        }
        entries_.push_back({key.Scalar(), key, it->second, false});
    }
}

std::optional<map_reader::value> map_reader::take(std::string_view key) {
    known_.emplace_back(key);
    auto path = join(path_, key);
    auto const found = std::find_if(entries_.begin(), entries_.end(),
                                    [&](entry const& e) { return e.key == key; });
    if (found != entries_.end()) found->used = true;
    if (overrides_) {
        auto const variable = override_variable(path);
        if (auto text = ctx_.lookup(variable)) {
            origin const where{"environment " + variable, 0, 0};
            ctx_.remember(path, where);
            return value{std::move(path), where, {}, std::move(text)};
        }
    }
    if (found == entries_.end()) return std::nullopt;
    // A key without value ("ttl:") has its null's mark on the next token: point at the key.
    auto const mark = found->value.IsNull() ? found->key_node.Mark() : found->value.Mark();
    auto const where = ctx_.at(mark);
    ctx_.remember(path, where);
    return value{std::move(path), where, found->value, std::nullopt};
}

YAML::Node map_reader::take_section(std::string_view key) {
    known_.emplace_back(key);
    for (auto& e : entries_) {
        if (e.key != key) continue;
        e.used = true;
        return e.value;
    }
    return YAML::Node(YAML::NodeType::Undefined);
}

std::optional<std::string> map_reader::text_of(value const& v) {
    if (v.override_text) return *v.override_text;
    if (!v.node.IsScalar()) {
        auto message = "expected a single value, got " + std::string(kind_of(v.node));
        if (v.node.IsNull()) message += " (write \"\" for an empty string)";
        report(v, std::move(message));
        return std::nullopt;
    }
    auto expanded = expand_env(v.node.Scalar(), ctx_.env());
    if (!expanded.ok()) {
        report(v, std::move(expanded.error));
        return std::nullopt;
    }
    return std::move(expanded.value);
}

std::optional<std::vector<map_reader::item>> map_reader::items_of(value const& v) {
    std::vector<item> items;
    if (v.override_text) {
        for (auto& text : split_list(*v.override_text)) {
            items.push_back({v.path + "[" + std::to_string(items.size()) + "]", v.where, text});
        }
        return items;
    }
    if (!v.node.IsSequence()) {
        report(v, "expected a list such as [a, b], got " + std::string(kind_of(v.node)));
        return std::nullopt;
    }
    bool ok = true;
    for (auto const& element : v.node) {
        auto const path = v.path + "[" + std::to_string(items.size()) + "]";
        value const one{path, ctx_.at(element.Mark()), element, std::nullopt};
        ctx_.remember(path, one.where);
        auto text = text_of(one);
        ok = ok && text.has_value();
        items.push_back({path, one.where, text.value_or("")});
    }
    if (!ok) return std::nullopt;
    return items;
}

void map_reader::read(std::string_view key, std::string& out) {
    read_scalar(
        key, out, [](std::string const& t) { return std::optional(t); }, "");
}

void map_reader::read(std::string_view key, bool& out) {
    read_scalar(key, out, parse_bool, "expected true or false");
}

void map_reader::read(std::string_view key, std::uint32_t& out) {
    read_scalar(key, out, parse_unsigned<std::uint32_t>,
                "expected a whole number from 0 to 4294967295");
}

void map_reader::read(std::string_view key, std::uint64_t& out) {
    read_scalar(key, out, parse_unsigned<std::uint64_t>, "expected a non-negative whole number");
}

void map_reader::read(std::string_view key, duration& out) {
    read_scalar(key, out, parse_duration, expected_duration);
}

void map_reader::read(std::string_view key, byte_size& out) {
    read_scalar(key, out, parse_byte_size, expected_size);
}

void map_reader::read(std::string_view key, std::vector<std::string>& out) {
    auto const v = take(key);
    if (!v) return;
    auto items = items_of(*v);
    if (!items) return;
    out.clear();
    for (auto& i : *items) out.push_back(std::move(i.text));
}

void map_reader::read(std::string_view key, std::vector<unsigned>& out) {
    auto const v = take(key);
    if (!v) return;
    auto const items = items_of(*v);
    if (!items) return;
    std::vector<unsigned> numbers;
    for (auto const& i : *items) {
        auto const n = parse_unsigned<unsigned>(i.text);
        if (!n) ctx_.report(i.where, i.path, "expected a whole number, got " + quoted(i.text));
        numbers.push_back(n.value_or(0));
    }
    if (numbers.size() == items->size()) out = std::move(numbers);
}

void map_reader::read_secret(std::string_view key, std::string& out) {
    std::string inline_secret;
    read(key, inline_secret);
    auto const file_key = std::string(key) + "_file";
    std::string file;
    read(file_key, file);
    if (file.empty()) { // "" (e.g. an empty override variable) means "no file"
        if (!inline_secret.empty()) out = std::move(inline_secret);
        return;
    }
    auto const path = join(path_, file_key);
    auto const where = ctx_.origin_of(path).value_or(origin{ctx_.file()});
    if (!inline_secret.empty()) {
        ctx_.report(where, path,
                    "set either " + std::string(key) + " or " + file_key + ", not both");
        return;
    }
    auto secret = read_secret_file(file);
    if (!secret.ok()) {
        ctx_.report(where, path, std::move(secret.error));
        return;
    }
    out = std::move(secret.value);
}

bool map_reader::has(std::string_view key) const {
    return std::any_of(entries_.begin(), entries_.end(),
                       [&](entry const& e) { return e.key == key; });
}

void map_reader::refuse(std::string_view key, std::string const& message) {
    for (auto& e : entries_) {
        if (e.key != key) continue;
        e.used = true;
        ctx_.report(ctx_.at(e.key_node.Mark()), join(path_, key), message);
    }
}

void map_reader::finish() {
    for (auto const& e : entries_) {
        if (e.used) continue;
        std::string message = "unknown key";
        auto const best = std::min_element(known_.begin(), known_.end(),
                                           [&](std::string const& a, std::string const& b) {
                                               return distance(e.key, a) < distance(e.key, b);
                                           });
        if (best != known_.end() && distance(e.key, *best) <= 2) {
            message += " (did you mean \"" + *best + "\"?)";
        }
        ctx_.report(ctx_.at(e.key_node.Mark()), join(path_, e.key), message);
    }
}

} // namespace idemgate::config::detail
