#pragma once
// The bookkeeping of one pipelined Redis connection, without I/O: commands wait in a queue,
// leave it together in one write, and take the replies that come back in their order;
// commands whose caller's deadline passed are abandoned. The connection owns the socket and
// the clock, and calls in with the bytes read and the time; the pipeline tells each caller
// its outcome through the waiter that caller registered.
#include "idemgate/redis/resp.hpp"

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <cstddef>
#include <deque>
#include <string>
#include <string_view>

namespace idemgate::redis {

/// Not thread-safe: one per connection, used on its thread.
class pipeline {
public:
    using clock = std::chrono::steady_clock;
    using time_point = clock::time_point;
    using outcome = boost::system::result<reply>;

    /// Whoever waits for a command. The pipeline settles it once (the reply, an error reply
    /// being a value, or a failure) and forgets it at that moment, so a waiter may be gone
    /// once settled; one going before that must be withdrawn first. settle() must not call
    /// back into the pipeline (wake the caller later instead).
    class waiter {
    public:
        virtual void settle(outcome r) noexcept = 0;

    protected:
        waiter() = default;
        waiter(waiter const&) = default;
        waiter& operator=(waiter const&) = default;
        ~waiter() = default;
    };

    /// What expire() did.
    struct expiry {
        std::size_t abandoned = 0; // callers told timed_out (queued ones dropped unwritten)
        /// A written command timed out while the oldest unanswered one has waited twice as long
        /// as that command's caller did: the peer is gone without a reset (host lost, packets
        /// dropped) and TCP would keep the socket for its whole retransmission timeout.
        bool peer_silent = false;
    };

    /// Queues `cmd` for the next write. `now` is when the caller started waiting; the caller's
    /// timeout (deadline - now) is what the silent-peer rule measures against.
    void push(command cmd, time_point now, time_point deadline, waiter& w);

    /// Takes every queued command whose deadline is after `now` into one write, in order, and
    /// marks them written at `now` (the overdue ones are abandoned unwritten). The bytes stay
    /// valid until the next call; empty when nothing is left to write. Commands count as written
    /// from here on, so no reply can arrive ahead of its command's entry.
    std::string_view next_write(time_point now);

    /// Feeds bytes read from the socket and gives each complete reply to the oldest written
    /// command (dropped when that command was abandoned). False when the stream is out of sync
    /// (a protocol error, or a reply no command asked for): the connection must be dropped.
    bool consume(std::string_view bytes);
    /// Why consume() failed.
    std::string error() const;

    /// Abandons every command whose deadline is at or before `now`, telling its caller
    /// errc::timed_out: a queued one is never written, a written one keeps its place so that
    /// its late reply is consumed and dropped.
    expiry expire(time_point now);

    /// Settles every command, written or queued, with `ec` (a written command may have run: it
    /// fails and is never resent). The parser is left as it is: see reset_stream().
    void fail_all(boost::system::error_code ec);

    /// Abandons the command `w` waits for, without settling it: a queued one is dropped, a
    /// written one has its reply dropped. For a waiter that gives up on its own.
    void withdraw(waiter const& w) noexcept;

    /// Forgets the bytes of the previous stream: call before the first read of a new socket.
    /// Queued commands stay queued; written ones (none, after fail_all()) will not be answered
    /// on the new stream, so they fail with errc::connection_aborted.
    void reset_stream();

    /// The earliest deadline of a command still waited for; time_point::max() when none.
    time_point next_deadline() const noexcept;

    bool has_queued() const noexcept { return !queued_.empty(); }
    std::size_t queued() const noexcept { return queued_.size(); }
    /// Written and not answered yet, abandoned ones included.
    std::size_t written() const noexcept { return written_.size(); }

private:
    struct entry {
        command cmd;         // emptied once written
        waiter* w = nullptr; // null once abandoned
        time_point deadline; // time_point::max() once abandoned
        clock::duration timeout{};
        time_point written_at{};
    };

    std::deque<entry> queued_;
    std::deque<entry> written_;
    std::string write_buf_;
    reply_parser parser_;
    bool unexpected_reply_ = false;
};

} // namespace idemgate::redis
