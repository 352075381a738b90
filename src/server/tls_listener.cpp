#include "idemgate/server/tls_listener.hpp"

#include "idemgate/config/tls_files.hpp"
#include "idemgate/log/log.hpp"

#include <stdexcept>

#include <sys/stat.h>

namespace idemgate::server {

/// stat() follows symlinks: a Kubernetes secret volume swaps its `..data` link, which
/// changes the inode (and usually the mtime) of the file the path resolves to.
tls_listener::stamp tls_listener::stat_of(std::string const& path) {
    stamp s;
    if (path.empty()) return s;
    struct ::stat st {};
    if (::stat(path.c_str(), &st) != 0) return s; // missing: size -1, differs from any file
    s.inode = st.st_ino;
    s.device = st.st_dev;
    s.size = st.st_size;
    s.mtime_ns = static_cast<long long>(st.st_mtim.tv_sec) * 1'000'000'000LL + st.st_mtim.tv_nsec;
    return s;
}

tls_listener::tls_listener(config::listener_tls_config const& cfg, metrics::metrics& stats)
    : cfg_(cfg), stats_(stats) {
    seen_ = read_stamps(); // before reading: a change during the load is seen next time
    auto loaded = config::load_server_tls(cfg_);
    if (!loaded.ctx) throw std::runtime_error(loaded.error_key + ": " + loaded.error);
    ctx_ = std::move(loaded.ctx);
    stats_.track_tls();
    stats_.set_tls_cert_expiry(loaded.not_after);
    log::info("tls certificate loaded", {{"cert_file", cfg_.cert_file},
                                         {"serial", loaded.serial},
                                         {"not_after", loaded.not_after},
                                         {"mtls", !cfg_.client_ca_file.empty()}});
}

tls_listener::stamps tls_listener::read_stamps() const {
    return {stat_of(cfg_.cert_file), stat_of(cfg_.key_file), stat_of(cfg_.client_ca_file)};
}

bool tls_listener::reload(bool force) {
    auto const now = read_stamps();
    if (!force && now == seen_) return false;
    seen_ = now;
    auto loaded = config::load_server_tls(cfg_);
    if (!loaded.ctx) {
        stats_.tls_reload(false);
        log::error("tls reload failed", {{"key", loaded.error_key},
                                         {"error", loaded.error},
                                         {"kept", "the certificate in use"}});
        return false;
    }
    {
        std::lock_guard lock(mutex_);
        ctx_ = std::move(loaded.ctx); // the old one lives on in the connections using it
    }
    stats_.tls_reload(true);
    stats_.set_tls_cert_expiry(loaded.not_after);
    log::info("tls certificate reloaded", {{"cert_file", cfg_.cert_file},
                                           {"serial", loaded.serial},
                                           {"not_after", loaded.not_after},
                                           {"forced", force}});
    return true;
}

} // namespace idemgate::server
