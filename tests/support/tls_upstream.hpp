#pragma once
// An HTTPS upstream on 127.0.0.1 that requires a client certificate (mTLS), for the
// gateway's upstream.tls.cert_file: it answers every request 201 with the client
// certificate's CN in X-Client-CN, one request per connection (Connection: close).
#include "support/test_pki.hpp"

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

namespace idemgate::test {

/// Serves on its own thread from construction to destruction. Thread-safe accessors.
class tls_upstream {
public:
    /// `server`: its certificate; `client_ca`: the CA client certificates must chain to.
    tls_upstream(issued_cert const& server, std::filesystem::path const& client_ca);
    ~tls_upstream();
    tls_upstream(tls_upstream const&) = delete;
    tls_upstream& operator=(tls_upstream const&) = delete;

    std::uint16_t port() const noexcept { return port_; }
    std::string url() const { return "https://127.0.0.1:" + std::to_string(port_); }
    std::size_t requests() const noexcept { return requests_.load(); }
    std::size_t handshake_failures() const noexcept { return failures_.load(); }

private:
    void serve();

    void* ctx_ = nullptr; // SSL_CTX*
    int listen_fd_ = -1;
    std::uint16_t port_ = 0;
    std::atomic<bool> stopping_{false};
    std::atomic<std::size_t> requests_{0};
    std::atomic<std::size_t> failures_{0};
    std::thread thread_;
};

} // namespace idemgate::test
