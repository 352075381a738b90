#pragma once
// A SyncReadStream over a fuzz input, so that Beast's own read algorithms (the ones the
// gateway runs on its sockets, here synchronous) parse it without a socket.
#include "idemgate/net.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/system/system_error.hpp>

#include <algorithm>
#include <cstddef>
#include <string_view>

namespace idemgate::fuzz {

/// Hands out at most `step` bytes per read, as a socket hands out what has arrived (so the
/// parser meets every split), then end of stream. Writes (a `100 Continue`) go nowhere.
class byte_stream {
public:
    byte_stream(std::string_view in, std::size_t step)
        : in_(in), step_(std::max<std::size_t>(step, 1)) {}

    bool empty() const noexcept { return in_.empty(); }

    template <class MutableBufferSequence>
    std::size_t read_some(MutableBufferSequence const& buffers, error_code& ec) {
        ec = {};
        if (in_.empty()) {
            ec = net::error::eof;
            return 0;
        }
        auto const n =
            net::buffer_copy(buffers, net::buffer(in_.data(), std::min(in_.size(), step_)));
        in_.remove_prefix(n);
        return n;
    }

    template <class MutableBufferSequence>
    std::size_t read_some(MutableBufferSequence const& buffers) {
        error_code ec;
        auto const n = read_some(buffers, ec);
        if (ec) throw boost::system::system_error(ec);
        return n;
    }

private:
    std::string_view in_;
    std::size_t step_;
};

} // namespace idemgate::fuzz
