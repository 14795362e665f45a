#include "addrservice/config.hpp"

#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <sstream>

namespace addrservice {

namespace {

[[noreturn]] void fail(const std::string& key, const std::string& what)
{
    throw ConfigError("config: " + key + ": " + what);
}

std::string describe_node(const YAML::Node& node)
{
    switch (node.Type()) {
        case YAML::NodeType::Scalar:
            return "'" + node.Scalar() + "'";
        case YAML::NodeType::Sequence:
            return "a list";
        case YAML::NodeType::Map:
            return "a mapping";
        case YAML::NodeType::Null:
            return "nothing";
        default:
            return "an undefined value";
    }
}

std::string read_string(const YAML::Node& node, const std::string& key)
{
    if (!node.IsScalar() || node.Scalar().empty()) {
        fail(key, "expected a non-empty string, got " + describe_node(node));
    }
    return node.Scalar();
}

template <typename Unsigned>
Unsigned read_unsigned(const YAML::Node& node, const std::string& key, Unsigned minimum)
{
    const auto expected = minimum > 0 ? std::string("a positive integer") : std::string("a non-negative integer");
    if (!node.IsScalar()) {
        fail(key, "expected " + expected + ", got " + describe_node(node));
    }
    const auto& text = node.Scalar();
    Unsigned value{};
    const auto* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (ec != std::errc() || ptr != end || value < minimum) {
        fail(key, "expected " + expected + ", got '" + text + "'");
    }
    return value;
}

/// What a key's value is handed to: the value, and the key's dotted path for error messages.
using KeyHandler = std::function<void(const YAML::Node&, const std::string&)>;

/// A handler that reads a non-empty string into field (a std::string or an optional one).
template <typename Text>
KeyHandler into(Text& field)
{
    return [&field](const YAML::Node& node, const std::string& key) { field = read_string(node, key); };
}

/// A handler that reads an unsigned integer of at least minimum into field.
template <typename Unsigned>
KeyHandler into(Unsigned& field, Unsigned minimum)
{
    return [&field, minimum](const YAML::Node& node, const std::string& key) {
        field = read_unsigned<Unsigned>(node, key, minimum);
    };
}

/// A handler that reads a string and parses it into field; parse throws ConfigError on a bad value.
template <typename Value>
KeyHandler into(Value& field, Value (*parse)(std::string_view))
{
    return [&field, parse](const YAML::Node& node, const std::string& key) {
        const auto text = read_string(node, key);
        try {
            field = parse(text);
        } catch (const ConfigError& e) {
            fail(key, e.what());
        }
    };
}

/// Calls the handler of each key of a mapping; an unknown key is an error naming it.
void for_each_key(const YAML::Node& node, const std::string& path, const std::map<std::string, KeyHandler>& handlers)
{
    if (!node.IsMap()) {
        fail(path.empty() ? std::string("(top level)") : path, "expected a mapping, got " + describe_node(node));
    }
    for (const auto& item : node) {
        const auto name = item.first.as<std::string>();
        std::string key = path;
        if (!key.empty()) {
            key += '.';
        }
        key += name;
        const auto handler = handlers.find(name);
        if (handler == handlers.end()) {
            fail(key, "unknown key");
        }
        handler->second(item.second, key);
    }
}

void read_store(const YAML::Node& node, const std::string& key, StoreConfig& store)
{
    static const std::map<std::string, StoreConfig::Kind> kinds{{"memory", StoreConfig::Kind::memory},
                                                                {"fs", StoreConfig::Kind::fs},
                                                                {"sqlite", StoreConfig::Kind::sqlite},
                                                                {"postgres", StoreConfig::Kind::postgres}};
    if (!node.IsMap() || node.size() != 1) {
        fail(key, "expected exactly one of memory|fs|sqlite|postgres");
    }
    const auto item = *node.begin();
    const auto name = item.first.as<std::string>();
    const auto kind = kinds.find(name);
    if (kind == kinds.end()) {
        fail(key, "expected exactly one of memory|fs|sqlite|postgres, got '" + name + "'");
    }
    store.kind = kind->second;
    if (store.kind == StoreConfig::Kind::memory) {
        if (!item.second.IsNull()) {
            fail(key + ".memory", "expected null, got " + describe_node(item.second));
        }
        store.location.clear();
    } else {
        store.location = read_string(item.second, key + "." + name);
    }
}

}  // namespace

Config load_config_text(const std::string& text, const std::string& source)
{
    YAML::Node root;
    try {
        root = YAML::Load(text);
    } catch (const YAML::Exception& e) {
        throw ConfigError("config: " + source + ":" + std::to_string(e.mark.line + 1) + ":" +
                          std::to_string(e.mark.column + 1) + ": " + e.msg);
    }
    Config config;
    if (root.IsNull()) {
        return config;  // an empty file: every default
    }
    try {
        for_each_key(root, "",
                     {
                         {"service",
                          [&](const YAML::Node& node, const std::string& path) {
                              for_each_key(node, path, {{"name", into(config.service_name)}});
                          }},
                         {"addr-db", [&](const YAML::Node& node,
                                         const std::string& path) { read_store(node, path, config.store); }},
                         {"logging",
                          [&](const YAML::Node& node, const std::string& path) {
                              auto& logging = config.logging;
                              for_each_key(node, path,
                                           {
                                               {"level", into(logging.level, &parse_log_level)},
                                               {"console", into(logging.console, &parse_console_format)},
                                               {"file", into(logging.file)},
                                               {"max_size_mb", into(logging.max_size_mb, std::size_t{1})},
                                               {"max_files", into(logging.max_files, std::size_t{0})},
                                           });
                          }},
                         {"limits",
                          [&](const YAML::Node& node, const std::string& path) {
                              auto& limits = config.limits;
                              for_each_key(node, path,
                                           {
                                               {"max_body_bytes", into(limits.max_body_bytes, std::size_t{1})},
                                               {"max_header_bytes", into(limits.max_header_bytes, std::size_t{1})},
                                               {"header_timeout_s", into(limits.header_timeout_s, std::uint32_t{1})},
                                               {"idle_timeout_s", into(limits.idle_timeout_s, std::uint32_t{1})},
                                               {"max_connections", into(limits.max_connections, std::size_t{1})},
                                               {"max_page", into(limits.max_page, std::size_t{1})},
                                           });
                          }},
                     });
    } catch (const YAML::Exception& e) {
        throw ConfigError("config: " + source + ": " + e.msg);
    }
    return config;
}

Config load_config_file(const std::string& path)
{
    const std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw ConfigError("config: cannot read '" + path +
                          "': " + std::strerror(errno));  // NOLINT(concurrency-mt-unsafe)
    }
    std::ostringstream text;
    text << in.rdbuf();
    return load_config_text(text.str(), path);
}

