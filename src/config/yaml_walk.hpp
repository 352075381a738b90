#pragma once
// Internal: a strict reader of yaml-cpp mappings. yaml-cpp accepts duplicate keys and any key
// at all, so each mapping's pairs are walked here: duplicates and keys nobody asked for are
// problems, every value is type-checked, override variables and ${VAR} are applied.
#include "enum_names.hpp"
#include "idemgate/config/parse.hpp"

#include <yaml-cpp/yaml.h>

#include <map>
#include <string>
#include <vector>

namespace idemgate::config::detail {

/// Where a value was written: a file position, or an override variable (line 0).
struct origin {
    std::string file;
    int line = 0;
    int column = 0;
};

/// State of one parse: the problems so far and where each key path was set.
class walk_context {
public:
    walk_context(std::string file, env_lookup env);

    origin at(YAML::Mark const& mark) const;
    void report(origin const& where, std::string key_path, std::string message);
    void remember(std::string const& key_path, origin const& where);
    /// Where a key path was set; nullopt when it kept its default.
    std::optional<origin> origin_of(std::string const& key_path) const;
    std::optional<std::string> lookup(std::string const& variable) const;
    env_lookup const& env() const noexcept { return env_; }
    std::string const& file() const noexcept { return file_; }
    std::vector<problem>& problems() noexcept { return problems_; }
    std::size_t problem_count() const noexcept { return problems_.size(); }

private:
    std::string file_;
    env_lookup env_;
    std::vector<problem> problems_;
    std::map<std::string, origin> origins_;
};

/// Reads the keys of one mapping into typed fields; call finish() after the last read.
/// A key absent from the mapping (and from the environment) leaves its field untouched.
class map_reader {
public:
    /// `node` may be undefined or null (an absent or empty section): all keys absent then.
    /// `overrides`: whether IDEMGATE_<KEY_PATH> variables replace the keys read (not in list
    /// items, whose paths hold an index).
    map_reader(walk_context& ctx, YAML::Node const& node, std::string path, bool overrides = true);

    void read(std::string_view key, std::string& out);
    void read(std::string_view key, bool& out);
    void read(std::string_view key, std::uint32_t& out);
    void read(std::string_view key, std::uint64_t& out);
    void read(std::string_view key, duration& out);
    void read(std::string_view key, byte_size& out);
    void read(std::string_view key, std::vector<std::string>& out);
    void read(std::string_view key, std::vector<unsigned>& out);
    /// `key` as a string, or the content of the file named by `<key>_file`.
    void read_secret(std::string_view key, std::string& out);

    template <class E, std::size_t N>
    void read(std::string_view key, E& out, name_table<E, N> const& names);

    /// A nested mapping, read by `fn(map_reader&, T&)`.
    template <class T, class Fn>
    void section(std::string_view key, T& out, Fn fn);

    /// A list of mappings (absent or null: empty), each read into a new T by
    /// `fn(map_reader&, T&)` under the path `key[i]`, without override variables.
    template <class T, class Fn>
    void list(std::string_view key, std::vector<T>& out, Fn fn);

    /// Whether the mapping itself sets `key` (override variables aside).
    bool has(std::string_view key) const;
    /// Problems found so far in the whole parse (a read that failed adds one).
    std::size_t problem_count() const noexcept { return ctx_.problem_count(); }

    /// `key`, when the mapping sets it, is a problem with `message` (a key that exists
    /// elsewhere but not here); it is then not reported as unknown.
    void refuse(std::string_view key, std::string const& message);

    /// Reports every key that no read asked for.
    void finish();

private:
    struct entry {
        std::string key;
        YAML::Node key_node;
        YAML::Node value;
        bool used = false;
    };
    /// One value about to be converted: from the mapping or from an override variable.
    struct value {
        std::string path;
        origin where;
        YAML::Node node;
        std::optional<std::string> override_text;
    };
    struct item {
        std::string path;
        origin where;
        std::string text;
    };

    void collect(YAML::Node const& node);
    std::optional<value> take(std::string_view key);
    YAML::Node take_section(std::string_view key);
    std::string child_path(std::string_view key) const {
        return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
    }
    std::optional<std::string> text_of(value const& v);
    std::optional<std::vector<item>> items_of(value const& v);
    template <class T, class Parse>
    void read_scalar(std::string_view key, T& out, Parse parse, std::string_view expected);
    void report(value const& v, std::string message) { ctx_.report(v.where, v.path, message); }

    walk_context& ctx_;
    std::string path_;
    std::vector<entry> entries_;
    std::vector<std::string> known_;
    bool overrides_ = true;
};

/// `text` quoted for a message, shortened, control characters replaced.
std::string quoted(std::string_view text);

template <class E, std::size_t N>
void map_reader::read(std::string_view key, E& out, name_table<E, N> const& names) {
    std::string expected = "expected one of";
    for (auto const& [name, e] : names) expected += std::string(" ") + std::string(name);
    read_scalar(
        key, out,
        [&names](std::string const& text) -> std::optional<E> {
            for (auto const& [name, e] : names) {
                if (name == text) return e;
            }
            return std::nullopt;
        },
        expected);
}

template <class T, class Fn>
void map_reader::section(std::string_view key, T& out, Fn fn) {
    map_reader child(ctx_, take_section(key), child_path(key), overrides_);
    fn(child, out);
    child.finish();
}

template <class T, class Fn>
void map_reader::list(std::string_view key, std::vector<T>& out, Fn fn) {
    auto const node = take_section(key);
    auto const path = child_path(key);
    if (!node.IsDefined() || node.IsNull()) return;
    ctx_.remember(path, ctx_.at(node.Mark()));
    if (!node.IsSequence()) {
        ctx_.report(ctx_.at(node.Mark()), path, "expected a list of mappings (- key: value)");
        return;
    }
    out.clear();
    std::size_t index = 0;
    for (auto const& element : node) {
        auto const item_path = path + "[" + std::to_string(index++) + "]";
        ctx_.remember(item_path, ctx_.at(element.Mark()));
        map_reader child(ctx_, element, item_path, false); // reports an item not a mapping
        if (!element.IsMap() && !element.IsNull()) continue;
        fn(child, out.emplace_back());
        child.finish();
    }
}

template <class T, class Parse>
void map_reader::read_scalar(std::string_view key, T& out, Parse parse, std::string_view expected) {
    auto const v = take(key);
    if (!v) return;
    auto const text = text_of(*v);
    if (!text) return;
    if (auto parsed = parse(*text)) {
        out = *parsed;
    } else {
        report(*v, std::string(expected) + ", got " + quoted(*text));
    }
}

} // namespace idemgate::config::detail
