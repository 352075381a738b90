#pragma once
// `idemgate healthcheck`: an exec probe for orchestrators that cannot reach the pod IP
// (Docker HEALTHCHECK, Kubernetes exec probes).
#include "idemgate/config/config.hpp"

#include <string_view>

namespace idemgate::admin {

/// GETs `path` (e.g. "/livez" or "/readyz") on admin.listen (a wildcard address is asked on
/// loopback) within 2 s. Returns 0 on a 200, 1 otherwise; prints one line on failure.
int healthcheck(config::admin_config const& cfg, std::string_view path);

} // namespace idemgate::admin
