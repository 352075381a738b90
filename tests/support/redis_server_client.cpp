// The blocking test client of redis_server: plain POSIX sockets, every wait bounded.
#include "support/redis_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <sstream>
#include <stdexcept>

namespace idemgate::test {

namespace {

using clock_type = std::chrono::steady_clock;
using namespace std::chrono_literals;

/// Closes the fd when it goes out of scope.
struct fd_guard {
    int fd;
    ~fd_guard() {
        if (fd >= 0) ::close(fd);
    }
};

sockaddr_in loopback(std::uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

int connect_to(std::uint16_t port) {
    int const fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    auto a = loopback(port);
    if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        if (fd >= 0) ::close(fd);
        throw std::runtime_error("redis_server: connect failed");
    }
    return fd;
}

void send_all(int fd, std::string_view bytes) {
    while (!bytes.empty()) {
        auto const n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (n <= 0) throw std::runtime_error("redis_server: send failed");
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
}

/// Sends `cmds` pipelined and reads one reply each, all within 2 s.
std::vector<redis::reply> round_trip(std::uint16_t port,
                                     std::vector<std::vector<std::string>> const& cmds) {
    fd_guard const s{connect_to(port)};
    std::string out;
    for (auto const& args : cmds) {
        std::vector<std::string_view> views(args.begin(), args.end());
        out.append(redis::command(views).bytes());
    }
    send_all(s.fd, out);
    auto const deadline = clock_type::now() + 2s;
    redis::reply_parser parser;
    std::vector<redis::reply> replies;
    char buf[16384];
    while (replies.size() < cmds.size()) {
        if (auto r = parser.next()) {
            replies.push_back(std::move(*r));
            continue;
        }
        auto const left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now());
        pollfd p{s.fd, POLLIN, 0};
        if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
            throw std::runtime_error("redis_server: no reply within 2 s");
        }
        auto const n = ::recv(s.fd, buf, sizeof buf, 0);
        if (n <= 0 || !parser.feed(std::string_view(buf, static_cast<std::size_t>(n)))) {
            throw std::runtime_error("redis_server: connection closed or bad reply");
        }
    }
    return replies;
}

} // namespace

std::uint16_t redis_server::free_port() {
    fd_guard s{::socket(AF_INET, SOCK_STREAM, 0)};
    auto a = loopback(0);
    socklen_t len = sizeof a;
    if (s.fd < 0 || ::bind(s.fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::getsockname(s.fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
        throw std::runtime_error("redis_server: no free port");
    }
    return ntohs(a.sin_port);
}

void redis_server::use_auth(std::string user, std::string password) {
    user_ = std::move(user);
    password_ = std::move(password);
}

bool redis_server::answers() const {
    try {
        if (tls_) { // listening is all we can check without a TLS client here
            fd_guard const s{connect_to(port_)};
            return true;
        }
        round_trip(port_, {{"PING"}}); // with requirepass the -NOAUTH error is an answer too
        return true;
    } catch (std::runtime_error const&) {
        return false;
    }
}

redis::reply redis_server::command(std::vector<std::string> const& args, std::uint32_t db) const {
    std::vector<std::vector<std::string>> cmds;
    if (!password_.empty()) {
        cmds.push_back(user_.empty() ? std::vector<std::string>{"AUTH", password_}
                                     : std::vector<std::string>{"AUTH", user_, password_});
    }
    if (db != 0) cmds.push_back({"SELECT", std::to_string(db)});
    cmds.push_back(args);
    auto replies = round_trip(port_, cmds);
    for (std::size_t i = 0; i + 1 < replies.size(); ++i) {
        if (replies[i].is_error()) throw std::runtime_error("redis_server: " + replies[i].str);
    }
    return std::move(replies.back());
}

std::vector<redis::reply>
redis_server::pipeline(std::vector<std::vector<std::string>> const& cmds) const {
    if (!password_.empty() || tls_)
        throw std::runtime_error("redis_server: pipeline needs no AUTH");
    return round_trip(port_, cmds);
}

std::string redis_server::info_field(std::string const& section, std::string const& field) const {
    auto const text = command({"INFO", section}).str;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.starts_with(field + ":")) return line.substr(field.size() + 1);
    }
    return {};
}

namespace {

/// name → calls, from the lines `cmdstat_<name>:calls=<n>,usec=...`.
std::vector<std::pair<std::string, std::uint64_t>> commandstats(redis_server const& server) {
    std::vector<std::pair<std::string, std::uint64_t>> out;
    std::istringstream in(server.command({"INFO", "commandstats"}).str);
    for (std::string line; std::getline(in, line);) {
        constexpr std::string_view prefix = "cmdstat_";
        auto const colon = line.find(":calls=");
        if (!line.starts_with(prefix) || colon == std::string::npos) continue;
        auto const name = line.substr(prefix.size(), colon - prefix.size());
        out.emplace_back(name, std::strtoull(line.c_str() + colon + 7, nullptr, 10));
    }
    return out;
}

} // namespace

std::uint64_t command_calls(redis_server const& server, std::vector<std::string> const& except) {
    std::uint64_t total = 0;
    for (auto const& [name, calls] : commandstats(server)) {
        bool skip = false;
        for (auto const& e : except) skip = skip || name == e;
        if (!skip) total += calls;
    }
    return total;
}

std::uint64_t command_calls_of(redis_server const& server, std::string const& name) {
    for (auto const& [n, calls] : commandstats(server)) {
        if (n == name) return calls;
    }
    return 0;
}

} // namespace idemgate::test
