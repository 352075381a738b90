#include "support/prometheus_text.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <set>

namespace idemgate::test::prometheus_text {

namespace {

constexpr auto is_digit = [](char c) { return c >= '0' && c <= '9'; };
constexpr auto is_alpha = [](char c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; };
constexpr auto is_word = [](char c) { return is_alpha(c) || is_digit(c) || c == '_'; };

bool is_name(std::string_view s, bool colon_ok) {
    auto const head = [&](char c) { return is_alpha(c) || c == '_' || (colon_ok && c == ':'); };
    if (s.empty() || !head(s[0])) return false;
    return std::all_of(s.begin(), s.end(), [&](char c) { return head(c) || is_digit(c); });
}

bool known_type(std::string_view t) {
    return t == "counter" || t == "gauge" || t == "histogram" || t == "summary" || t == "untyped";
}

/// A float as Go's strconv.ParseFloat reads it in the text format ("+Inf", "NaN", 1e-3).
std::optional<double> parse_value(std::string_view s) {
    if (s == "+Inf" || s == "Inf") return HUGE_VAL;
    if (s == "-Inf") return -HUGE_VAL;
    if (s == "NaN") return std::nan("");
    if (!s.empty() && s[0] == '+') s.remove_prefix(1);
    double v = 0;
    auto const [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc{} || end != s.data() + s.size() || !std::isfinite(v))
        return std::nullopt;
    return v;
}

/// Name plus sorted labels: the identity of a series.
std::string series_key(std::string const& name, label_set labels) {
    std::sort(labels.begin(), labels.end());
    std::string key = name;
    for (auto const& [k, v] : labels) key += "\x1f" + k + "=" + v;
    return key;
}

/// Reads a label value from just after its opening quote to past its closing quote; nullopt
/// on a bad escape (only \\, \" and \n exist) or a missing closing quote.
std::optional<std::string> read_quoted(std::string_view s, std::size_t& pos) {
    std::string value;
    for (; pos < s.size() && s[pos] != '"'; ++pos) {
        char c = s[pos];
        if (c == '\\') {
            c = ++pos < s.size() ? s[pos] : '\0';
            if (c != '\\' && c != '"' && c != 'n') return std::nullopt;
            if (c == 'n') c = '\n';
        }
        value += c;
    }
    if (pos++ >= s.size()) return std::nullopt;
    return value;
}

/// Reads `{a="b",c="d"}` from `s` at `pos`; "" on success, else what is wrong.
std::string read_labels(std::string_view s, std::size_t& pos, label_set& out) {
    for (++pos;;) {
        if (pos < s.size() && s[pos] == '}') {
            ++pos;
            return "";
        }
        auto const start = pos;
        while (pos < s.size() && is_word(s[pos])) ++pos;
        auto const name = std::string(s.substr(start, pos - start));
        if (!is_name(name, false)) return "bad label name \"" + name + "\"";
        if (name.rfind("__", 0) == 0) return "reserved label name \"" + name + "\"";
        if (pos + 1 >= s.size() || s[pos] != '=' || s[pos + 1] != '"')
            return "label " + name + " not followed by =\"";
        pos += 2;
        auto value = read_quoted(s, pos);
        if (!value) return "bad escape or unterminated value of label " + name;
        for (auto const& [k, v] : out)
            if (k == name) return "label " + name + " given twice";
        out.emplace_back(name, std::move(*value));
        if (pos < s.size() && s[pos] == ',')
            ++pos;
        else if (pos >= s.size() || s[pos] != '}')
            return "expected , or } after label " + name;
    }
}

/// Parses one sample line; "" on success, else what is wrong.
std::string read_sample(std::string_view s, sample& out) {
    std::size_t pos = 0;
    while (pos < s.size() && (is_word(s[pos]) || s[pos] == ':')) ++pos;
    out.name = std::string(s.substr(0, pos));
    if (!is_name(out.name, true)) return "bad metric name \"" + out.name + "\"";
    if (pos < s.size() && s[pos] == '{') {
        if (auto err = read_labels(s, pos, out.labels); !err.empty()) return err;
    }
    if (pos >= s.size() || s[pos] != ' ') return "expected a space before the value";
    auto rest = s.substr(pos + 1);
    auto const space = rest.find(' ');
    auto const v = parse_value(rest.substr(0, space));
    if (!v) return "bad value \"" + std::string(rest.substr(0, space)) + "\"";
    out.value = *v;
    if (space == std::string_view::npos) return "";
    auto const ts = rest.substr(space + 1); // milliseconds since the epoch, may be negative
    auto const digits = ts.substr(!ts.empty() && ts[0] == '-' ? 1 : 0);
    bool const ok = !digits.empty() && std::all_of(digits.begin(), digits.end(), is_digit);
    return ok ? "" : "bad timestamp \"" + std::string(ts) + "\"";
}

/// Reads the text line by line, building families and collecting line-level problems.
class reader {
public:
    exposition out;

