#include "idemgate/log/log.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <ctime>

namespace idemgate::log {

namespace {

bool json_format = true; // set once in setup(), before any thread starts

/// RFC 3339 UTC with milliseconds: 2026-11-27T21:11:38.123Z
std::string timestamp() {
    auto const now = std::chrono::system_clock::now();
    auto const secs = std::chrono::system_clock::to_time_t(now);
    auto const ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() %
        1000;
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<int>(ms));
    return buf;
}

template <class Json>
std::string dump(Json const& j) {
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

} // namespace

void setup(config::log_config const& cfg, bool to_stderr) {
    json_format = cfg.format == config::log_format::json;
    auto logger =
        to_stderr ? spdlog::stderr_logger_mt("idemgate") : spdlog::stdout_logger_mt("idemgate");
    logger->set_pattern("%v"); // the line is complete: timestamp and level are ours
    logger->set_level(spdlog::level::from_str(cfg.level));
    logger->flush_on(spdlog::level::trace);
    spdlog::set_default_logger(logger);
}

bool enabled(spdlog::level::level_enum lvl) noexcept {
    return spdlog::should_log(lvl);
}

void event(spdlog::level::level_enum lvl, std::string_view msg, nlohmann::json fields) {
    if (!spdlog::should_log(lvl)) return;
    auto const level = spdlog::level::to_string_view(lvl);
    std::string line;
    if (json_format) {
        nlohmann::ordered_json j{{"ts", timestamp()},
                                 {"level", std::string_view(level.data(), level.size())},
                                 {"msg", msg}};
        if (fields.is_object())
            for (auto const& [k, v] : fields.items()) j[k] = v;
        line = dump(j);
    } else {
        line = timestamp();
        line.append(" ").append(level.data(), level.size()).append(" ").append(msg);
        if (fields.is_object())
            for (auto const& [k, v] : fields.items())
                line.append(" ").append(k).append("=").append(v.is_string() ? v.get<std::string>()
                                                                            : dump(v));
    }
    spdlog::log(lvl, "{}", line);
}

void failed(std::string_view task, std::exception_ptr const& e) noexcept {
    if (!e) return;
    try {
        std::rethrow_exception(e);
    } catch (std::exception const& ex) {
        error("task ended by an exception", {{"task", task}, {"what", ex.what()}});
    } catch (...) {
        error("task ended by an exception", {{"task", task}, {"what", "not a std::exception"}});
    }
}

} // namespace idemgate::log
