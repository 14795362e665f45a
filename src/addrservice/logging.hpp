#pragma once

#include "addrservice/config.hpp"
#include "addrservice/logfmt.hpp"

#include <memory>
#include <ostream>

namespace addrservice {

/// The service's log: logfmt lines (brief or detailed) or JSON objects, one event per line, to the
/// console and optionally a rotating file. Lines are written by a background thread so the event loop
/// never waits on a terminal or a disk; every queued line is written when the Logger is destroyed.
class Logger {
public:
    /// Logs to stderr and the configured file. Throws ConfigError when the file cannot be opened.
    explicit Logger(const LoggingConfig& config);
    /// Logs to `console` instead of stderr (tests read it back).
    Logger(const LoggingConfig& config, std::ostream& console);
    ~Logger();
    Logger(const Logger&) = delete;
    Logger& operator=(const Logger&) = delete;
    Logger(Logger&&) = delete;
    Logger& operator=(Logger&&) = delete;

    /// True when a line at this level would be written somewhere (callers skip building it otherwise).
    [[nodiscard]] bool enabled(LogLevel level) const noexcept { return has_output_ && level >= config_.level; }
    void log(LogLevel level, const LogFields& fields);
    void info(const LogFields& fields) { log(LogLevel::info, fields); }
    void flush();

private:
    struct Impl;
    LoggingConfig config_;
    std::unique_ptr<Impl> impl_;
    bool has_output_ = false;
};

}  // namespace addrservice
