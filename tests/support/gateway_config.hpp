#pragma once
// The YAML config a test gives the gateway, built from dotted keys so that a test states
// only what it changes and the fixture fills the rest.
#include <map>
#include <string>

namespace idemgate::test {

/// A YAML config built from dotted keys: set("idempotency.lock_ttl", "300ms"). Values are
/// YAML scalars or flow collections written as is ("[POST, PATCH]", "{a: 1}").
class gateway_config {
public:
    gateway_config& set(std::string const& dotted_key, std::string value);
    /// Sets the key only when the test did not set it already (fixture defaults).
    gateway_config& set_default(std::string const& dotted_key, std::string value);
    bool has(std::string const& dotted_key) const { return values_.count(dotted_key) != 0; }
    /// Nested block YAML, keys in sorted order; a key that is also a parent of others is
    /// rendered as the parent.
    std::string yaml() const;

private:
    std::map<std::string, std::string> values_;
};

} // namespace idemgate::test
