// proxy::read_response over a loopback pair, each response split in two writes at every
// byte: interim 1xx read past, trailers dropped wherever the reads cut them, the connection
// reusable exactly when the response ends at the last byte read, and the bounds (101, an
// endless chunk line) failing the read. Lives here rather than in unit/proxy (pure tests)
// because it needs sockets.
#include "idemgate/proxy/response_reader.hpp"
#include "support/socket_pair.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>

namespace idemgate {
namespace {

using namespace std::chrono_literals;

/// A connected loopback pair: the upstream writes, the gateway side reads.
struct reader_sockets {
    explicit reader_sockets(net::io_context& ioc) : pair(ioc) {}
    test::socket_pair pair;
    tcp::socket& upstream = pair.b;
    tcp::socket& gateway = pair.a;
};

task<void> read_into(tcp::socket& s, beast::flat_buffer& buf, bool head,
                     std::optional<proxy::read_result>& out) {
    out = co_await proxy::read_response(s, buf, head, 1024 * 1024);
}

/// What one read gave, and how many bytes it left in the connection's buffer.
struct split_read {
    proxy::read_result r;
    std::size_t left = 0;
};

/// Reads `wire` sent in two writes cut at `cut`; the reader has taken in the first part
/// (nothing left in the socket) before the second is written.
split_read read_cut(std::string const& wire, std::size_t cut, bool head = false) {
    net::io_context ioc;
    reader_sockets p(ioc);
    beast::flat_buffer buf{proxy::max_response_head};
    std::optional<proxy::read_result> out;
    net::co_spawn(ioc, read_into(p.gateway, buf, head, out), net::detached);
    net::write(p.upstream, net::buffer(wire.data(), cut));
    auto const end = std::chrono::steady_clock::now() + 5s;
    while (!out && p.gateway.available() != 0 && std::chrono::steady_clock::now() < end)
        ioc.run_one_for(1ms);
    if (!out) net::write(p.upstream, net::buffer(wire.data() + cut, wire.size() - cut));
    while (!out && std::chrono::steady_clock::now() < end) ioc.run_one_for(10ms);
    EXPECT_TRUE(out.has_value()) << "no result within 5 s";
    if (!out) return {};
    return {std::move(*out), buf.size()};
}

std::string const chunked_with_trailers =
    "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n"
    "4\r\nabcd\r\n3;ext=1\r\nefg\r\n0;last=\"x\"\r\n"
    "Set-Cookie: a=b\r\nContent-Length: 99\r\nTransfer-Encoding: gzip\r\n\r\n";

TEST(response_reader, trailers_are_dropped_wherever_the_reads_cut_them) {
    for (std::size_t cut = 0; cut <= chunked_with_trailers.size(); ++cut) {
        SCOPED_TRACE(cut);
        auto const got = read_cut(chunked_with_trailers, cut);
        ASSERT_FALSE(got.r.ec) << got.r.ec.message();
        EXPECT_EQ(got.r.res.result_int(), 201U);
        EXPECT_EQ(got.r.res.body(), "abcdefg");
        EXPECT_EQ(got.r.res.count(http::field::set_cookie), 0U);
        EXPECT_EQ(got.r.res.count(http::field::content_length), 0U);
        EXPECT_TRUE(got.r.reusable);
        EXPECT_EQ(got.left, 0U);
    }
}

TEST(response_reader, interim_responses_are_read_past_wherever_the_reads_cut_them) {
    std::string const wire = "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
                             "HTTP/1.1 100 Continue\r\n\r\n"
                             "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    for (std::size_t cut = 0; cut <= wire.size(); ++cut) {
        SCOPED_TRACE(cut);
        auto const got = read_cut(wire, cut);
        ASSERT_FALSE(got.r.ec) << got.r.ec.message();
        EXPECT_EQ(got.r.res.result_int(), 200U);
        EXPECT_EQ(got.r.res.body(), "ok");
        EXPECT_EQ(got.r.res.count(http::field::link), 0U);
        EXPECT_TRUE(got.r.reusable);
    }
}

TEST(response_reader, bytes_after_the_response_make_it_not_reusable) {
    for (char const* extra : {"H", "HTTP/1.1 200 OK\r\n\r\n", "\r\n"}) {
        SCOPED_TRACE(extra);
        auto const cl =
            read_cut(std::string("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok") + extra, 0);
        EXPECT_FALSE(cl.r.ec);
        EXPECT_EQ(cl.r.res.body(), "ok");
        EXPECT_FALSE(cl.r.reusable);
        auto const chunked = read_cut(chunked_with_trailers + extra, 0);
        EXPECT_FALSE(chunked.r.ec);
        EXPECT_EQ(chunked.r.res.body(), "abcdefg");
        EXPECT_FALSE(chunked.r.reusable);
    }
    auto const head = read_cut("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 0, true);
    EXPECT_FALSE(head.r.ec);
    EXPECT_FALSE(head.r.reusable);
    auto const no_content = read_cut("HTTP/1.1 204 No Content\r\nContent-Length: 2\r\n\r\n", 0);
    EXPECT_FALSE(no_content.r.ec);
    EXPECT_FALSE(no_content.r.reusable) << "its announced bytes may still come";
    auto const close =
        read_cut("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok", 0);
    EXPECT_FALSE(close.r.reusable);
}

TEST(response_reader, a_101_and_an_endless_chunk_line_fail_the_read) {
    auto const upgrade = read_cut("HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n", 0);
    EXPECT_TRUE(upgrade.r.ec);
    EXPECT_FALSE(upgrade.r.reusable);
    std::string const long_line = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=" +
                                  std::string(proxy::max_response_head + 10, 'x');
    auto const line = read_cut(long_line, 0);
    EXPECT_EQ(line.r.ec, http::error::buffer_overflow) << line.r.ec.message();
    EXPECT_FALSE(line.r.reusable);
}

TEST(response_reader, a_field_too_long_for_beasts_fields_fails_the_read_without_throwing) {
    // basic_fields throws std::length_error at 65534 bytes; the head limit comes first.
    for (std::size_t const size : {65534U, 65530U}) {
        SCOPED_TRACE(size);
        auto const got =
            read_cut("HTTP/1.1 200 OK\r\nX: " + std::string(size, 'v') + "\r\n\r\n", 0);
        EXPECT_TRUE(got.r.ec);
        EXPECT_FALSE(got.r.reusable);
    }
}

} // namespace
} // namespace idemgate
