#include "support/test_pki.hpp"

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <stdexcept>

namespace idemgate::test {
namespace {

void check(bool ok, char const* what) {
    if (!ok) throw std::runtime_error(std::string("test_pki: ") + what + " failed");
}

EVP_PKEY* new_key() {
    EVP_PKEY* k = EVP_EC_gen("P-256");
    check(k != nullptr, "EVP_EC_gen");
    return k;
}

void add_ext(X509* cert, X509* issuer, int nid, char const* value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    check(ext != nullptr, "X509V3_EXT_conf_nid");
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
}

/// A certificate for `key` named `cn`; self-signed when issuer is null.
X509* make_cert(EVP_PKEY* key, std::string const& cn, std::uint64_t serial, long valid_for_s,
                X509* issuer) {
    X509* x = X509_new();
    check(x != nullptr, "X509_new");
    X509_set_version(x, 2);
    ASN1_INTEGER_set_uint64(X509_get_serialNumber(x), serial);
    X509_gmtime_adj(X509_getm_notBefore(x), valid_for_s < 0 ? valid_for_s - 3600 : -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), valid_for_s);
    X509_set_pubkey(x, key);
    X509_NAME* name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<unsigned char const*>(cn.c_str()), -1, -1, 0);
    X509_set_issuer_name(x, issuer != nullptr ? X509_get_subject_name(issuer) : name);
    return x;
}

void write_pem(std::filesystem::path const& path, X509* cert, EVP_PKEY* key) {
    FILE* f = std::fopen(path.c_str(), "w");
    check(f != nullptr, "fopen");
    bool const ok = cert != nullptr
                        ? PEM_write_X509(f, cert) == 1
                        : PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr) == 1;
    std::fclose(f);
    check(ok, "PEM_write");
}

std::string serial_hex(X509* x) {
    BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get_serialNumber(x), nullptr);
    char* hex = BN_bn2hex(bn);
    std::string out = hex;
    OPENSSL_free(hex);
    BN_free(bn);
    return out;
}

} // namespace

test_pki::test_pki(std::string const& name) {
    auto tmpl = (std::filesystem::temp_directory_path() / "idemgate-pki-XXXXXX").string();
    check(::mkdtemp(tmpl.data()) != nullptr, "mkdtemp");
    dir_ = tmpl;
    auto* key = new_key();
    auto* ca = make_cert(key, name, 1, 10L * 365 * 24 * 3600, nullptr);
    add_ext(ca, ca, NID_basic_constraints, "critical,CA:TRUE");
    add_ext(ca, ca, NID_key_usage, "critical,keyCertSign,cRLSign");
    add_ext(ca, ca, NID_subject_key_identifier, "hash");
    check(X509_sign(ca, key, EVP_sha256()) > 0, "X509_sign");
    ca_cert_ = dir_ / "ca.crt";
    write_pem(ca_cert_, ca, nullptr);
    ca_key_ = key;
    ca_x509_ = ca;
}

test_pki::~test_pki() {
    EVP_PKEY_free(static_cast<EVP_PKEY*>(ca_key_));
    X509_free(static_cast<X509*>(ca_x509_));
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
}

issued_cert test_pki::issue(std::string const& file, usage u, std::uint64_t serial,
                            std::chrono::seconds valid_for) {
    auto* ca = static_cast<X509*>(ca_x509_);
    auto* ca_key = static_cast<EVP_PKEY*>(ca_key_);
    auto* key = new_key();
    auto* x = make_cert(key, u == usage::server ? "localhost" : file, serial,
                        static_cast<long>(valid_for.count()), ca);
    add_ext(x, ca, NID_basic_constraints, "critical,CA:FALSE");
    add_ext(x, ca, NID_key_usage, "critical,digitalSignature,keyEncipherment");
    add_ext(x, ca, NID_ext_key_usage, u == usage::server ? "serverAuth" : "clientAuth");
    if (u == usage::server) add_ext(x, ca, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1");
    add_ext(x, ca, NID_authority_key_identifier, "keyid:always");
    check(X509_sign(x, ca_key, EVP_sha256()) > 0, "X509_sign");
    issued_cert out{dir_ / (file + ".crt"), dir_ / (file + ".key"), serial_hex(x)};
    write_pem(out.cert, x, nullptr);
    write_pem(out.key, nullptr, key);
    X509_free(x);
    EVP_PKEY_free(key);
    return out;
}

} // namespace idemgate::test
