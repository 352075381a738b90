#pragma once
// `idemgate records lookup|evict ...`: the records API against the configured store, for
// when the admin listener is not reachable (issue 13).
#include "idemgate/config/config.hpp"

#include <string>
#include <vector>

namespace idemgate::cli {

/// Exit codes of `idemgate records`.
enum records_exit : int { found = 0, not_found = 1, usage_error = 2, store_unavailable = 3 };

/// `args`: everything after `records` (the operation first). `load` reads the config file
/// (printing its problems); nullopt on problems. Prints the API's JSON on stdout.
int run_records_command(std::vector<std::string> const& args,
                        std::optional<config::config> (*load)(std::string const&));

} // namespace idemgate::cli
