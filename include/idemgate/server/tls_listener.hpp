#pragma once
// The client listener's TLS context, replaced in place when its files change (issue 15):
// cert-manager and Kubernetes rotate the files under a running process.
#include "idemgate/config/config.hpp"
#include "idemgate/metrics/metrics.hpp"
#include "idemgate/net.hpp"

#include <boost/asio/ssl/context.hpp>

#include <memory>
#include <mutex>
#include <string>

#include <sys/types.h>

namespace idemgate::server {

/// Holds the context new handshakes use. A reload builds a whole new context and swaps the
/// pointer: a handshake or connection in flight keeps the one it started with (shared), so
/// no open connection is dropped and no context is freed under it.
/// @par Thread Safety: current() from any thread; reload() from one thread at a time.
class tls_listener {
public:
    /// Loads the files; throws std::runtime_error with the reason when they are unusable
    /// (the same checks as --check-config).
    tls_listener(config::listener_tls_config const& cfg, metrics::metrics& stats);

    std::shared_ptr<net::ssl::context> current() const {
        std::lock_guard lock(mutex_);
        return ctx_;
    }

    /// Reloads when `force` (SIGHUP) or when a file's mtime, size or inode changed since the
    /// last attempt. A bad new certificate or key keeps the current context, logged and
    /// counted (idemgate_tls_reloads_total{result="error"}); not retried until the files
    /// change again or SIGHUP. Returns whether a new context is in use.
    bool reload(bool force);

private:
    /// What stat() says of the files, compared to tell a rotation.
    struct stamp {
        ino_t inode = 0;
        dev_t device = 0;
        off_t size = -1;
        long long mtime_ns = 0;
        bool operator==(stamp const&) const = default;
    };
    struct stamps {
        stamp cert, key, ca;
        bool operator==(stamps const&) const = default;
    };
    static stamp stat_of(std::string const& path);
    stamps read_stamps() const;

    config::listener_tls_config const& cfg_;
    metrics::metrics& stats_;
    mutable std::mutex mutex_;
    std::shared_ptr<net::ssl::context> ctx_;
    stamps seen_;
};

} // namespace idemgate::server
