#include "support/tls_upstream.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <stdexcept>

namespace idemgate::test {

tls_upstream::tls_upstream(issued_cert const& server, std::filesystem::path const& client_ca) {
    SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == nullptr || SSL_CTX_use_certificate_chain_file(ctx, server.cert.c_str()) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, server.key.c_str(), SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_load_verify_locations(ctx, client_ca.c_str(), nullptr) != 1) {
        SSL_CTX_free(ctx);
        throw std::runtime_error("tls_upstream: cannot load its certificates");
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
    ctx_ = ctx;
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listen_fd_, 16) != 0 ||
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        ::close(listen_fd_);
        SSL_CTX_free(ctx);
        throw std::runtime_error("tls_upstream: cannot listen");
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serve(); });
}

tls_upstream::~tls_upstream() {
    stopping_ = true;
    ::shutdown(listen_fd_, SHUT_RDWR); // wakes the blocking accept()
    thread_.join();
    ::close(listen_fd_);
    SSL_CTX_free(static_cast<SSL_CTX*>(ctx_));
}

void tls_upstream::serve() {
    while (!stopping_) {
        int const fd = ::accept(listen_fd_, nullptr, nullptr);
        if (fd < 0) {
            if (stopping_) return;
            continue;
        }
        timeval tv{5, 0}; // a stuck peer cannot hold the stub
        ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        SSL* ssl = SSL_new(static_cast<SSL_CTX*>(ctx_));
        SSL_set_fd(ssl, fd);
        if (SSL_accept(ssl) != 1) {
            ++failures_;
        } else {
            // The request head and a small body: read until the blank line and Content-Length.
            std::string in;
            char buf[4096];
            for (;;) {
                auto const head_end = in.find("\r\n\r\n");
                if (head_end != std::string::npos) {
                    std::size_t length = 0;
                    auto const cl = in.find("Content-Length: ");
                    if (cl != std::string::npos && cl < head_end)
                        length = std::stoul(in.substr(cl + 16));
                    if (in.size() >= head_end + 4 + length) break;
                }
                int const n = SSL_read(ssl, buf, sizeof buf);
                if (n <= 0) break;
                in.append(buf, static_cast<std::size_t>(n));
            }
            std::string cn;
            if (X509* peer = SSL_get1_peer_certificate(ssl)) {
                char name[256] = {};
                X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, name,
                                          sizeof name);
                cn = name;
                X509_free(peer);
            }
            auto const n = ++requests_;
            std::string const body = R"({"id":"obj_)" + std::to_string(n) + R"("})";
            std::string const out = "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
                                    "X-Client-CN: " +
                                    cn + "\r\nContent-Length: " + std::to_string(body.size()) +
                                    "\r\nConnection: close\r\n\r\n" + body;
            SSL_write(ssl, out.data(), static_cast<int>(out.size()));
            SSL_shutdown(ssl);
        }
        SSL_free(ssl);
        ERR_clear_error();
        ::close(fd);
    }
}

} // namespace idemgate::test
