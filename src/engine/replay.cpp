#include "idemgate/engine/replay.hpp"

#include "idemgate/proxy/forward.hpp"

#include <iterator>
#include <string>

namespace idemgate::engine {

store::header_list fields_of(response const& res) {
    store::header_list out;
    out.reserve(static_cast<std::size_t>(std::distance(res.begin(), res.end())));
    for (auto const& f : res)
        out.emplace_back(std::string(f.name_string()), std::string(f.value()));
    return out;
}

response replay_response(store::stored_response const& stored, std::string_view replay_header,
                         unsigned version, bool keep_alive, bool head_request) {
    response res{static_cast<http::status>(stored.status), version};
    for (auto const& [name, value] : stored.headers) res.insert(name, value);
    res.set(replay_header, "true");
    if (stored.body_omitted) {
        // The original body exceeded max_stored_body (docs/behaviour.md): never re-execute.
        res.set("Idempotency-Replay-Body-Omitted", "true");
        res.erase(http::field::content_length);
    } else {
        res.body() = stored.body;
    }
    proxy::prepare_client_response(res, version, keep_alive, head_request);
    return res;
}

} // namespace idemgate::engine
