#include "addrservice/logging.hpp"

#include <spdlog/async.h>
#include <spdlog/async_logger.h>
#include <spdlog/details/thread_pool.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <iostream>
#include <vector>

namespace addrservice {

namespace {

constexpr std::size_t queue_size = 16384;
constexpr std::size_t mebibyte = std::size_t{1024} * 1024;

spdlog::level::level_enum to_spdlog(LogLevel level)
{
    switch (level) {
        case LogLevel::trace:
            return spdlog::level::trace;
        case LogLevel::debug:
            return spdlog::level::debug;
        case LogLevel::info:
            return spdlog::level::info;
        case LogLevel::warning:
            return spdlog::level::warn;
        case LogLevel::error:
            return spdlog::level::err;
    }
    return spdlog::level::info;
}

/// %L as our level names: TRACE, DEBUG, INFO, WARNING, ERROR.
class LevelFlag final : public spdlog::custom_flag_formatter {
public:
    void format(const spdlog::details::log_msg& msg, const std::tm& /*time*/, spdlog::memory_buf_t& dest) override
    {
        std::string_view name;
        switch (msg.level) {
            case spdlog::level::trace:
                name = "TRACE";
                break;
            case spdlog::level::debug:
                name = "DEBUG";
                break;
            case spdlog::level::info:
                name = "INFO";
                break;
            case spdlog::level::warn:
                name = "WARNING";
                break;
            case spdlog::level::err:
                name = "ERROR";
                break;
            default:
                name = "CRITICAL";
                break;
        }
        dest.append(name.data(), name.data() + name.size());
    }

    [[nodiscard]] std::unique_ptr<custom_flag_formatter> clone() const override
    {
        return std::make_unique<LevelFlag>();
    }
};

std::unique_ptr<spdlog::formatter> make_formatter(const std::string& pattern)
{
    auto formatter = std::make_unique<spdlog::pattern_formatter>();
    formatter->add_flag<LevelFlag>('*').set_pattern(pattern);
    return formatter;
}

const std::string detailed_pattern = "%Y-%m-%d %H:%M:%S.%e addrservice %* : %v";
const std::string brief_pattern = "%H:%M:%S.%e %* : %v";
// %v is already a sequence of JSON members made by a JSON serializer; time and level are fixed-form text.
const std::string json_pattern = R"({"time":"%Y-%m-%dT%H:%M:%S.%e%z","level":"%*","logger":"addrservice",%v})";

}  // namespace

struct Logger::Impl {
    std::shared_ptr<spdlog::details::thread_pool> pool;
    std::shared_ptr<spdlog::logger> logfmt;  // brief/detailed console and the file
    std::shared_ptr<spdlog::logger> json;    // json console

    std::shared_ptr<spdlog::logger> make_logger(const char* name, std::vector<spdlog::sink_ptr> sinks,
                                                const LoggingConfig& config)
    {
        std::shared_ptr<spdlog::logger> logger;
        if (config.async) {
            // Never block the event loop: when the queue is full the oldest line gives way.
            logger = std::make_shared<spdlog::async_logger>(name, sinks.begin(), sinks.end(), pool,
                                                            spdlog::async_overflow_policy::overrun_oldest);
        } else {
            logger = std::make_shared<spdlog::logger>(name, sinks.begin(), sinks.end());
        }
        logger->flush_on(spdlog::level::trace);
        // Each line is written out as it is logged (on the logging thread when async), so `tail -f` sees
        // it at once and a crash loses nothing held in a buffer; the event loop only enqueues.
        logger->set_level(to_spdlog(config.level));
        return logger;
    }

    Impl(const LoggingConfig& config, std::ostream* console)
    {
        if (config.async) {
            pool = std::make_shared<spdlog::details::thread_pool>(queue_size, 1);
        }
        spdlog::sink_ptr console_sink;
        if (config.console != ConsoleFormat::off) {
            if (console != nullptr) {
                console_sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(*console, true);
            } else {
                console_sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
            }
        }
        std::vector<spdlog::sink_ptr> logfmt_sinks;
        if (console_sink && config.console != ConsoleFormat::json) {
            console_sink->set_formatter(
                make_formatter(config.console == ConsoleFormat::brief ? brief_pattern : detailed_pattern));
            logfmt_sinks.push_back(console_sink);
        }
        if (config.file) {
            try {
                auto file_sink = std::make_shared<spdlog::sinks::rotating_file_sink_mt>(
                    *config.file, config.max_size_mb * mebibyte, config.max_files);
                file_sink->set_formatter(make_formatter(detailed_pattern));
                logfmt_sinks.push_back(file_sink);
            } catch (const spdlog::spdlog_ex& e) {
                throw ConfigError("logging.file: cannot open '" + *config.file + "': " + e.what());
            }
        }
        if (!logfmt_sinks.empty()) {
            logfmt = make_logger("logfmt", std::move(logfmt_sinks), config);
        }
        if (console_sink && config.console == ConsoleFormat::json) {
            console_sink->set_formatter(make_formatter(json_pattern));
            json = make_logger("json", {console_sink}, config);
        }
    }

    ~Impl()
    {
        logfmt.reset();
        json.reset();
        // The pool's destructor writes out every queued line before joining its thread.
        pool.reset();
    }

    Impl(const Impl&) = delete;
    Impl& operator=(const Impl&) = delete;
    Impl(Impl&&) = delete;
    Impl& operator=(Impl&&) = delete;
};

Logger::Logger(const LoggingConfig& config) : config_(config), impl_(std::make_unique<Impl>(config, nullptr)) {}

Logger::Logger(const LoggingConfig& config, std::ostream& console)
    : config_(config), impl_(std::make_unique<Impl>(config, &console))
{
}

Logger::~Logger() = default;

void Logger::log(LogLevel level, const LogFields& fields)
{
    if (!enabled(level)) {
        return;
    }
    const auto spd_level = to_spdlog(level);
    if (impl_->logfmt) {
        impl_->logfmt->log(spd_level, spdlog::string_view_t(fields.to_logfmt()));
    }
    if (impl_->json) {
        impl_->json->log(spd_level, spdlog::string_view_t(fields.to_json_members()));
    }
}

void Logger::flush()
{
    if (impl_->logfmt) {
        impl_->logfmt->flush();
    }
    if (impl_->json) {
        impl_->json->flush();
    }
}

}  // namespace addrservice
