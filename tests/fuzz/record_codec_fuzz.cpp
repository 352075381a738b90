// The record codec (store/record_codec.hpp): what a store hands back is decoded, whatever
// bytes a corrupted or foreign key holds. Input: any bytes, taken as a stored value.
//
// Invariants, besides no crash and no sanitizer report (a length must never make decode
// read past the input or allocate more than it holds):
// - when decode succeeds, encode(decode(x)) == x (one encoding per record);
// - and decode(encode(r)) == r.
#include "fuzz_check.hpp"

#include "idemgate/store/record_codec.hpp"

#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
    using namespace idemgate::store;
    std::string_view const bytes(reinterpret_cast<char const*>(data), size);
    auto const r = decode(bytes);
    if (!r) return 0;
    auto const encoded = encode(*r);
    FUZZ_CHECK(encoded == bytes);
    auto const back = decode(encoded);
    FUZZ_CHECK(back.has_value() && *back == *r);
    return 0;
}
