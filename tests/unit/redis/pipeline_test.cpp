// The pipeline without a server or a socket: bytes in, bytes out, time passed in.
#include "idemgate/redis/pipeline.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

// A named namespace: unit tests are compiled as one unity source.
namespace idemgate::redis::pipeline_tests {
namespace {

using namespace std::chrono_literals;
using time_point = pipeline::time_point;

time_point const t0{std::chrono::hours(1000)};

/// Records what the pipeline told it.
class recorder final : public pipeline::waiter {
public:
    void settle(pipeline::outcome r) noexcept override {
        got_.emplace(std::move(r));
        ++settled_;
    }

    int settled() const { return settled_; }
    bool timed_out() const {
        return got_ && !*got_ && got_->error() == boost::system::errc::timed_out;
    }
    /// The reply's string (or integer, as text); "" when none.
    std::string reply_text() const {
        if (!got_ || !*got_) return "";
        auto const& r = **got_;
        return r.type == reply_type::integer ? std::to_string(r.integer) : r.str;
    }
    pipeline::outcome const& got() const { return *got_; }

private:
    std::optional<pipeline::outcome> got_;
    int settled_ = 0;
};

std::string wire(std::initializer_list<std::string_view> args) {
    return std::string(command(args).bytes());
}

TEST(redis_pipeline, one_write_carries_every_queued_command_in_order) {
    pipeline p;
    recorder a, b, c;
    p.push(command{"SET", "k", "v"}, t0, t0 + 1s, a);
    p.push(command{"GET", "k"}, t0, t0 + 1s, b);
    p.push(command{"PING"}, t0, t0 + 1s, c);
    EXPECT_EQ(p.queued(), 3U);
    EXPECT_EQ(p.next_write(t0), wire({"SET", "k", "v"}) + wire({"GET", "k"}) + wire({"PING"}));
    EXPECT_EQ(p.queued(), 0U);
    EXPECT_EQ(p.written(), 3U);
    EXPECT_TRUE(p.next_write(t0).empty());
    EXPECT_EQ(a.settled() + b.settled() + c.settled(), 0);
}

TEST(redis_pipeline, replies_go_to_the_written_commands_first_in_first_out) {
    pipeline p;
    recorder a, b, c;
    p.push(command{"INCR", "n"}, t0, t0 + 1s, a);
    p.push(command{"INCR", "n"}, t0, t0 + 1s, b);
    (void)p.next_write(t0);
    p.push(command{"INCR", "n"}, t0, t0 + 1s, c); // a later write
    (void)p.next_write(t0 + 1ms);
    ASSERT_TRUE(p.consume(":1\r\n:2\r\n:3\r\n"));
    EXPECT_EQ(a.reply_text(), "1");
    EXPECT_EQ(b.reply_text(), "2");
    EXPECT_EQ(c.reply_text(), "3");
    EXPECT_EQ(p.written(), 0U);
}

TEST(redis_pipeline, a_reply_split_anywhere_is_delivered_once_complete) {
    pipeline p;
    recorder a, b;
    p.push(command{"GET", "k"}, t0, t0 + 1s, a);
    p.push(command{"HGETALL", "h"}, t0, t0 + 1s, b);
    (void)p.next_write(t0);
    std::string const bytes = "$5\r\nhello\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n";
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        ASSERT_TRUE(p.consume(std::string_view(bytes).substr(i, 1)));
        EXPECT_EQ(a.settled(), i >= 10 ? 1 : 0) << "after byte " << i;
        EXPECT_EQ(b.settled(), i + 1 == bytes.size() ? 1 : 0) << "after byte " << i;
    }
    EXPECT_EQ(a.reply_text(), "hello");
    ASSERT_TRUE(b.got());
    ASSERT_EQ(b.got()->elements.size(), 2U);
    EXPECT_EQ(b.got()->elements[1].str, "v");
}

TEST(redis_pipeline, an_error_reply_is_a_value_and_the_next_reply_still_matches) {
    pipeline p;
    recorder a, b;
    p.push(command{"EVALSHA", "nope", "0"}, t0, t0 + 1s, a);
    p.push(command{"PING"}, t0, t0 + 1s, b);
    (void)p.next_write(t0);
    ASSERT_TRUE(p.consume("-NOSCRIPT No matching script\r\n+PONG\r\n"));
    ASSERT_TRUE(a.got());
    EXPECT_TRUE(a.got()->is_error());
    EXPECT_EQ(a.got()->str, "NOSCRIPT No matching script");
    EXPECT_EQ(b.reply_text(), "PONG");
}

TEST(redis_pipeline, a_written_command_past_its_deadline_is_told_so_and_its_late_reply_dropped) {
    pipeline p;
    recorder slow, next;
    p.push(command{"DEBUG", "SLEEP", "1"}, t0, t0 + 100ms, slow);
    (void)p.next_write(t0);
    p.push(command{"ECHO", "mine"}, t0 + 50ms, t0 + 2s, next);
    (void)p.next_write(t0 + 50ms);

    auto const e = p.expire(t0 + 100ms);
    EXPECT_EQ(e.abandoned, 1U);
    EXPECT_FALSE(e.peer_silent);
    EXPECT_TRUE(slow.timed_out());
    EXPECT_EQ(next.settled(), 0);
    EXPECT_EQ(p.written(), 2U) << "the abandoned command keeps its place for its reply";

    ASSERT_TRUE(p.consume("+OK\r\n$4\r\nmine\r\n"));
    EXPECT_EQ(slow.settled(), 1) << "the late reply went nowhere";
    EXPECT_TRUE(slow.timed_out());
    EXPECT_EQ(next.reply_text(), "mine");
    EXPECT_EQ(p.expire(t0 + 10s).abandoned, 0U);
}

TEST(redis_pipeline, a_queued_command_past_its_deadline_is_never_written) {
    pipeline p;
    recorder early, late, kept;
    p.push(command{"SET", "a", "1"}, t0, t0 + 10ms, early);
    p.push(command{"SET", "b", "2"}, t0, t0 + 30ms, late);
    p.push(command{"SET", "c", "3"}, t0, t0 + 1s, kept);
    EXPECT_EQ(p.expire(t0 + 10ms).abandoned, 1U); // a deadline is due at its time point
    EXPECT_TRUE(early.timed_out());
    // Overdue when the writer comes, before any expiry saw it: dropped too.
    EXPECT_EQ(p.next_write(t0 + 40ms), wire({"SET", "c", "3"}));
    EXPECT_TRUE(late.timed_out());
    EXPECT_EQ(kept.settled(), 0);
    ASSERT_TRUE(p.consume("+OK\r\n"));
    EXPECT_EQ(kept.reply_text(), "OK");
}

TEST(redis_pipeline, a_reply_no_command_asked_for_puts_the_stream_out_of_sync) {
    pipeline p;
    recorder a;
    p.push(command{"PING"}, t0, t0 + 1s, a);
    (void)p.next_write(t0);
    EXPECT_FALSE(p.consume("+PONG\r\n+EXTRA\r\n"));
    EXPECT_EQ(a.reply_text(), "PONG");
    EXPECT_EQ(p.error(), "a reply no command asked for");
}

TEST(redis_pipeline, bytes_that_are_not_resp_fail_the_stream) {
    pipeline p;
    recorder a;
    p.push(command{"PING"}, t0, t0 + 1s, a);
    (void)p.next_write(t0);
    EXPECT_FALSE(p.consume("HTTP/1.1 400 Bad Request\r\n"));
    EXPECT_FALSE(p.error().empty());
    EXPECT_EQ(a.settled(), 0) << "the connection fails it when it drops the stream";
}

TEST(redis_pipeline, fail_all_settles_written_and_queued_commands_once) {
    pipeline p;
    recorder written, abandoned, queued;
    p.push(command{"SET", "a", "1"}, t0, t0 + 1s, written);
    p.push(command{"SET", "b", "1"}, t0, t0 + 10ms, abandoned);
    (void)p.next_write(t0);
    (void)p.expire(t0 + 10ms);
    p.push(command{"SET", "c", "1"}, t0 + 20ms, t0 + 1s, queued);
    auto const lost = make_error_code(boost::system::errc::connection_reset);
    p.fail_all(lost);
    ASSERT_TRUE(written.got().has_error());
    EXPECT_EQ(written.got().error(), lost);
    ASSERT_TRUE(queued.got().has_error());
    EXPECT_EQ(queued.got().error(), lost);
    EXPECT_EQ(abandoned.settled(), 1);
    EXPECT_TRUE(abandoned.timed_out());
    EXPECT_EQ(p.written() + p.queued(), 0U);
    EXPECT_EQ(p.next_deadline(), time_point::max());
}

TEST(redis_pipeline, the_peer_is_silent_when_a_timeout_finds_the_oldest_command_waiting_twice_it) {
    pipeline p;
    recorder first, second;
    p.push(command{"SET", "a", "1"}, t0, t0 + 100ms, first);
    (void)p.next_write(t0);
    auto const e1 = p.expire(t0 + 100ms);
    EXPECT_EQ(e1.abandoned, 1U);
    EXPECT_FALSE(e1.peer_silent) << "one timeout waited, not two";

    p.push(command{"SET", "b", "1"}, t0 + 150ms, t0 + 250ms, second);
    (void)p.next_write(t0 + 150ms);
    EXPECT_FALSE(p.expire(t0 + 199ms).peer_silent) << "nothing timed out at this call";
    auto const e2 = p.expire(t0 + 250ms);
    EXPECT_EQ(e2.abandoned, 1U);
    EXPECT_TRUE(e2.peer_silent) << "the oldest unanswered command has waited 250 ms";
}

TEST(redis_pipeline, a_slow_reply_alone_does_not_make_the_peer_silent) {
    pipeline p;
    recorder slow, patient;
    p.push(command{"DEBUG", "SLEEP", "1"}, t0, t0 + 100ms, slow);
    (void)p.next_write(t0);
    EXPECT_FALSE(p.expire(t0 + 100ms).peer_silent);
    // A caller with a longer timeout behind it: the silence is judged against that timeout.
    p.push(command{"PING"}, t0 + 100ms, t0 + 3s, patient);
    (void)p.next_write(t0 + 100ms);
    auto const later = p.expire(t0 + 900ms);
    EXPECT_EQ(later.abandoned, 0U);
    EXPECT_FALSE(later.peer_silent);
    ASSERT_TRUE(p.consume("+OK\r\n+PONG\r\n"));
    EXPECT_EQ(patient.reply_text(), "PONG");
}

TEST(redis_pipeline, an_answered_oldest_command_does_not_count_toward_silence) {
    pipeline p;
    recorder answered, timed;
    p.push(command{"PING"}, t0, t0 + 100ms, answered);
    (void)p.next_write(t0);
    ASSERT_TRUE(p.consume("+PONG\r\n"));
    p.push(command{"PING"}, t0 + 500ms, t0 + 600ms, timed);
    (void)p.next_write(t0 + 500ms);
    auto const e = p.expire(t0 + 600ms);
    EXPECT_EQ(e.abandoned, 1U);
    EXPECT_FALSE(e.peer_silent) << "the oldest unanswered command has waited 100 ms";
}

TEST(redis_pipeline, a_withdrawn_command_is_not_written_or_not_answered) {
    pipeline p;
    recorder gone_written, gone_queued, kept;
    p.push(command{"GET", "a"}, t0, t0 + 1s, gone_written);
    p.push(command{"GET", "b"}, t0, t0 + 1s, kept);
    (void)p.next_write(t0);
    p.push(command{"GET", "c"}, t0, t0 + 1s, gone_queued);
    p.withdraw(gone_written);
    p.withdraw(gone_queued);
    EXPECT_TRUE(p.next_write(t0 + 1ms).empty());
    ASSERT_TRUE(p.consume("$1\r\nA\r\n$1\r\nB\r\n"));
    EXPECT_EQ(gone_written.settled() + gone_queued.settled(), 0);
    EXPECT_EQ(kept.reply_text(), "B");
}

TEST(redis_pipeline, the_next_deadline_is_the_earliest_one_still_waited_for) {
    pipeline p;
    EXPECT_EQ(p.next_deadline(), time_point::max());
    recorder a, b, c;
    p.push(command{"PING"}, t0, t0 + 300ms, a);
    p.push(command{"PING"}, t0, t0 + 100ms, b);
    (void)p.next_write(t0);
    p.push(command{"PING"}, t0, t0 + 200ms, c);
    EXPECT_EQ(p.next_deadline(), t0 + 100ms);
    (void)p.expire(t0 + 100ms);
    EXPECT_EQ(p.next_deadline(), t0 + 200ms) << "abandoned commands have no deadline left";
    ASSERT_TRUE(p.consume("+PONG\r\n"));
    EXPECT_EQ(p.next_deadline(), t0 + 200ms);
}

TEST(redis_pipeline, a_new_stream_forgets_partial_bytes_and_keeps_the_queue) {
    pipeline p;
    recorder lost, waiting;
    p.push(command{"GET", "a"}, t0, t0 + 1s, lost);
    (void)p.next_write(t0);
    ASSERT_TRUE(p.consume("$10\r\nhal")); // the socket dropped mid-reply
    p.push(command{"GET", "b"}, t0, t0 + 1s, waiting);
    p.reset_stream();
    ASSERT_TRUE(lost.got().has_error());
    EXPECT_EQ(lost.got().error(), boost::system::errc::connection_aborted);
    EXPECT_EQ(p.next_write(t0 + 1ms), wire({"GET", "b"}));
    ASSERT_TRUE(p.consume("$1\r\nB\r\n"));
    EXPECT_EQ(waiting.reply_text(), "B");
}

} // namespace
} // namespace idemgate::redis::pipeline_tests
