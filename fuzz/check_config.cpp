#include "checks.hpp"

#include "addrservice/config.hpp"

#include <yaml-cpp/yaml.h>

#include <optional>
#include <set>
#include <string>
#include <typeinfo>

namespace addrservice::fuzz {

namespace {

[[noreturn]] void fail(const std::string& what, std::string_view text)
{
    throw Finding("config: " + what + "\n  text: " + std::string(text.substr(0, 2000)));
}

/// The first key given twice in a mapping, if any.
std::optional<std::string> duplicate_key(const YAML::Node& node)
{
    if (!node.IsMap()) {
        return std::nullopt;
    }
    std::set<std::string> seen;
    for (const auto& item : node) {
        if (item.first.IsScalar() && !seen.insert(item.first.Scalar()).second) {
            return item.first.Scalar();
        }
    }
    return std::nullopt;
}

/// A key given twice at the top level or in one of its sections: the loader reads one of the two
/// values and silently drops the other, so it must refuse the file instead.
std::optional<std::string> duplicate_config_key(const std::string& text)
{
    YAML::Node root;
    try {
        root = YAML::Load(text);
    } catch (const YAML::Exception&) {
        return std::nullopt;
    }
    if (auto key = duplicate_key(root)) {
        return key;
    }
    if (root.IsMap()) {
        for (const auto& section : root) {
            if (auto key = duplicate_key(section.second)) {
                return key;
            }
        }
    }
    return std::nullopt;
}

}  // namespace

void check_config(std::string_view input)
{
    const std::string text(input);
    try {
        static_cast<void>(load_config_text(text, "fuzz.yaml"));
    } catch (const ConfigError& e) {
        if (std::string_view(e.what()).substr(0, 8) != "config: ") {
            fail(std::string("a ConfigError message that does not start with 'config: ': ") + e.what(), input);
        }
        // It is printed as the one line on stderr that names the cause.
        if (std::string_view(e.what()).find_first_of("\r\n") != std::string_view::npos) {
            fail(std::string("a ConfigError message of more than one line: ") + e.what(), input);
        }
        return;
    } catch (const std::exception& e) {
        fail(std::string("unexpected exception ") + typeid(e).name() + ": " + e.what(), input);
    } catch (...) {
        fail("unexpected exception of a type not derived from std::exception", input);
    }
    if (const auto key = duplicate_config_key(text)) {
        fail("loaded although the key '" + *key + "' is given twice", input);
    }
}

}  // namespace addrservice::fuzz
