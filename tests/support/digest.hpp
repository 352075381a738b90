#pragma once
// SHA-256 as tests compare it with what a store keeps (lowercase hex).
#include <openssl/evp.h>

#include <string>

namespace idemgate::test {

inline std::string sha256_hex(std::string const& text) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(text.data(), text.size(), md, &len, EVP_sha256(), nullptr);
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (unsigned i = 0; i < len; ++i) {
        out.push_back(digits[md[i] >> 4U]);
        out.push_back(digits[md[i] & 0x0FU]);
    }
    return out;
}

} // namespace idemgate::test
