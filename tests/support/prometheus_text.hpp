#pragma once
// A strict reader of the Prometheus text exposition format 0.0.4, for tests of /metrics: it
// parses every line and lists every rule the text breaks (syntax, HELP/TYPE, grouping,
// naming, histogram consistency) instead of stopping at the first, so a failing test shows
// all of them.
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace idemgate::test::prometheus_text {

/// Label pairs in the order they were written.
using label_set = std::vector<std::pair<std::string, std::string>>;

/// One sample line: `name{labels} value`.
struct sample {
    std::string name;
    label_set labels;
    double value = 0;

    /// Value of label `name`, or nullopt when the sample has no such label.
    std::optional<std::string> label(std::string_view name) const;
};

/// A metric family: its HELP and TYPE lines and the samples that follow them.
struct family {
    std::string name;
    std::string type; // counter, gauge, histogram, summary or untyped
    std::string help;
    bool has_help = false;
    bool has_type = false;
    std::vector<sample> samples;
};

/// The parsed text and every problem found; `problems.empty()` means valid.
struct exposition {
    std::vector<family> families;
    std::vector<std::string> problems; // "line N: ..." or "family X: ..."

    /// The family called `name`, or nullptr.
    family const* find(std::string_view name) const;
    /// Value of the series `name` with exactly `labels` (in any order); nullopt if absent.
    std::optional<double> value(std::string_view name, label_set const& labels = {}) const;
};

/// Parses `text` and checks it against the 0.0.4 rules plus the naming conventions of the
/// project (docs/operations.md): every family has HELP and TYPE, counters end in `_total`,
/// histograms have ordered `le` buckets ending in `+Inf` equal to `_count`, and a `_sum`.
exposition parse(std::string_view text);

} // namespace idemgate::test::prometheus_text
