#pragma once
// Where configuration text comes from besides the file itself: `${VAR}` in values,
// IDEMGATE_* override variables and `*_file` secrets; and how secrets are hidden in output.
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace idemgate::config {

/// Looks up one environment variable by name; nullopt when unset. Injected by tests.
using env_lookup = std::function<std::optional<std::string>(std::string const&)>;

/// The process environment (std::getenv).
env_lookup process_env();

/// A text, or why there is none.
struct text_result {
    std::string value;
    std::string error; // non-empty: `value` is unusable
    bool ok() const noexcept { return error.empty(); }
};

/// Expands `${VAR}` and `${VAR:-default}` in `text`, like a POSIX shell: the default is used
/// when VAR is unset or empty. `$${` stands for a literal `${`; any other `$` is kept as is.
/// Errors: VAR unset without a default, an unterminated `${`, a name that is not
/// [A-Za-z_][A-Za-z0-9_]*, and `${` inside a default (no nesting).
text_result expand_env(std::string_view text, env_lookup const& env);

/// The variable that overrides a key: "store.redis.url" -> "IDEMGATE_STORE_REDIS_URL".
std::string override_variable(std::string_view key_path);

/// Splits an override variable's list value: "POST, PATCH" -> {"POST", "PATCH"}; items are
/// trimmed of spaces and tabs; "" is the empty list.
std::vector<std::string> split_list(std::string_view text);

/// Reads a secret from a file (Docker/Kubernetes secrets): its content without trailing CR/LF.
/// A missing, unreadable, empty or larger than 64 KiB file is an error.
text_result read_secret_file(std::string const& path);

/// What replaces a secret in any output.
inline constexpr std::string_view redacted_text = "***";

/// The URL with the password of its user info replaced by "***":
/// "redis://app:pw@h:6379/0" -> "redis://app:***@h:6379/0". A user info without ':' is the
/// password (url.hpp) and is replaced whole ("redis://pw@h" -> "redis://***@h"). A URL
/// without user info is returned unchanged; any text is accepted, a valid URL or not.
std::string redacted_url(std::string_view url);

} // namespace idemgate::config
