// The connection's setup exchange after connect (and TLS): AUTH, SELECT and the one-time
// check of the server's persistence settings, pipelined in one write.
#include "idemgate/redis/connection.hpp"
#include "idemgate/redis/server_checks.hpp"

#include "idemgate/log/log.hpp"

namespace idemgate::redis {

task<error_code> connection::handshake() {
    auto const& u = cfg_->url;
    std::vector<command> cmds;
    if (!u.password.empty()) {
        cmds.push_back(u.user.empty() ? command{"AUTH", u.password}
                                      : command{"AUTH", u.user, u.password});
    }
    std::string const db = std::to_string(u.db);
    if (u.db != 0) cmds.push_back(command{"SELECT", db});
    std::size_t const setup = cmds.size();
    bool const check = cfg_->config_check_pending->exchange(false);
    if (check) {
        cmds.push_back(command{"CONFIG", "GET", "maxmemory-policy"});
        cmds.push_back(command{"CONFIG", "GET", "appendonly"});
    }
    if (cmds.empty()) co_return error_code{};
    std::string bytes;
    for (auto const& c : cmds) bytes.append(c.bytes());
    auto [wec, n] = co_await write_all(bytes);
    result<std::vector<reply>> replies = wec;
    // A parser of its own: the pipeline's starts with the first command's reply.
    reply_parser parser;
    if (!wec) replies = co_await read_replies(parser, cmds.size());
    if (!replies) {
        if (check) cfg_->config_check_pending->store(true); // let the next connection check
        co_return replies.error();
    }
    for (std::size_t i = 0; i < setup; ++i) {
        auto const& r = (*replies)[i];
        if (!r.is_error()) continue;
        if (!warned_) {
            log::warn("redis handshake refused",
                      {{"endpoint", endpoint_of(u)},
                       {"command", i == 0 && !u.password.empty() ? "AUTH" : "SELECT"},
                       {"error", r.str}});
        }
        warned_ = true; // one warning per outage
        co_return make_error_code(boost::system::errc::permission_denied);
    }
    if (check) {
        auto const policy = config_value((*replies)[setup]);
        auto const aof = config_value((*replies)[setup + 1]);
        if (!policy || !aof) log::info("redis CONFIG GET refused; settings not checked");
        for (auto const& w : config_warnings(policy, aof)) log::warn(w);
    }
    co_return error_code{};
}

task<result<std::vector<reply>>> connection::read_replies(reply_parser& parser, std::size_t n) {
    std::vector<reply> out;
    while (out.size() < n) {
        if (auto r = parser.next()) {
            out.push_back(std::move(*r));
            continue;
        }
        if (parser.failed()) co_return make_error_code(boost::system::errc::protocol_error);
        auto [ec, got] = co_await read_some();
        if (ec) co_return ec;
        parser.feed(std::string_view(read_buf_.data(), got));
    }
    co_return out;
}

} // namespace idemgate::redis
