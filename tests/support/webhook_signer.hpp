#pragma once
// Signs test webhook deliveries with the Standard Webhooks reference implementation (npm
// `standardwebhooks`, pinned by tests/support/webhook_signer/package-lock.json), run with
// node. `npm ci` runs once per lock into <build>/webhook_signer (next to the idemgate binary).
#include <cstdint>
#include <string>

namespace idemgate::test {

/// Whether node and npm are on PATH (a test skips without them).
bool reference_signer_available();

/// The webhook-signature value the reference implementation gives for (secret
/// "whsec_<base64>", id, timestamp in seconds, body). Throws std::runtime_error when npm ci or
/// node fails.
std::string reference_signature(std::string const& secret, std::string const& id,
                                std::int64_t timestamp, std::string const& body);

} // namespace idemgate::test
