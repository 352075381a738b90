#include "support/tls_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/beast/http.hpp>

#include <openssl/bn.h>
#include <openssl/ssl.h>

namespace idemgate::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using boost::system::error_code;

tls_client::tls_client(std::uint16_t port, tls_client_options opt)
    : port_(port), opt_(std::move(opt)), ctx_(asio::ssl::context::tls_client) {
    ctx_.set_verify_mode(asio::ssl::verify_peer);
    if (!opt_.ca_file.empty()) ctx_.load_verify_file(opt_.ca_file.string());
    if (!opt_.cert_file.empty()) {
        ctx_.use_certificate_chain_file(opt_.cert_file.string());
        ctx_.use_private_key_file(opt_.key_file.string(), asio::ssl::context::pem);
    }
    if (opt_.max_version != 0)
        SSL_CTX_set_max_proto_version(ctx_.native_handle(), opt_.max_version);
    if (opt_.alpn) {
        static constexpr unsigned char protos[] = "\x08http/1.1";
        SSL_CTX_set_alpn_protos(ctx_.native_handle(), protos, sizeof protos - 1);
    }
}

tls_client::~tls_client() = default;

/// Runs one asynchronous step to completion or the timeout (then the socket is closed).
template <class Op>
error_code tls_client::run(Op op) {
    error_code result = asio::error::would_block;
    op([&result](error_code ec, auto&&...) { result = ec; });
    ioc_.restart();
    ioc_.run_for(opt_.timeout);
    if (result == asio::error::would_block) {
        beast::get_lowest_layer(*stream_).close();
        ioc_.restart();
        ioc_.run();
        return asio::error::timed_out;
    }
    return result;
}

std::string tls_client::connect() {
    connected_ = false;
    buffer_.clear();
    stream_ = std::make_unique<asio::ssl::stream<beast::tcp_stream>>(ioc_, ctx_);
    stream_->set_verify_callback(asio::ssl::host_name_verification("127.0.0.1"));
    asio::ip::tcp::endpoint const ep(asio::ip::make_address("127.0.0.1"), port_);
    auto ec = run([&](auto h) { beast::get_lowest_layer(*stream_).async_connect(ep, h); });
    if (ec) return "connect: " + ec.message();
    ec = run([&](auto h) { stream_->async_handshake(asio::ssl::stream_base::client, h); });
    if (ec) return "handshake: " + ec.message();
    connected_ = true;
    return {};
}

http_response tls_client::send(http_request const& r) {
    http_response out;
    if (!connected_) {
        if (auto why = connect(); !why.empty()) {
            out.error = why;
            return out;
        }
    }
    http::request<http::string_body> req;
    req.method_string(r.method);
    req.target(r.target);
    req.version(11);
    bool host = false;
    for (auto const& [name, value] : r.headers) {
        req.insert(name, value);
        host = host || beast::iequals(name, "Host");
    }
    if (!host) req.set(http::field::host, "127.0.0.1");
    req.body() = r.body;
    if (!r.body.empty() || (r.method != "GET" && r.method != "HEAD")) req.prepare_payload();
    auto ec = run([&](auto h) { http::async_write(*stream_, req, h); });
    if (ec) {
        connected_ = false;
        out.error = "write: " + ec.message();
        return out;
    }
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    ec = run([&](auto h) { http::async_read(*stream_, buffer_, parser, h); });
    if (ec) {
        connected_ = false;
        out.error = "read: " + ec.message();
        return out;
    }
    auto const& res = parser.get();
    out.status = res.result_int();
    for (auto const& f : res) out.headers.emplace_back(f.name_string(), f.value());
    out.body = res.body();
    if (!res.keep_alive()) connected_ = false;
    return out;
}

std::string tls_client::alpn() const {
    if (!stream_) return {};
    unsigned char const* p = nullptr;
    unsigned n = 0;
    SSL_get0_alpn_selected(stream_->native_handle(), &p, &n);
    return p != nullptr ? std::string(reinterpret_cast<char const*>(p), n) : std::string();
}

std::string tls_client::peer_serial() const {
    if (!stream_) return {};
    X509* peer = SSL_get1_peer_certificate(stream_->native_handle());
    if (peer == nullptr) return {};
    BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get_serialNumber(peer), nullptr);
    char* hex = BN_bn2hex(bn);
    std::string out = hex;
    OPENSSL_free(hex);
    BN_free(bn);
    X509_free(peer);
    return out;
}

std::string tls_client::version() const {
    return stream_ ? SSL_get_version(stream_->native_handle()) : "";
}

} // namespace idemgate::test
