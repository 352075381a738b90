#include "idemgate/store/sealer.hpp"

#include "idemgate/util/hmac.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <stdexcept>

// Layout of a sealed record:
//   u8 'S'  u8 version (1)  u8 id length  id  salt[16]  nonce[12]  ciphertext  tag[16]
// A clear record starts with 'I' (record_codec.cpp), so the two never read as each other.

namespace idemgate::store {

namespace {

constexpr unsigned char magic = 'S';
constexpr unsigned char version = 1;
constexpr std::size_t salt_size = 16;
constexpr std::size_t nonce_size = 12;
constexpr std::size_t tag_size = 16;
constexpr std::string_view hkdf_info = "idemgate record v1";

using cipher_ptr = std::unique_ptr<EVP_CIPHER, decltype(&EVP_CIPHER_free)>;
using key_bytes = std::array<unsigned char, 32>;

bool valid_id(std::string_view id) noexcept {
    return !id.empty() && id.size() <= 32 && std::all_of(id.begin(), id.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '_';
    });
}

std::string_view trim(std::string_view s) noexcept {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
        s.remove_suffix(1);
    return s;
}

/// Strict base64 of exactly 32 bytes (44 chars, one '=' of padding).
std::optional<key_bytes> decode_key(std::string_view b64) {
    if (b64.size() != 44 || b64[43] != '=' || b64[42] == '=') return std::nullopt;
    std::array<unsigned char, 33> out{}; // EVP_DecodeBlock writes 33 bytes for 44 chars
    auto const n = EVP_DecodeBlock(out.data(), reinterpret_cast<unsigned char const*>(b64.data()),
                                   static_cast<int>(b64.size()));
    if (n != 33) return std::nullopt;
    key_bytes key{};
    std::copy_n(out.begin(), key.size(), key.begin());
    return key;
}

} // namespace

std::optional<std::vector<sealing_key>> parse_keys(std::string_view text, std::string& why) {
    std::vector<sealing_key> keys;
    std::size_t line_no = 0;
    while (!text.empty()) {
        auto const eol = text.find('\n');
        auto const line = trim(text.substr(0, eol));
        text = eol == std::string_view::npos ? std::string_view{} : text.substr(eol + 1);
        ++line_no;
        if (line.empty() || line.front() == '#') continue;
        auto const colon = line.find(':');
        auto const where = "line " + std::to_string(line_no) + ": ";
        if (colon == std::string_view::npos) {
            why = where + "expected <id>:<base64 of 32 bytes>";
            return std::nullopt;
        }
        auto const id = line.substr(0, colon);
        if (!valid_id(id)) {
            why = where + "the key id must be 1 to 32 of A-Z a-z 0-9 - _";
            return std::nullopt;
        }
        auto key = decode_key(trim(line.substr(colon + 1)));
        if (!key) {
            why = where + "the key must be the base64 of exactly 32 bytes";
            return std::nullopt;
        }
        if (std::any_of(keys.begin(), keys.end(), [&](auto const& k) { return k.id == id; })) {
            why = where + "key id \"" + std::string(id) + "\" is listed twice";
            return std::nullopt;
        }
        keys.push_back({std::string(id), *key});
    }
    if (keys.empty()) {
        why = "no key (one <id>:<base64 of 32 bytes> per line; the first one seals)";
        return std::nullopt;
    }
    return keys;
}

std::optional<std::vector<sealing_key>> load_keys(std::string const& path, std::string& why) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        why = "cannot read " + path;
        return std::nullopt;
    }
    std::ostringstream text;
    text << in.rdbuf();
    auto keys = parse_keys(text.str(), why);
    if (!keys) why = path + ": " + why;
    return keys;
}

std::string generate_key_line() {
    std::array<unsigned char, 32 + 4> raw{};
    if (RAND_bytes(raw.data(), static_cast<int>(raw.size())) != 1)
        throw std::runtime_error("the random number generator failed");
    static constexpr char digits[] = "0123456789abcdef";
    std::string line = "k";
    for (std::size_t i = 32; i < raw.size(); ++i) {
        line.push_back(digits[raw[i] >> 4U]);
        line.push_back(digits[raw[i] & 0x0FU]);
    }
    std::array<unsigned char, 45> b64{};
    EVP_EncodeBlock(b64.data(), raw.data(), 32);
    line.push_back(':');
    line.append(reinterpret_cast<char const*>(b64.data()), 44);
    return line;
}

struct sealer::impl {
    std::vector<sealing_key> keys;
    cipher_ptr gcm{EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr), &EVP_CIPHER_free};

    /// HKDF-SHA-256(master, salt, info) -> the record's key. util's HKDF, not OpenSSL's
    /// EVP_KDF: that one fetches HMAC and SHA-256 by name on every record (the largest part
    /// of a sealed record's cost); the output is the same (tests/unit/store/sealer_test).
    static bool derive(key_bytes const& master, unsigned char const* salt, key_bytes& out) {
        return util::hkdf_sha256(
            std::string_view(reinterpret_cast<char const*>(master.data()), master.size()),
            std::string_view(reinterpret_cast<char const*>(salt), salt_size), hkdf_info, out);
    }
};