LogLevel parse_log_level(std::string_view text)
{
    if (text == "trace") {
        return LogLevel::trace;
    }
    if (text == "debug") {
        return LogLevel::debug;
    }
    if (text == "info") {
        return LogLevel::info;
    }
    if (text == "warning") {
        return LogLevel::warning;
    }
    if (text == "error") {
        return LogLevel::error;
    }
    throw ConfigError("expected one of trace|debug|info|warning|error, got '" + std::string(text) + "'");
}

ConsoleFormat parse_console_format(std::string_view text)
{
    if (text == "brief") {
        return ConsoleFormat::brief;
    }
    if (text == "detailed") {
        return ConsoleFormat::detailed;
    }
    if (text == "json") {
        return ConsoleFormat::json;
    }
    if (text == "off") {
        return ConsoleFormat::off;
    }
    throw ConfigError("expected one of brief|detailed|json|off, got '" + std::string(text) + "'");
}

std::string_view to_string(LogLevel level) noexcept
{
    switch (level) {
        case LogLevel::trace:
            return "TRACE";
        case LogLevel::debug:
            return "DEBUG";
        case LogLevel::info:
            return "INFO";
        case LogLevel::warning:
            return "WARNING";
        case LogLevel::error:
            return "ERROR";
    }
    return "INFO";
}

std::string describe(const StoreConfig& store)
{
    switch (store.kind) {
        case StoreConfig::Kind::memory:
            return "memory";
        case StoreConfig::Kind::fs:
            return "fs:" + store.location;
        case StoreConfig::Kind::sqlite:
            return "sqlite:" + store.location;
        case StoreConfig::Kind::postgres:
            return "postgres:" + store.location;
    }
    return "memory";
}

}  // namespace addrservice
