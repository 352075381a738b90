#pragma once
// RESP2 codec on hiredis 0.14 (codec only: Asio owns the sockets). hiredis objects live in
// unique_ptrs; callers see our own `reply` value type, never a redisReply.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

struct redisReader;
struct redisReply;

namespace idemgate::redis {

enum class reply_type { nil, integer, simple_string, bulk_string, error, array };

/// One decoded reply, owning its data (deep copy of hiredis's redisReply).
struct reply {
    reply_type type = reply_type::nil;
    std::int64_t integer = 0;
    std::string str;             // simple_string, bulk_string, error
    std::vector<reply> elements; // array

    bool is_error() const noexcept { return type == reply_type::error; }
    /// simple_string or bulk_string.
    bool is_string() const noexcept {
        return type == reply_type::simple_string || type == reply_type::bulk_string;
    }
    friend bool operator==(reply const&, reply const&) = default;
};

/// Deep copy of a hiredis reply (any nesting).
reply to_reply(redisReply const& r);

struct reader_deleter {
    void operator()(redisReader* r) const noexcept;
};
using reader_ptr = std::unique_ptr<redisReader, reader_deleter>;

struct command_deleter {
    void operator()(char* c) const noexcept;
};

/// A command in RESP wire form, as formatted by redisFormatCommandArgv.
class command {
public:
    command() = default;
    /// Formats `args` (binary-safe). Empty (`!valid()`) when hiredis runs out of memory.
    explicit command(std::span<std::string_view const> args);
    command(std::initializer_list<std::string_view> args)
        : command(std::span<std::string_view const>(args.begin(), args.size())) {}

    bool valid() const noexcept { return data_ != nullptr; }
    /// The bytes to write; empty when not valid.
    std::string_view bytes() const noexcept { return {data_.get(), size_}; }

private:
    std::unique_ptr<char, command_deleter> data_;
    std::size_t size_ = 0;
};

/// Elements an array reply may announce; the replies to our commands have a handful. A
/// larger count fails the parser at once, before memory is taken for it.
inline constexpr std::size_t max_reply_elements = 1 << 20;

/// Incremental parser: feed any split of the byte stream, take complete replies in order.
/// Not thread-safe; one per connection.
class reply_parser {
public:
    reply_parser();

    /// Appends bytes. False when the parser failed (protocol error or out of memory).
    bool feed(std::string_view bytes);
    /// The next complete reply; nullopt when more bytes are needed or on failure (then
    /// failed() is true and the connection must be dropped: the stream is out of sync).
    std::optional<reply> next();
    bool failed() const noexcept { return failed_; }
    /// hiredis's description of the failure.
    std::string error() const;
    /// Forgets buffered bytes and any failure (for a new connection).
    void reset();

private:
    reader_ptr reader_;
    bool failed_ = false;
};

} // namespace idemgate::redis
