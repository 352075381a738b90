#pragma once
// Structured logging on stdout: one JSON object per line (log.format json) or a readable
// line (text). Fields are built with nlohmann::json, which escapes what clients send.
#include "idemgate/config/config.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/common.h>

#include <exception>
#include <string_view>

namespace idemgate::log {

/// Installs the process logger (stdout; stderr with `to_stderr`, for commands whose stdout is
/// their answer). Call once at startup, before threads start.
void setup(config::log_config const& cfg, bool to_stderr = false);

/// True when `lvl` would be written; check before building fields on hot paths.
bool enabled(spdlog::level::level_enum lvl) noexcept;

/// Writes one event: `msg` plus `fields` (an object). Thread-safe. Never log an API key,
/// a token or a body.
void event(spdlog::level::level_enum lvl, std::string_view msg, nlohmann::json fields = {});

inline void info(std::string_view msg, nlohmann::json fields = {}) {
    event(spdlog::level::info, msg, std::move(fields));
}
inline void warn(std::string_view msg, nlohmann::json fields = {}) {
    event(spdlog::level::warn, msg, std::move(fields));
}
inline void error(std::string_view msg, nlohmann::json fields = {}) {
    event(spdlog::level::err, msg, std::move(fields));
}

/// Logs that `task` ended by the exception `e` (nothing when `e` is null), with its what().
void failed(std::string_view task, std::exception_ptr const& e) noexcept;

/// A co_spawn completion handler for work nobody awaits: an exception it ends with would
/// otherwise vanish (architecture.md), so it is logged with its what().
struct on_failure {
    std::string_view task; // a literal: outlives the task
    void operator()(std::exception_ptr const& e) const noexcept { failed(task, e); }
};

} // namespace idemgate::log
