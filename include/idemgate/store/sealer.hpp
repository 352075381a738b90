#pragma once
// Records sealed at rest (store.encryption): AES-256-GCM under a key derived per record.
//
// A master key never encrypts a record itself. Each sealing draws a random 16-byte salt and
// derives the record's key with HKDF-SHA-256(master, salt); the 12-byte GCM nonce is random
// too. A master key can therefore seal far more records than the 2^32 random-nonce
// invocations NIST SP 800-38D §8.3 allows one GCM key (docs/operations.md). The scope key
// is the associated data: a record copied under another scope does not open.
#include <array>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace idemgate::store {

struct sealing_key {
    std::string id; // 1..32 chars of [A-Za-z0-9_-], written in each record
    std::array<unsigned char, 32> key{};
};

/// `store.encryption.keys_file`'s text: one `<id>:<base64 of 32 bytes>` per line, blank
/// lines and `#` comments ignored, ids unique; at least one key. nullopt + `why` (naming
/// the line, never the key) otherwise.
std::optional<std::vector<sealing_key>> parse_keys(std::string_view text, std::string& why);

/// The file at `path`, read and parsed as parse_keys does.
std::optional<std::vector<sealing_key>> load_keys(std::string const& path, std::string& why);

/// A new key line for a keys file: a random id and 32 random bytes (OpenSSL's RNG).
std::string generate_key_line();

/// Thread-safe (immutable after construction).
class sealer {
public:
    /// `keys` non-empty: the first seals, every one opens (rotation without downtime).
    explicit sealer(std::vector<sealing_key> keys);
    ~sealer();
    sealer(sealer const&) = delete;
    sealer& operator=(sealer const&) = delete;

    /// `plain` sealed under the first key with `aad` bound to it. Empty on an OpenSSL
    /// failure (the caller treats it as a store error).
    std::string seal(std::string_view aad, std::string_view plain) const;

    /// The plaintext, or nullopt when `sealed` is not a sealed record, names an unknown key,
    /// was changed, or was sealed with other associated data.
    std::optional<std::string> open(std::string_view aad, std::string_view sealed) const;

    /// True when `bytes` has a sealed record's header (open() may still refuse it).
    static bool looks_sealed(std::string_view bytes) noexcept;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

/// How a store seals its records: `with` null keeps them in clear. `accept_unsealed` reads
/// a clear record (written before encryption was on) instead of refusing it.
struct record_sealing {
    std::shared_ptr<sealer const> with;
    bool accept_unsealed = false;
};

/// From store.encryption: the keys file loaded (throws std::invalid_argument naming the
/// problem, never a key), or clear records when no file is set.
record_sealing make_record_sealing(std::string const& keys_file, bool accept_unsealed);

} // namespace idemgate::store
