#pragma once
// Between a live response and its record: the fields to store, and the replayed answer.
#include "idemgate/http/types.hpp"
#include "idemgate/store/record.hpp"

#include <string_view>

namespace idemgate::engine {

/// Every field of a response, in order (the pool has already dropped the hop-by-hop ones).
store::header_list fields_of(response const& res);

/// A client response rebuilt from a stored record: stored status, headers and body byte for
/// byte, plus `replay_header: true`, framed for the request it answers.
response replay_response(store::stored_response const& stored, std::string_view replay_header,
                         unsigned version, bool keep_alive, bool head_request);

} // namespace idemgate::engine
