#include "addrservice/config.hpp"

namespace addrservice {

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
