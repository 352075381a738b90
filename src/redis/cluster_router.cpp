#include "idemgate/redis/cluster_router.hpp"

#include "idemgate/error.hpp"
#include "idemgate/redis/key_slot.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>

namespace idemgate::redis {

namespace {

error_code unavailable() noexcept {
    return make_error_code(errc::store_unavailable);
}

} // namespace

cluster_router::cluster_router(net::any_io_executor ex,
                               std::shared_ptr<connection_config const> base,
                               std::vector<node_address> seeds)
    : ex_(std::move(ex)), base_(std::move(base)), seeds_(std::move(seeds)) {}

cluster_router::~cluster_router() {
    stop();
}

void cluster_router::stop() {
    for (auto& [node, c] : connections_) c->stop();
    connections_.clear();
}

std::shared_ptr<connection> cluster_router::connection_to(node_address const& node) {
    auto& c = connections_[node];
    if (!c) {
        auto cfg = std::make_shared<connection_config>(*base_);
        cfg->url.host = node.host;
        cfg->url.port = node.port;
        cfg->url.db = 0; // a cluster has only db 0
        c = std::make_shared<connection>(ex_, std::move(cfg));
        c->start();
    }
    return c;
}

task<bool> cluster_router::refresh(time_point deadline) {
    auto candidates = seeds_;
    for (auto const& p : map_.primaries()) candidates.push_back(p);
    for (auto const& node : candidates) {
        if (std::chrono::steady_clock::now() >= deadline) break;
        // Built outside the co_await: GCC 12 miscompiles an initializer_list temporary there.
        command cmd{"CLUSTER", "SLOTS"};
        auto const r = co_await connection_to(node)->execute(std::move(cmd), deadline);
        if (!r) continue;
        std::string error;
        // An unknown endpoint in the reply is the host we asked.
        if (auto m = slot_map::parse(*r, node.host, error)) {
            map_ = std::move(*m);
            co_return true;
        }
    }
    co_return false;
}

task<result<reply>> cluster_router::execute(std::string_view key,
                                            std::span<std::string_view const> args,
                                            time_point deadline) {
    using namespace net::experimental::awaitable_operators;
    auto const slot = slot_of(key);
    if (map_.primary_for(slot) == nullptr) co_await refresh(deadline);
    std::optional<node_address> ask_target;
    for (int sent = 0; sent <= max_redirects; ++sent) {
        auto const* owner = ask_target ? &*ask_target : map_.primary_for(slot);
        if (owner == nullptr) co_return unavailable();
        auto const target = *owner; // the map may change while we wait
        auto const c = connection_to(target);
        result<reply> r = unavailable();
        if (ask_target) {
            // ASKING applies to the next command on the connection: both are queued before
            // either is written (execute queues before it first suspends), so nothing of
            // another caller can come between them.
            command asking{"ASKING"};
            auto both = co_await (c->execute(std::move(asking), deadline) &&
                                  c->execute(command(args), deadline));
            r = std::move(std::get<1>(both));
            ask_target.reset();
        } else {
            r = co_await c->execute(command(args), deadline);
        }
        if (!r || !r->is_error()) co_return r;
        auto redirect = parse_redirect(r->str);
        if (!redirect) co_return r;
        // An empty endpoint means "the host you reached me on".
        if (redirect->target.host.empty()) redirect->target.host = target.host;
        if (redirect->kind == redirect_kind::moved) {
            ++moved_;
            map_ = map_.with_owner(redirect->slot, redirect->target);
        } else {
            ++asked_;
            ask_target = redirect->target;
        }
    }
    co_return unavailable();
}

} // namespace idemgate::redis
