#include "idemgate/http/request_rules.hpp"

#include "idemgate/http/hop_by_hop.hpp"
#include "idemgate/http/target.hpp"

#include <boost/beast/core/string.hpp>

#include <algorithm>
#include <iterator>

namespace idemgate::http_server {

namespace {

std::string_view trim_ows(std::string_view s) noexcept {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

std::size_t count_of(request const& req, std::string_view name) {
    auto const [first, last] = req.equal_range(name);
    return static_cast<std::size_t>(std::distance(first, last));
}

/// RFC 9112 §6.1: the only coding a proxy that re-frames the body may accept is exactly
/// `chunked`; `gzip, chunked` would be forwarded decoded-looking but still gzip.
errc check_framing(request const& req, bool chunked) {
    if (req.find(http::field::transfer_encoding) == req.end()) return errc::ok;
    if (req.version() < 11) return errc::bad_framing; // RFC 9112 §6.1: 1.0 has no chunking
    std::size_t fields = 0;
    for (auto const& f : req) {
        if (f.name() != http::field::transfer_encoding) continue;
        if (++fields > 1 || !boost::beast::iequals(trim_ows(f.value()), "chunked"))
            return errc::coding_unsupported;
    }
    return chunked ? errc::ok : errc::coding_unsupported;
}

/// Host exactly once on HTTP/1.1 (RFC 9112 §3.2), at most once on 1.0; the identity fields
/// at most once; none of them named by Connection.
errc check_singletons(request const& req, head_rules const& rules) {
    auto const hosts = count_of(req, "Host");
    if (hosts > 1 || (hosts == 0 && req.version() >= 11)) return errc::bad_header;
    for (auto const& name : rules.singletons)
        if (count_of(req, name) > 1) return errc::bad_header;
    for (auto const& f : req) {
        if (f.name() != http::field::connection) continue;
        for (auto const& name : rules.protected_fields)
            if (named_by_connection(name, f.value())) return errc::bad_header;
    }
    return errc::ok;
}

errc apply_underscores(request& req, config::underscores_mode mode) {
    if (mode == config::underscores_mode::allow) return errc::ok;
    for (auto it = req.begin(); it != req.end();) {
        if (it->name_string().find('_') == std::string_view::npos) {
            ++it;
        } else if (mode == config::underscores_mode::reject) {
            return errc::bad_header;
        } else {
            it = req.erase(it);
        }
    }
    return errc::ok;
}

} // namespace

head_rules make_head_rules(config::config const& cfg) {
    head_rules r;
    r.max_headers = cfg.limits.max_headers;
    r.underscores = cfg.limits.headers_with_underscores;
    auto const& i = cfg.idempotency;
    r.singletons = {"Authorization", i.account_header};
    if (i.credential.starts_with("header:")) r.singletons.push_back(i.credential.substr(7));
    r.protected_fields = r.singletons;
    r.protected_fields.push_back(i.key_header);
    r.protected_fields.emplace_back("Host");
    return r;
}

errc check_head(request& req, bool chunked, head_rules const& rules) {
    if (static_cast<std::size_t>(std::distance(req.begin(), req.end())) > rules.max_headers)
        return errc::header_too_large;
    // A reverse proxy tunnels nothing: CONNECT is answered here (RFC 9110 §9.3.6).
    if (req.method() == http::verb::connect) return errc::method_not_allowed;
    if (auto e = check_framing(req, chunked); e != errc::ok) return e;
    // Before the singleton checks, so that `Idempotency_Key` is gone or refused first.
    if (auto e = apply_underscores(req, rules.underscores); e != errc::ok) return e;
    if (auto e = check_singletons(req, rules); e != errc::ok) return e;
    auto const host = req.find(http::field::host);
    std::string normal;
    switch (check_target(req.target(), host == req.end() ? "" : host->value(), normal)) {
    case target_check::keep:
        return errc::ok;
    case target_check::rewritten:
        req.target(normal);
        return errc::ok;
    case target_check::refused:
        break;
    }
    return errc::bad_target;
}

head_fields fields_of_head(request const& req) {
    head_fields out;
    for (auto const& f : req) out.push_back(&f);
    std::sort(out.begin(), out.end());
    return out;
}

void drop_trailers(request& req, head_fields const& head) {
    if (static_cast<std::size_t>(std::distance(req.begin(), req.end())) == head.size()) return;
    for (auto it = req.begin(); it != req.end();) {
        if (std::binary_search(head.begin(), head.end(), static_cast<void const*>(&*it)))
            ++it;
        else
            it = req.erase(it);
    }
}

} // namespace idemgate::http_server