sealer::sealer(std::vector<sealing_key> keys) : impl_(std::make_unique<impl>()) {
    if (keys.empty()) throw std::invalid_argument("sealer: no key");
    impl_->keys = std::move(keys);
    if (!impl_->gcm) throw std::runtime_error("OpenSSL offers no AES-256-GCM here");
}

sealer::~sealer() {
    // The master keys leave no copy in freed memory.
    for (auto& k : impl_->keys) OPENSSL_cleanse(k.key.data(), k.key.size());
}

bool sealer::looks_sealed(std::string_view bytes) noexcept {
    return bytes.size() >= 3 && static_cast<unsigned char>(bytes[0]) == magic &&
           static_cast<unsigned char>(bytes[1]) == version;
}

std::string sealer::seal(std::string_view aad, std::string_view plain) const {
    auto const& k = impl_->keys.front();
    std::string out;
    out.reserve(3 + k.id.size() + salt_size + nonce_size + plain.size() + tag_size);
    out.push_back(static_cast<char>(magic));
    out.push_back(static_cast<char>(version));
    out.push_back(static_cast<char>(k.id.size()));
    out.append(k.id);
    std::array<unsigned char, salt_size + nonce_size> random{};
    if (RAND_bytes(random.data(), static_cast<int>(random.size())) != 1) return {};
    out.append(reinterpret_cast<char const*>(random.data()), random.size());
    key_bytes record_key{};
    if (!impl_->derive(k.key, random.data(), record_key)) return {};

    std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> ctx(EVP_CIPHER_CTX_new(),
                                                                        &EVP_CIPHER_CTX_free);
    int n = 0;
    auto const head = out.size();
    out.resize(head + plain.size() + tag_size);
    auto* const body = reinterpret_cast<unsigned char*>(out.data() + head);
    bool const ok =
        ctx &&
        EVP_EncryptInit_ex2(ctx.get(), impl_->gcm.get(), record_key.data(),
                            random.data() + salt_size, nullptr) == 1 &&
        EVP_EncryptUpdate(ctx.get(), nullptr, &n,
                          reinterpret_cast<unsigned char const*>(aad.data()),
                          static_cast<int>(aad.size())) == 1 &&
        EVP_EncryptUpdate(ctx.get(), body, &n, reinterpret_cast<unsigned char const*>(plain.data()),
                          static_cast<int>(plain.size())) == 1 &&
        EVP_EncryptFinal_ex(ctx.get(), body + n, &n) == 1 &&
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(tag_size),
                            body + plain.size()) == 1;
    OPENSSL_cleanse(record_key.data(), record_key.size());
    return ok ? out : std::string{};
}

std::optional<std::string> sealer::open(std::string_view aad, std::string_view sealed) const {
    if (!looks_sealed(sealed)) return std::nullopt;
    auto const id_size = static_cast<unsigned char>(sealed[2]);
    auto const head = 3 + std::size_t{id_size} + salt_size + nonce_size;
    if (sealed.size() < head + tag_size) return std::nullopt;
    auto const id = sealed.substr(3, id_size);
    auto const it = std::find_if(impl_->keys.begin(), impl_->keys.end(),
                                 [&](auto const& k) { return k.id == id; });
    if (it == impl_->keys.end()) return std::nullopt;
    auto const* const random = reinterpret_cast<unsigned char const*>(sealed.data() + 3 + id_size);
    key_bytes record_key{};
    if (!impl_->derive(it->key, random, record_key)) return std::nullopt;

    auto const text_size = sealed.size() - head - tag_size;
    auto const* const text = reinterpret_cast<unsigned char const*>(sealed.data() + head);
    std::string plain(text_size, '\0');
    std::array<unsigned char, tag_size> tag{};
    std::copy_n(text + text_size, tag_size, tag.begin());
    std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> ctx(EVP_CIPHER_CTX_new(),
                                                                        &EVP_CIPHER_CTX_free);
    int n = 0;
    bool const ok =
        ctx &&
        EVP_DecryptInit_ex2(ctx.get(), impl_->gcm.get(), record_key.data(), random + salt_size,
                            nullptr) == 1 &&
        EVP_DecryptUpdate(ctx.get(), nullptr, &n,
                          reinterpret_cast<unsigned char const*>(aad.data()),
                          static_cast<int>(aad.size())) == 1 &&
        EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(plain.data()), &n, text,
                          static_cast<int>(text_size)) == 1 &&
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(tag_size),
                            tag.data()) == 1 &&
        EVP_DecryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(plain.data()) + n, &n) == 1;
    OPENSSL_cleanse(record_key.data(), record_key.size());
    if (!ok) return std::nullopt;
    return plain;
}

record_sealing make_record_sealing(std::string const& keys_file, bool accept_unsealed) {
    if (keys_file.empty()) return {};
    std::string why;
    auto keys = load_keys(keys_file, why);
    if (!keys) throw std::invalid_argument("store.encryption.keys_file: " + why);
    return {std::make_shared<sealer const>(std::move(*keys)), accept_unsealed};
}

} // namespace idemgate::store