    void line(std::size_t n, std::string_view s) {
        line_ = n;
        if (s.empty()) return;
        if (s[0] == '#') return comment(s);
        sample smp;
        if (auto err = read_sample(s, smp); !err.empty()) return problem(err);
        auto& f = family_for(smp.name);
        if (!seen_.insert(series_key(smp.name, smp.labels)).second)
            problem("series " + smp.name + " given twice");
        f.samples.push_back(std::move(smp));
    }

    void problem(std::string const& what) {
        out.problems.push_back("line " + std::to_string(line_) + ": " + what);
    }

private:
    void comment(std::string_view s) {
        if (s.rfind("# HELP ", 0) != 0 && s.rfind("# TYPE ", 0) != 0) return; // plain comment
        bool const help = s[2] == 'H';
        auto const rest = std::string(s.substr(7));
        auto const space = std::min(rest.find(' '), rest.size());
        auto const name = rest.substr(0, space),
                   text = rest.substr(std::min(space + 1, rest.size()));
        if (!is_name(name, true)) return problem("bad metric name in HELP/TYPE: " + name);
        auto& f = current() && current()->name == name ? *current() : open(name);
        if (help) {
            if (f.has_help) problem("second HELP for " + name);
            f.has_help = true;
            f.help = text;
            return;
        }
        if (f.has_type) problem("second TYPE for " + name);
        if (!f.samples.empty()) problem("TYPE for " + name + " after its samples");
        if (!known_type(text)) problem("unknown type \"" + text + "\" for " + name);
        f.has_type = true;
        f.type = text;
    }

    /// The family a sample called `name` belongs to: the current one when the name is its
    /// name or one of its histogram/summary suffixes, else a new (untyped) family.
    family& family_for(std::string const& name) {
        if (auto* cur = current()) {
            auto const is = [&](char const* suffix) { return name == cur->name + suffix; };
            bool const hist = cur->type == "histogram" || cur->type == "summary";
            if (name == cur->name || (hist && (is("_sum") || is("_count"))) ||
                (cur->type == "histogram" && is("_bucket")))
                return *cur;
        }
        return open(name);
    }

    family& open(std::string const& name) {
        if (!opened_.insert(name).second) problem("lines of family " + name + " not grouped");
        out.families.push_back(family{name, "untyped", "", false, false, {}});
        return out.families.back();
    }

    /// The family being read: always the last one opened.
    family* current() { return out.families.empty() ? nullptr : &out.families.back(); }

