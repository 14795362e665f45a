#include "addrservice/logging.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <condition_variable>
#include <iostream>
#include <mutex>
#include <stop_token>
#include <thread>
#include <vector>

namespace addrservice {

namespace {

constexpr auto flush_interval = std::chrono::milliseconds(200);
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

/// Formats each line on the caller's thread into a batch, and hands full batches (and, on flush, partial
/// ones) to its own thread, which writes them to the target sink. The caller never waits on a terminal or
/// a disk, and pays one hand-off per batch rather than a thread wake-up per line.
class BatchingSink final : public spdlog::sinks::base_sink<std::mutex> {
public:
    explicit BatchingSink(spdlog::sink_ptr target) : target_(std::move(target))
    {
        // The target writes batches as they are: already formatted, line ends included.
        target_->set_formatter(std::make_unique<spdlog::pattern_formatter>("%v", spdlog::pattern_time_type::local, ""));
        writer_ = std::thread([this] { write_batches(); });
    }

    ~BatchingSink() override
    {
        {
            const std::lock_guard sink_lock(mutex_);
            hand_off();
        }
        {
            const std::lock_guard lock(queue_mutex_);
            stopping_ = true;
        }
        queue_ready_.notify_one();
        writer_.join();  // after every queued batch is written
    }

    BatchingSink(const BatchingSink&) = delete;
    BatchingSink& operator=(const BatchingSink&) = delete;
    BatchingSink(BatchingSink&&) = delete;
    BatchingSink& operator=(BatchingSink&&) = delete;

protected:
    void sink_it_(const spdlog::details::log_msg& msg) override
    {
        spdlog::memory_buf_t line;
        formatter_->format(msg, line);
        batch_.append(line.data(), line.size());
        if (batch_.size() >= batch_bytes) {
            hand_off();
        }
    }

    void flush_() override { hand_off(); }

private:
    static constexpr std::size_t batch_bytes = std::size_t{64} * 1024;
    static constexpr std::size_t max_backlog_bytes = 64 * mebibyte;

    void hand_off()
    {
        if (batch_.empty()) {
            return;
        }
        {
            const std::lock_guard lock(queue_mutex_);
            // A stalled disk must not grow memory without bound: past the backlog, a batch is dropped.
            if (queued_bytes_ + batch_.size() <= max_backlog_bytes) {
                queued_bytes_ += batch_.size();
                queue_.push_back(std::move(batch_));
            }
        }
        queue_ready_.notify_one();
        batch_ = std::string();
        batch_.reserve(batch_bytes + 1024);
    }

    void write_batches()
    {
        std::unique_lock lock(queue_mutex_);
        for (;;) {
            queue_ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
            if (queue_.empty()) {
                return;  // stopping, and everything is written
            }
            auto batches = std::move(queue_);
            queue_.clear();
            lock.unlock();
            for (const auto& batch : batches) {
                const spdlog::details::log_msg msg(spdlog::source_loc{}, "addrservice", spdlog::level::info,
                                                   spdlog::string_view_t(batch));
                target_->log(msg);
            }
            target_->flush();
            lock.lock();
            for (const auto& batch : batches) {
                queued_bytes_ -= batch.size();
            }
        }
    }

    spdlog::sink_ptr target_;
    std::string batch_;  // guarded by base_sink's mutex_
    std::mutex queue_mutex_;
    std::condition_variable queue_ready_;
    std::vector<std::string> queue_;
    std::size_t queued_bytes_ = 0;
    bool stopping_ = false;
    std::thread writer_;
};

}  // namespace

struct Logger::Impl {
    std::shared_ptr<spdlog::logger> logfmt;  // brief/detailed console and the file
    std::shared_ptr<spdlog::logger> json;    // json console
    std::jthread flusher;

    /// In async mode each sink is wrapped in a BatchingSink; its formatter formats the lines.
    static spdlog::sink_ptr wrap(spdlog::sink_ptr sink, const std::string& pattern, const LoggingConfig& config)
    {
        if (config.async) {
            sink = std::make_shared<BatchingSink>(std::move(sink));
        }
        sink->set_formatter(make_formatter(pattern));
        return sink;
    }

    static std::shared_ptr<spdlog::logger> make_logger(const char* name, std::vector<spdlog::sink_ptr> sinks,
                                                       const LoggingConfig& config)
    {
        auto logger = std::make_shared<spdlog::logger>(name, sinks.begin(), sinks.end());
        // Tests read each line back at once. Otherwise errors are handed to the writer at once, the rest
        // (4xx warnings included: a client can send those as fast as it likes) within flush_interval.
        logger->flush_on(config.async ? spdlog::level::err : spdlog::level::trace);
        logger->set_level(to_spdlog(config.level));
        return logger;
    }

    Impl(const LoggingConfig& config, std::ostream* console)
    {
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
            logfmt_sinks.push_back(
                wrap(console_sink, config.console == ConsoleFormat::brief ? brief_pattern : detailed_pattern, config));
        }
        if (config.file) {
            try {
                auto file_sink = std::make_shared<spdlog::sinks::rotating_file_sink_mt>(
                    *config.file, config.max_size_mb * mebibyte, config.max_files);
                logfmt_sinks.push_back(wrap(file_sink, detailed_pattern, config));
            } catch (const spdlog::spdlog_ex& e) {
                throw ConfigError("config: logging.file: cannot open '" + *config.file + "': " + e.what());
            }
        }
        if (!logfmt_sinks.empty()) {
            logfmt = make_logger("logfmt", std::move(logfmt_sinks), config);
        }
        if (console_sink && config.console == ConsoleFormat::json) {
            json = make_logger("json", {wrap(console_sink, json_pattern, config)}, config);
        }
        if (config.async && (logfmt || json)) {
            start_flusher();
        }
    }

    /// Hands what the sinks hold to their writers every flush_interval, until destroyed.
    void start_flusher()
    {
        flusher = std::jthread([this](const std::stop_token& stop) {
            std::mutex mutex;
            std::condition_variable_any wake;
            std::unique_lock lock(mutex);
            while (!stop.stop_requested()) {
                wake.wait_for(lock, stop, flush_interval, [] { return false; });
                if (!stop.stop_requested()) {
                    flush();
                }
            }
        });
    }

    void flush() const
    {
        if (logfmt) {
            logfmt->flush();
        }
        if (json) {
            json->flush();
        }
    }

    ~Impl()
    {
        flusher = {};  // stopped and joined before the loggers go
        // The sinks' destructors write out every line they still hold.
        logfmt.reset();
        json.reset();
    }

    Impl(const Impl&) = delete;
    Impl& operator=(const Impl&) = delete;
    Impl(Impl&&) = delete;
    Impl& operator=(Impl&&) = delete;
};

Logger::Logger(const LoggingConfig& config)
    : config_(config), impl_(std::make_unique<Impl>(config, nullptr)), has_output_(impl_->logfmt || impl_->json)
{
}

Logger::Logger(const LoggingConfig& config, std::ostream& console)
    : config_(config), impl_(std::make_unique<Impl>(config, &console)), has_output_(impl_->logfmt || impl_->json)
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
    impl_->flush();
}

}  // namespace addrservice
