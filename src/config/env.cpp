#include "idemgate/config/env.hpp"
#include "idemgate/config/url.hpp"

#include <cstdlib>
#include <fstream>

namespace idemgate::config {
namespace {

constexpr std::size_t max_secret_bytes = 64 * 1024;

bool is_name_start(char c) noexcept {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}
bool is_name_char(char c) noexcept {
    return is_name_start(c) || (c >= '0' && c <= '9');
}

bool is_valid_name(std::string_view name) noexcept {
    if (name.empty() || !is_name_start(name.front())) return false;
    for (char const c : name) {
        if (!is_name_char(c)) return false;
    }
    return true;
}

/// The value of one `${...}` body ("VAR" or "VAR:-default"), or an error.
text_result substitute(std::string_view body, env_lookup const& env) {
    auto const sep = body.find(":-");
    auto const name = body.substr(0, sep);
    if (!is_valid_name(name)) {
        return {{}, "invalid variable name \"" + std::string(name) + "\" in ${...}"};
    }
    auto value = env(std::string(name));
    if (sep == std::string_view::npos) {
        if (!value) return {{}, "environment variable " + std::string(name) + " is not set"};
        return {std::move(*value), {}};
    }
    auto const fallback = body.substr(sep + 2);
    if (fallback.find("${") != std::string_view::npos) {
        return {{}, "nested ${...} in a default is not supported"};
    }
    if (!value || value->empty()) return {std::string(fallback), {}};
    return {std::move(*value), {}};
}

} // namespace

env_lookup process_env() {
    return [](std::string const& name) -> std::optional<std::string> {
        // Read once at startup, before any thread could call setenv.
        char const* value = std::getenv(name.c_str()); // NOLINT(concurrency-mt-unsafe)
        if (value == nullptr) return std::nullopt;
        return std::string(value);
    };
}

text_result expand_env(std::string_view text, env_lookup const& env) {
    text_result out;
    std::size_t i = 0;
    while (i < text.size()) {
        if (text.compare(i, 3, "$${") == 0) { // escaped: a literal "${"
            out.value += "${";
            i += 3;
            continue;
        }
        if (text.compare(i, 2, "${") != 0) {
            out.value += text[i++];
            continue;
        }
        auto const close = text.find('}', i + 2);
        if (close == std::string_view::npos) return {{}, "unterminated ${ (missing })"};
        auto part = substitute(text.substr(i + 2, close - i - 2), env);
        if (!part.ok()) return part;
        out.value += part.value;
        i = close + 1;
    }
    return out;
}

std::string override_variable(std::string_view key_path) {
    std::string name = "IDEMGATE_";
    for (char const c : key_path) {
        if (c == '.') {
            name += '_';
        } else if (c >= 'a' && c <= 'z') {
            name += static_cast<char>(c - 'a' + 'A');
        } else {
            name += c;
        }
    }
    return name;
}

std::vector<std::string> split_list(std::string_view text) {
    std::vector<std::string> items;
    if (text.find_first_not_of(" \t") == std::string_view::npos) return items;
    std::size_t start = 0;
    while (true) {
        auto const comma = text.find(',', start);
        auto item = text.substr(start, comma == std::string_view::npos ? text.npos : comma - start);
        auto const first = item.find_first_not_of(" \t");
        auto const last = item.find_last_not_of(" \t");
        items.emplace_back(first == item.npos ? std::string_view{}
                                              : item.substr(first, last - first + 1));
        if (comma == std::string_view::npos) break;
        start = comma + 1;
    }
    return items;
}

text_result read_secret_file(std::string const& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return {{}, "cannot open secret file \"" + path + "\""};
    std::string content(max_secret_bytes + 1, '\0');
    in.read(content.data(), static_cast<std::streamsize>(content.size()));
    if (in.bad()) return {{}, "cannot read secret file \"" + path + "\""};
    content.resize(static_cast<std::size_t>(in.gcount()));
    if (content.size() > max_secret_bytes) {
        return {{}, "secret file \"" + path + "\" is larger than 64KiB"};
    }
    while (!content.empty() && (content.back() == '\n' || content.back() == '\r')) {
        content.pop_back();
    }
    if (content.empty()) return {{}, "secret file \"" + path + "\" is empty"};
    return {std::move(content), {}};
}

std::string redacted_url(std::string_view url) {
    // The user info the URL parser would read, found the same way (url.hpp), so that a URL
    // it refuses is hidden as well as one it accepts.
    auto const info = find_userinfo(url);
    if (!info) return std::string(url);
    auto const userinfo = url.substr(info->begin, info->end - info->begin);
    auto const colon = userinfo.find(':');
    std::string out(url.substr(0, info->begin));
    if (colon != std::string_view::npos) out += userinfo.substr(0, colon + 1);
    out += redacted_text;
    out += url.substr(info->end);
    return out;
}

} // namespace idemgate::config
