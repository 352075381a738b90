#include "idemgate/config/tls_files.hpp"

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <stdexcept>
#include <utility>

#include <sys/stat.h>

namespace idemgate::config {
namespace {

using problem_at = std::pair<std::string, std::string>; // {key path, message}

/// OpenSSL's reason for the last failure, and the error queue emptied so that it cannot
/// show up in an unrelated later call (on this thread).
std::string ssl_reason() {
    auto const e = ::ERR_peek_last_error();
    char const* r = e != 0 ? ::ERR_reason_error_string(e) : nullptr;
    std::string out = r != nullptr ? r : "unknown OpenSSL error";
    ::ERR_clear_error();
    return out;
}

/// A PEM bundle larger than this is not one (a public CA bundle is ~200 KiB).
constexpr off_t max_pem_bytes = 4 * 1024 * 1024;

/// Why `path` cannot be read as a PEM file ("" when it can): a clearer message than
/// OpenSSL's "system lib" for a missing or unreadable file, and only regular files of
/// bounded size, so that no path (/dev/zero, a FIFO) can make the check read forever.
std::string unreadable(std::string const& path) {
    struct ::stat st {};
    if (::stat(path.c_str(), &st) != 0)
        return "cannot read \"" + path + "\": " + std::strerror(errno);
    if (!S_ISREG(st.st_mode)) return "\"" + path + "\" is not a regular file";
    if (st.st_size > max_pem_bytes) return "\"" + path + "\" is larger than 4MiB";
    std::ifstream in(path, std::ios::binary);
    if (!in) return "cannot read \"" + path + "\": " + std::strerror(errno);
    return {};
}

/// An encrypted key must fail to load rather than prompt on the terminal for a passphrase.
int no_passphrase(char*, int, int, void*) {
    return 0;
}

/// ALPN: http/1.1 is all we speak. A client offering only other protocols (h2) gets no ALPN
/// answer rather than an alert, as a server without ALPN would give it.
int select_alpn(SSL*, unsigned char const** out, unsigned char* outlen, unsigned char const* in,
                unsigned inlen, void*) {
    static constexpr unsigned char ours[] = "\x08http/1.1";
    unsigned char* selected = nullptr;
    if (::SSL_select_next_proto(&selected, outlen, ours, sizeof ours - 1, in, inlen) !=
        OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_NOACK;
    *out = selected;
    return SSL_TLSEXT_ERR_OK;
}

std::int64_t not_after_of(X509 const* leaf) {
    std::tm tm{};
    if (::ASN1_TIME_to_tm(::X509_get0_notAfter(leaf), &tm) != 1) return 0;
    return static_cast<std::int64_t>(::timegm(&tm));
}

std::string serial_of(X509 const* leaf) {
    BIGNUM* bn = ::ASN1_INTEGER_to_BN(::X509_get0_serialNumber(leaf), nullptr);
    if (bn == nullptr) return {};
    char* hex = ::BN_bn2hex(bn);
    std::string out = hex != nullptr ? hex : "";
    ::OPENSSL_free(hex);
    ::BN_free(bn);
    return out;
}

std::string utc_date(std::int64_t t) {
    auto const tt = static_cast<std::time_t>(t);
    std::tm tm{};
    ::gmtime_r(&tt, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

/// Loads `cert` (chain) and `key` into `ctx`, keys named under `at` ("tls", "upstream.tls").
problem_at load_pair(SSL_CTX* ctx, std::string const& cert, std::string const& key,
                     std::string const& at) {
    auto const cert_key = at + ".cert_file";
    auto const key_key = at + ".key_file";
    if (cert.empty() != key.empty())
        return {cert.empty() ? cert_key : key_key,
                "is required with " + (cert.empty() ? key_key : cert_key)};
    if (auto why = unreadable(cert); !why.empty()) return {cert_key, why};
    if (auto why = unreadable(key); !why.empty()) return {key_key, why};
    ::ERR_clear_error();
    ::SSL_CTX_set_default_passwd_cb(ctx, no_passphrase);
    if (::SSL_CTX_use_certificate_chain_file(ctx, cert.c_str()) != 1)
        return {cert_key, "not a PEM certificate chain in \"" + cert + "\": " + ssl_reason()};
    if (::SSL_CTX_use_PrivateKey_file(ctx, key.c_str(), SSL_FILETYPE_PEM) != 1) {
        auto const why = ssl_reason();
        if (why == "key values mismatch") // OpenSSL compares it with the certificate here
            return {key_key,
                    "the key in \"" + key + "\" does not match the certificate in " + cert_key};
        return {key_key, "cannot use the key in \"" + key + "\" (an unencrypted PEM key): " + why};
    }
    if (::SSL_CTX_check_private_key(ctx) != 1)
        return {key_key, "does not match the certificate in " + cert_key + ": " + ssl_reason()};
    X509 const* leaf = ::SSL_CTX_get0_certificate(ctx);
    if (leaf == nullptr) return {cert_key, "no certificate in \"" + cert + "\""};
    // Refused rather than served: every verifying client would fail on it anyway, and a
    // refusal here is a clear message at deploy time (docs/operations.md "TLS").
    if (::X509_cmp_current_time(::X509_get0_notAfter(leaf)) <= 0)
        return {cert_key,
                "the certificate in \"" + cert + "\" expired at " + utc_date(not_after_of(leaf))};
    return {};
}

} // namespace

server_tls load_server_tls(listener_tls_config const& tls) {
    server_tls out;
    try {
        auto ctx = std::make_shared<net::ssl::context>(net::ssl::context::tls_server);
        SSL_CTX* const native = ctx->native_handle();
        auto fail = [&out](problem_at p) {
            out.error_key = std::move(p.first);
            out.error = std::move(p.second);
            return out;
        };
        if (auto p = load_pair(native, tls.cert_file, tls.key_file, "tls"); !p.first.empty())
            return fail(std::move(p));
        ::SSL_CTX_set_min_proto_version(
            native, tls.min_version == tls_version::v1_3 ? TLS1_3_VERSION : TLS1_2_VERSION);
        // Client-initiated renegotiation costs the server a handshake per request of it.
        ::SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
                                          SSL_OP_NO_COMPRESSION);
        ::SSL_CTX_set_alpn_select_cb(native, select_alpn, nullptr);
        // Resumed sessions must be tied to this server, or OpenSSL refuses them under mTLS.
        static constexpr unsigned char sid[] = "idemgate";
        ::SSL_CTX_set_session_id_context(native, sid, sizeof sid - 1);
        if (!tls.client_ca_file.empty()) {
            auto const& ca = tls.client_ca_file;
            if (auto why = unreadable(ca); !why.empty()) return fail({"tls.client_ca_file", why});
            if (::SSL_CTX_load_verify_locations(native, ca.c_str(), nullptr) != 1)
                return fail({"tls.client_ca_file",
                             "no PEM CA certificates in \"" + ca + "\": " + ssl_reason()});
            // The names sent in the CertificateRequest, so a client picks the right cert.
            STACK_OF(X509_NAME)* names = ::SSL_load_client_CA_file(ca.c_str());
            if (names == nullptr)
                return fail({"tls.client_ca_file",
                             "no PEM CA certificates in \"" + ca + "\": " + ssl_reason()});
            ::SSL_CTX_set_client_CA_list(native, names);
            ::SSL_CTX_set_verify(native, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                                 nullptr);
        }
        X509 const* leaf = ::SSL_CTX_get0_certificate(native);
        out.not_after = not_after_of(leaf);
        out.serial = serial_of(leaf);
        out.ctx = std::move(ctx);
    } catch (std::exception const& e) { // allocation; asio's context throws on SSL_CTX_new
        out.ctx.reset();
        out.error_key = "tls.cert_file";
        out.error = e.what();
    }
    ::ERR_clear_error();
    return out;
}

std::pair<std::string, std::string> check_client_pair(tls_config const& tls,
                                                      std::string const& at) {
    if (tls.cert_file.empty() && tls.key_file.empty()) return {};
    SSL_CTX* ctx = ::SSL_CTX_new(::TLS_client_method());
    if (ctx == nullptr) return {at + ".cert_file", ssl_reason()};
    auto p = load_pair(ctx, tls.cert_file, tls.key_file, at);
    ::SSL_CTX_free(ctx);
    ::ERR_clear_error();
    return p;
}

void use_client_pair(net::ssl::context& ctx, tls_config const& tls, std::string const& at) {
    if (tls.cert_file.empty() && tls.key_file.empty()) return;
    auto const p = load_pair(ctx.native_handle(), tls.cert_file, tls.key_file, at);
    ::ERR_clear_error();
    if (!p.first.empty()) throw std::invalid_argument(p.first + ": " + p.second);
}

} // namespace idemgate::config
