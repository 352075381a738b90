#pragma once
// Certificates for TLS tests, made with the OpenSSL C API (the openssl tool of Debian 12
// cannot back-date a certificate, and an expired one is a case): a CA, and leaves it signs
// for servers (DNS:localhost, IP:127.0.0.1) and clients, with chosen serials and validity.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>

namespace idemgate::test {

/// A certificate and its key, as PEM files.
struct issued_cert {
    std::filesystem::path cert;
    std::filesystem::path key;
    std::string serial; // hex, as OpenSSL prints it (BN_bn2hex)
};

/// A CA in a fresh temp directory, removed with the object. Not thread-safe.
class test_pki {
public:
    /// `name`: the CA's CN (two CAs in one test tell their leaves apart by it).
    explicit test_pki(std::string const& name = "idemgate test CA");
    ~test_pki();
    test_pki(test_pki const&) = delete;
    test_pki& operator=(test_pki const&) = delete;

    enum class usage { server, client };
    /// A leaf signed by this CA, written as `<file>.crt` and `<file>.key` in dir(). Valid
    /// from now - 1 h to now + `valid_for` (negative: already expired).
    issued_cert issue(std::string const& file, usage u, std::uint64_t serial,
                      std::chrono::seconds valid_for = std::chrono::hours(24));

    std::filesystem::path const& ca_cert() const noexcept { return ca_cert_; }
    std::filesystem::path const& dir() const noexcept { return dir_; }

private:
    std::filesystem::path dir_;
    std::filesystem::path ca_cert_;
    void* ca_key_ = nullptr;  // EVP_PKEY*
    void* ca_x509_ = nullptr; // X509*
};

} // namespace idemgate::test
