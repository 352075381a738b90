#pragma once
// A blocking HTTPS client for TLS tests: verifies the server against a test CA, can show a
// client certificate, cap its protocol version, and report what was negotiated (ALPN, the
// server certificate's serial). Every step bounded by a timeout.
#include "support/http_client.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

namespace idemgate::test {

struct tls_client_options {
    std::filesystem::path ca_file;   // verifies the server (name: 127.0.0.1)
    std::filesystem::path cert_file; // non-empty: a client certificate with key_file
    std::filesystem::path key_file;
    int max_version = 0;                     // e.g. TLS1_2_VERSION; 0: the library's highest
    bool alpn = true;                        // offer http/1.1
    std::chrono::milliseconds timeout{5000}; // each step
};

/// One TLS connection to 127.0.0.1:port, kept alive across send() calls.
/// Not thread-safe.
class tls_client {
public:
    tls_client(std::uint16_t port, tls_client_options opt);
    ~tls_client();
    tls_client(tls_client const&) = delete;
    tls_client& operator=(tls_client const&) = delete;

    /// Connects and handshakes; "" on success, else why not.
    std::string connect();
    /// One request on the connection (connect() first when not connected); status 0 and
    /// `error` set when no response was read.
    http_response send(http_request const& req);

    std::string alpn() const;        // the protocol the server selected, "" for none
    std::string peer_serial() const; // hex (BN_bn2hex), "" before a handshake
    std::string version() const;     // "TLSv1.3", ...

private:
    template <class Op>
    boost::system::error_code run(Op op);

    std::uint16_t port_;
    tls_client_options opt_;
    boost::asio::io_context ioc_;
    boost::asio::ssl::context ctx_;
    std::unique_ptr<boost::asio::ssl::stream<boost::beast::tcp_stream>> stream_;
    boost::beast::flat_buffer buffer_;
    bool connected_ = false;
};

} // namespace idemgate::test
