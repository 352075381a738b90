#include "idemgate/redis/pipeline.hpp"

#include <algorithm>
#include <utility>

namespace idemgate::redis {

namespace {

boost::system::error_code timed_out() noexcept {
    return make_error_code(boost::system::errc::timed_out);
}

} // namespace

void pipeline::push(command cmd, time_point now, time_point deadline, waiter& w) {
    queued_.push_back(entry{std::move(cmd), &w, deadline, deadline - now, time_point{}});
}

std::string_view pipeline::next_write(time_point now) {
    write_buf_.clear();
    while (!queued_.empty()) {
        auto e = std::move(queued_.front());
        queued_.pop_front();
        if (e.deadline <= now) {
            e.w->settle(timed_out()); // overdue before the expiry tick saw it: never written
            continue;
        }
        write_buf_.append(e.cmd.bytes());
        e.cmd = command{};
        e.written_at = now;
        written_.push_back(std::move(e));
    }
    return write_buf_;
}

bool pipeline::consume(std::string_view bytes) {
    if (!parser_.feed(bytes)) return false;
    while (auto r = parser_.next()) {
        if (written_.empty()) {
            unexpected_reply_ = true;
            return false;
        }
        auto* const w = written_.front().w;
        written_.pop_front();
        if (w != nullptr) w->settle(std::move(*r)); // else its caller timed out: dropped
    }
    return !parser_.failed();
}

std::string pipeline::error() const {
    return unexpected_reply_ ? std::string("a reply no command asked for") : parser_.error();
}

pipeline::expiry pipeline::expire(time_point now) {
    expiry out;
    // remove_if applies the predicate exactly once per entry, in order.
    std::erase_if(queued_, [&](entry const& e) {
        if (e.deadline > now) return false;
        e.w->settle(timed_out());
        ++out.abandoned;
        return true;
    });
    auto shortest = clock::duration::max(); // among the written commands abandoned now
    for (auto& e : written_) {
        if (e.deadline > now) continue; // abandoned ones have time_point::max()
        e.w->settle(timed_out());
        e.w = nullptr;
        e.deadline = time_point::max();
        shortest = std::min(shortest, e.timeout);
        ++out.abandoned;
    }
    if (shortest != clock::duration::max()) {
        out.peer_silent = now - written_.front().written_at >= 2 * shortest;
    }
    return out;
}

void pipeline::fail_all(boost::system::error_code ec) {
    auto written = std::exchange(written_, {});
    auto queued = std::exchange(queued_, {});
    for (auto const& e : written) {
        if (e.w != nullptr) e.w->settle(ec);
    }
    for (auto const& e : queued) e.w->settle(ec);
}

void pipeline::withdraw(waiter const& w) noexcept {
    std::erase_if(queued_, [&](entry const& e) { return e.w == &w; });
    for (auto& e : written_) {
        if (e.w != &w) continue;
        e.w = nullptr;
        e.deadline = time_point::max();
    }
}

void pipeline::reset_stream() {
    auto written = std::exchange(written_, {});
    for (auto const& e : written) {
        if (e.w != nullptr) e.w->settle(make_error_code(boost::system::errc::connection_aborted));
    }
    parser_.reset();
    unexpected_reply_ = false;
}

pipeline::time_point pipeline::next_deadline() const noexcept {
    auto at = time_point::max();
    for (auto const& e : queued_) at = std::min(at, e.deadline);
    for (auto const& e : written_) at = std::min(at, e.deadline);
    return at;
}

} // namespace idemgate::redis
