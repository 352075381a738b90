#include "support/gateway_config.hpp"

#include <string_view>

namespace idemgate::test {

namespace {

struct yaml_node {
    std::string value;
    std::map<std::string, yaml_node> children;
};

void render(yaml_node const& node, std::size_t depth, std::string& out) {
    for (auto const& [key, child] : node.children) {
        out += std::string(depth * 2, ' ') + key + ":";
        if (child.children.empty()) {
            out += " " + child.value + "\n";
        } else {
            out += "\n";
            render(child, depth + 1, out);
        }
    }
}

} // namespace

gateway_config& gateway_config::set(std::string const& dotted_key, std::string value) {
    values_[dotted_key] = std::move(value);
    return *this;
}

gateway_config& gateway_config::set_default(std::string const& dotted_key, std::string value) {
    values_.try_emplace(dotted_key, std::move(value));
    return *this;
}

std::string gateway_config::yaml() const {
    yaml_node root;
    for (auto const& [key, value] : values_) {
        yaml_node* node = &root;
        std::string_view rest = key;
        for (auto dot = rest.find('.'); dot != std::string_view::npos; dot = rest.find('.')) {
            node = &node->children[std::string(rest.substr(0, dot))];
            rest.remove_prefix(dot + 1);
        }
        node->children[std::string(rest)].value = value;
    }
    std::string out;
    render(root, 0, out);
    return out;
}

} // namespace idemgate::test
