#include "idemgate/redis/resp.hpp"

#include <hiredis/hiredis.h>
#include <hiredis/read.h>

#include <climits>
#include <new>

namespace idemgate::redis {

namespace {

struct reply_deleter {
    void operator()(void* r) const noexcept { freeReplyObject(r); }
};

reply_type type_of(int t) noexcept {
    switch (t) {
    case REDIS_REPLY_STRING:
        return reply_type::bulk_string;
    case REDIS_REPLY_ARRAY:
        return reply_type::array;
    case REDIS_REPLY_INTEGER:
        return reply_type::integer;
    case REDIS_REPLY_STATUS:
        return reply_type::simple_string;
    case REDIS_REPLY_ERROR:
        return reply_type::error;
    default:
        return reply_type::nil;
    }
}

/// hiredis's default reply builders (redisReader::fn of a reader made without a table).
redisReplyObjectFunctions const* hiredis_builders = nullptr;

/// hiredis 0.14 allocates an array's element pointers from its count, before any element
/// has arrived, and has no bound of its own (maxelements came in 1.0). A refused array is
/// an out-of-memory error for hiredis: the parser fails and the connection is dropped.
void* create_bounded_array(redisReadTask const* task, int elements) {
    if (elements < 0 || static_cast<std::size_t>(elements) > max_reply_elements) return nullptr;
    return hiredis_builders->createArray(task, elements);
}

/// hiredis's builders with arrays bounded (max_reply_elements). Thread-safe.
redisReplyObjectFunctions* bounded_builders() {
    static redisReplyObjectFunctions table = [] {
        reader_ptr const probe(redisReaderCreate());
        if (!probe) throw std::bad_alloc();
        hiredis_builders = probe->fn; // hiredis's static table, outlives the probe
        auto t = *probe->fn;
        t.createArray = create_bounded_array;
        return t;
    }();
    return &table;
}

} // namespace

reply to_reply(redisReply const& r) {
    reply out;
    out.type = type_of(r.type);
    switch (out.type) {
    case reply_type::integer:
        out.integer = r.integer;
        break;
    case reply_type::simple_string:
    case reply_type::bulk_string:
    case reply_type::error:
        out.str.assign(r.str, r.len);
        break;
    case reply_type::array:
        out.elements.reserve(r.elements);
        for (std::size_t i = 0; i < r.elements; ++i)
            out.elements.push_back(to_reply(*r.element[i]));
        break;
    case reply_type::nil:
        break;
    }
    return out;
}

void reader_deleter::operator()(redisReader* r) const noexcept {
    redisReaderFree(r);
}

void command_deleter::operator()(char* c) const noexcept {
    redisFreeCommand(c);
}

command::command(std::span<std::string_view const> args) {
    if (args.empty() || args.size() > static_cast<std::size_t>(INT_MAX)) return;
    std::vector<char const*> argv;
    std::vector<std::size_t> argvlen;
    argv.reserve(args.size());
    argvlen.reserve(args.size());
    for (auto const a : args) {
        argv.push_back(a.data());
        argvlen.push_back(a.size());
    }
    char* out = nullptr;
    int const n =
        redisFormatCommandArgv(&out, static_cast<int>(args.size()), argv.data(), argvlen.data());
    if (n < 0 || out == nullptr) return;
    data_.reset(out);
    size_ = static_cast<std::size_t>(n);
}

reply_parser::reply_parser() : reader_(redisReaderCreateWithFunctions(bounded_builders())) {
    if (!reader_) throw std::bad_alloc();
}

bool reply_parser::feed(std::string_view bytes) {
    if (failed_) return false;
    if (redisReaderFeed(reader_.get(), bytes.data(), bytes.size()) != REDIS_OK) failed_ = true;
    return !failed_;
}

std::optional<reply> reply_parser::next() {
    if (failed_) return std::nullopt;
    void* raw = nullptr;
    if (redisReaderGetReply(reader_.get(), &raw) != REDIS_OK) {
        failed_ = true;
        return std::nullopt;
    }
    if (raw == nullptr) return std::nullopt;
    std::unique_ptr<void, reply_deleter> const owned(raw);
    return to_reply(*static_cast<redisReply const*>(raw));
}

std::string reply_parser::error() const {
    if (!failed_) return {};
    return reader_->errstr[0] != '\0' ? std::string(reader_->errstr) : std::string("failed");
}

void reply_parser::reset() {
    reader_ptr fresh(redisReaderCreateWithFunctions(bounded_builders()));
    if (!fresh) throw std::bad_alloc();
    reader_ = std::move(fresh);
    failed_ = false;
}

} // namespace idemgate::redis
