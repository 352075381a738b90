#include "idemgate/proxy/forward.hpp"

#include "idemgate/http/hop_by_hop.hpp"

#include <boost/range/iterator_range.hpp>

#include <string>
#include <vector>

namespace idemgate::proxy {

namespace {

/// Every Connection field's value joined by commas (a list may be split over fields).
std::string connection_value(http::fields const& fields) {
    std::string connection;
    for (auto const& f : boost::make_iterator_range(fields.equal_range(http::field::connection))) {
        if (!connection.empty()) connection += ',';
        connection.append(f.value());
    }
    return connection;
}

/// A response to HEAD, 1xx, 204 and 304 has no body whatever its Content-Length says.
bool bodyless(unsigned status, bool head_request) {
    return head_request || status / 100 == 1 || status == 204 || status == 304;
}

/// Frames a response body: Content-Length from the body, except where there is no body.
void frame(response& res, bool head_request) {
    auto const status = res.result_int();
    if (status / 100 == 1 || status == 204) {
        // RFC 9110 §8.6: never a Content-Length in a 1xx or 204 (a 304's or a HEAD answer's
        // describes the representation); a client trusting one would take the bytes of its
        // next response as this one's body.
        res.erase(http::field::content_length);
        res.body().clear();
        return;
    }
    if (bodyless(status, head_request)) {
        res.body().clear(); // Content-Length, if any, stays as the upstream sent it
        return;
    }
    res.content_length(res.body().size());
}

} // namespace

void drop_connection_fields(http::fields& fields) {
    using http_server::is_hop_by_hop;
    using http_server::named_by_connection;
    std::string const connection = connection_value(fields);
    for (auto it = fields.begin(); it != fields.end();) {
        auto const name = it->name_string();
        if (is_hop_by_hop(name) || (!connection.empty() && named_by_connection(name, connection)))
            it = fields.erase(it);
        else
            ++it;
    }
}

void prepare_upstream_request(request& req, std::string_view peer_address,
                              std::string_view base_path) {
    drop_connection_fields(req);
    if (!base_path.empty()) {
        std::string target(base_path);
        target.append(req.target());
        req.target(target);
    }
    req.erase(http::field::expect);
    auto xff = req.find("X-Forwarded-For");
    if (xff == req.end()) {
        req.set("X-Forwarded-For", peer_address);
    } else {
        std::string joined(xff->value());
        joined.append(", ").append(peer_address);
        req.set("X-Forwarded-For", joined);
    }
    // Keep a value set by a load balancer in front of us (it terminated TLS).
    if (req.find("X-Forwarded-Proto") == req.end()) req.set("X-Forwarded-Proto", "http");
    req.version(11);
    req.keep_alive(true);
    if (!req.body().empty() || req.method() == http::verb::post ||
        req.method() == http::verb::patch || req.method() == http::verb::put)
        req.content_length(req.body().size());
    else
        req.erase(http::field::content_length);
}

void prepare_client_response(response& res, unsigned version, bool keep_alive, bool head_request) {
    res.version(version);
    res.keep_alive(keep_alive);
    frame(res, head_request);
}

} // namespace idemgate::proxy
