#pragma once
// Internal: the spelling of every enum value in YAML (contract §6), shared by the parser and
// to_yaml so that both directions always agree.
#include "idemgate/config/config.hpp"

#include <array>
#include <string_view>
#include <utility>

namespace idemgate::config::detail {

template <class E, std::size_t N>
using name_table = std::array<std::pair<std::string_view, E>, N>;

inline constexpr name_table<missing_key_mode, 2> missing_key_names{{
    {"passthrough", missing_key_mode::passthrough},
    {"reject", missing_key_mode::reject},
}};
inline constexpr name_table<concurrent_mode, 2> concurrent_names{{
    {"reject", concurrent_mode::reject},
    {"wait", concurrent_mode::wait},
}};
inline constexpr name_table<fingerprint_mode, 3> fingerprint_names{{
    {"body", fingerprint_mode::body},
    {"canonical_json", fingerprint_mode::canonical_json},
    {"none", fingerprint_mode::none},
}};
inline constexpr name_table<route_scope, 2> route_scope_names{{
    {"api_key", route_scope::api_key},
    {"route", route_scope::route},
}};
inline constexpr name_table<store_backend, 2> backend_names{{
    {"memory", store_backend::memory},
    {"redis", store_backend::redis},
}};
inline constexpr name_table<redis_mode, 3> redis_mode_names{{
    {"standalone", redis_mode::standalone},
    {"cluster", redis_mode::cluster},
    {"sentinel", redis_mode::sentinel},
}};
inline constexpr name_table<unavailable_mode, 2> unavailable_names{{
    {"fail_closed", unavailable_mode::fail_closed},
    {"fail_open", unavailable_mode::fail_open},
}};
inline constexpr name_table<log_format, 2> log_format_names{{
    {"json", log_format::json},
    {"text", log_format::text},
}};

inline constexpr name_table<underscores_mode, 3> underscores_names{{
    {"drop", underscores_mode::drop},
    {"reject", underscores_mode::reject},
    {"allow", underscores_mode::allow},
}};

inline constexpr name_table<tls_version, 2> tls_version_names{{
    {"1.2", tls_version::v1_2},
    {"1.3", tls_version::v1_3},
}};

/// log.level is a string in config (spdlog's names); these are the accepted ones.
inline constexpr std::array<std::string_view, 7> log_level_names{
    "trace", "debug", "info", "warn", "error", "critical", "off"};

template <class E, std::size_t N>
constexpr std::string_view name_in(name_table<E, N> const& table, E value) noexcept {
    for (auto const& [name, e] : table) {
        if (e == value) return name;
    }
    return "?";
}

} // namespace idemgate::config::detail