    std::size_t line_ = 0;
    std::set<std::string> opened_;
    std::set<std::string> seen_;
};

/// One histogram series: its buckets in written order, _sum and _count.
struct histogram_series {
    std::vector<std::pair<double, double>> buckets; // (le, cumulative count)
    std::optional<double> sum;
    std::optional<double> count;
};

/// Groups a histogram family's samples by their labels without `le`.
std::map<std::string, histogram_series> group_histogram(family const& f,
                                                        std::vector<std::string>& problems) {
    auto const bad = [&](std::string const& what) {
        problems.push_back("family " + f.name + ": " + what);
    };
    std::map<std::string, histogram_series> series;
    for (auto const& s : f.samples) {
        label_set rest;
        std::optional<std::string> le;
        for (auto const& l : s.labels) {
            if (l.first == "le") le = l.second;
            if (l.first != "le") rest.push_back(l);
        }
        auto& h = series[series_key("", rest)];
        if (s.name == f.name + "_bucket") {
            auto const bound = le ? parse_value(*le) : std::nullopt;
            if (bound) h.buckets.emplace_back(*bound, s.value);
            if (!bound) bad("bucket without a valid le label");
        } else if (le) {
            bad(s.name + " has an le label");
        } else if (s.name == f.name + "_sum") {
            h.sum = s.value;
        } else if (s.name == f.name + "_count") {
            h.count = s.value;
        } else {
            bad("sample " + s.name + " is not _bucket, _sum or _count");
        }
    }
    return series;
}

void check_histogram(family const& f, std::vector<std::string>& problems) {
    auto const bad = [&](std::string const& what) {
        problems.push_back("family " + f.name + ": " + what);
    };
    for (auto const& [key, h] : group_histogram(f, problems)) {
        auto const where = key.empty() ? std::string("{}") : key.substr(1);
        if (h.buckets.empty()) bad(where + " has no buckets");
        for (std::size_t i = 1; i < h.buckets.size(); ++i) {
            if (!(h.buckets[i].first > h.buckets[i - 1].first)) bad(where + ": le not increasing");
            if (h.buckets[i].second < h.buckets[i - 1].second)
                bad(where + ": bucket counts decrease");
        }
        bool const inf = !h.buckets.empty() && std::isinf(h.buckets.back().first);
        if (!inf) bad(where + ": last bucket is not le=\"+Inf\"");
        if (!h.sum) bad(where + ": no _sum");
        if (!h.count) bad(where + ": no _count");
        if (inf && h.count && h.buckets.back().second != *h.count)
            bad(where + ": +Inf bucket differs from _count");
    }
}

void check_family(family const& f, std::vector<std::string>& problems) {
    auto const bad = [&](std::string const& what) {
        problems.push_back("family " + f.name + ": " + what);
    };
    if (!f.has_help) bad("no HELP line");
    if (!f.has_type) bad("no TYPE line");
    if (f.samples.empty()) bad("no samples");
    if (f.type == "counter") {
        if (f.name.size() < 6 || f.name.compare(f.name.size() - 6, 6, "_total") != 0)
            bad("counter name does not end in _total");
        for (auto const& s : f.samples)
            if (!(s.value >= 0)) bad("negative or NaN counter value");
    }
    if (f.type == "histogram") check_histogram(f, problems);
}

} // namespace

std::optional<std::string> sample::label(std::string_view wanted) const {
    for (auto const& [k, v] : labels)
        if (k == wanted) return v;
    return std::nullopt;
}

family const* exposition::find(std::string_view name) const {
    for (auto const& f : families)
        if (f.name == name) return &f;
    return nullptr;
}

std::optional<double> exposition::value(std::string_view name, label_set const& labels) const {
    auto const wanted = series_key(std::string(name), labels);
    for (auto const& f : families)
        for (auto const& s : f.samples)
            if (s.name == name && series_key(s.name, s.labels) == wanted) return s.value;
    return std::nullopt;
}

exposition parse(std::string_view text) {
    reader r;
    if (text.empty()) r.problem("empty exposition");
    for (std::size_t n = 1; !text.empty(); ++n) {
        auto const nl = text.find('\n');
        r.line(n, text.substr(0, nl));
        if (nl == std::string_view::npos) {
            r.problem("the text does not end with a newline");
            break;
        }
        text.remove_prefix(nl + 1);
    }
    for (auto const& f : r.out.families) check_family(f, r.out.problems);
    return std::move(r.out);
}

} // namespace idemgate::test::prometheus_text
