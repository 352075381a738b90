#pragma once
// The checks on a parsed request head that Beast does not make (contract §7, RFC 9110 and
// RFC 9112): framing, singleton fields, the target's normal form, header names with '_'.
// No I/O: the session calls it between reading the head and reading the body.
#include "idemgate/config/config.hpp"
#include "idemgate/error.hpp"
#include "idemgate/http/types.hpp"

#include <string>
#include <vector>

namespace idemgate::http_server {

/// What the checks need from the config; built once per gateway.
struct head_rules {
    std::uint32_t max_headers = 100;
    config::underscores_mode underscores = config::underscores_mode::drop;
    /// Fields that identify the caller or the operation: Authorization, the account header,
    /// the credential header. Each may appear at most once (the scope reads one value).
    std::vector<std::string> singletons;
    /// Fields a Connection header may not name: dropping them on the way upstream would make
    /// the upstream see another identity than the scope was computed from.
    std::vector<std::string> protected_fields;
};

head_rules make_head_rules(config::config const& cfg);

/// Checks `req`'s head and rewrites what has one normal form: the target (http/target.hpp)
/// and, with `underscores: drop`, the fields whose names contain '_'. `chunked` is the
/// parser's view of the framing. Returns errc::ok, or the error to answer before closing.
errc check_head(request& req, bool chunked, head_rules const& rules);

/// The fields of a parsed head, by address (Beast's fields are stable nodes), so that the
/// trailers a chunked body adds later can be told apart: Beast merges them into the header,
/// next to a field of the same name rather than at the end.
using head_fields = std::vector<void const*>;
head_fields fields_of_head(request const& req);

/// Removes every field that is not one of `head`: trailers are never merged into the head
/// (contract §7). Costs nothing when no trailer came.
void drop_trailers(request& req, head_fields const& head);

} // namespace idemgate::http_server
