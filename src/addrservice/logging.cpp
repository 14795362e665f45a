#include "addrservice/logging.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <array>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <iostream>
#include <limits>
#include <mutex>
#include <stop_token>
#include <string>
#include <string_view>
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

std::string_view level_name(spdlog::level::level_enum level) noexcept
{
    switch (level) {
        case spdlog::level::trace:
            return "TRACE";
        case spdlog::level::debug:
            return "DEBUG";
        case spdlog::level::info:
            return "INFO";
        case spdlog::level::warn:
            return "WARNING";
        case spdlog::level::err:
            return "ERROR";
        default:
            return "CRITICAL";
    }
}

enum class LineForm { detailed, brief, json };

/// Formats one line, the fields last as the caller made them:
///   detailed  2026-11-26 10:04:01.123 addrservice INFO : fields
///   brief     10:04:01.123 INFO : fields
///   json      {"time":"2026-11-26T10:04:01.123+01:00","level":"INFO","logger":"addrservice",fields}
/// in local time. The text up to the second is made once a second and reused by every line of that
/// second, and a line is written into room made for it at once: a few copies, where a general pattern
/// formatter costs a call per element and a check per append.
class LineFormat {
public:
    explicit LineFormat(LineForm form) : form_(form) {}

    /// Appends the line of msg, its line end included, to out (a std::string or an spdlog buffer).
    template <typename Buffer>
    void append(Buffer& out, const spdlog::details::log_msg& msg)
    {
        const auto since_epoch = msg.time.time_since_epoch();
        const auto second = std::chrono::floor<std::chrono::seconds>(since_epoch);
        if (second.count() != cached_second_) {
            remake_second(second.count());
        }
        const auto millis =
            static_cast<unsigned>(std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch - second).count());
        const auto level = level_name(msg.level);
        const std::string_view fields(msg.payload.data(), msg.payload.size());

        const auto start = out.size();
        out.resize(start + second_text_.size() + zone_text_.size() + fields.size() + longest_rest);
        char* at = out.data() + start;  // NOLINT(cppcoreguidelines-pro-bounds-pointer-arithmetic)
        auto put = [&at](std::string_view text) {
            std::memcpy(at, text.data(), text.size());
            at += text.size();  // NOLINT(cppcoreguidelines-pro-bounds-pointer-arithmetic)
        };
        put(second_text_);
        const std::array<char, 4> fraction{'.', static_cast<char>('0' + millis / 100 % 10),
                                           static_cast<char>('0' + millis / 10 % 10),
                                           static_cast<char>('0' + millis % 10)};
        put(std::string_view(fraction.data(), fraction.size()));
        switch (form_) {
            case LineForm::detailed:
                put(" addrservice ");
                put(level);
                put(" : ");
                put(fields);
                break;
            case LineForm::brief:
                put(" ");
                put(level);
                put(" : ");
                put(fields);
                break;
            case LineForm::json:
                put(zone_text_);
                put(R"(","level":")");
                put(level);
                put(R"(","logger":"addrservice",)");
                put(fields);
                put("}");
                break;
        }
        put("\n");
        out.resize(static_cast<std::size_t>(at - out.data()));
    }

private:
    /// The most a line takes besides its time to the second, its zone and its fields.
    static constexpr std::size_t longest_rest = 64;

    void remake_second(std::int64_t second)
    {
        const std::time_t time = second;
        std::tm local{};
        ::localtime_r(&time, &local);
        std::array<char, 64> text{};
        std::size_t size = 0;
        switch (form_) {
            case LineForm::detailed:
                size = std::strftime(text.data(), text.size(), "%Y-%m-%d %H:%M:%S", &local);
                break;
            case LineForm::brief:
                size = std::strftime(text.data(), text.size(), "%H:%M:%S", &local);
                break;
            case LineForm::json:
                size = std::strftime(text.data(), text.size(), R"({"time":"%Y-%m-%dT%H:%M:%S)", &local);
                break;
        }
        second_text_.assign(text.data(), size);
        // The offset from UTC as +hh:mm.
        const auto offset_minutes = local.tm_gmtoff / 60;
        const auto minutes = offset_minutes < 0 ? -offset_minutes : offset_minutes;
        zone_text_ = offset_minutes < 0 ? "-" : "+";
        zone_text_ += static_cast<char>('0' + minutes / 600 % 10);
        zone_text_ += static_cast<char>('0' + minutes / 60 % 10);
        zone_text_ += ':';
        zone_text_ += static_cast<char>('0' + minutes % 60 / 10);
        zone_text_ += static_cast<char>('0' + minutes % 10);
        cached_second_ = second;
    }

    LineForm form_;
    std::int64_t cached_second_ = std::numeric_limits<std::int64_t>::min();
    std::string second_text_;
    std::string zone_text_;
};

/// LineFormat as an spdlog formatter, for sinks written on the caller's thread (async off, where a test reads
/// lines back at once).
class LineFormatter final : public spdlog::formatter {
public:
    explicit LineFormatter(LineForm form) : form_(form), format_(form) {}

    void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override { format_.append(dest, msg); }

    [[nodiscard]] std::unique_ptr<spdlog::formatter> clone() const override
    {
        return std::make_unique<LineFormatter>(form_);
    }

private:
    LineForm form_;
    LineFormat format_;
};

std::unique_ptr<spdlog::formatter> make_formatter(LineForm form)
{
    return std::make_unique<LineFormatter>(form);
}

/// Formats each line on the caller's thread into a batch, and hands full batches (and, on flush, partial
/// ones) to its own thread, which writes them to the target sink. The caller never waits on a terminal or
/// a disk, and pays one hand-off per batch rather than a thread wake-up per line.
class BatchingSink final : public spdlog::sinks::base_sink<std::mutex> {
public:
    BatchingSink(spdlog::sink_ptr target, LineForm form) : format_(form), target_(std::move(target))
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
        format_.append(batch_, msg);  // straight into the batch
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

    /// Writes one batch. A target that cannot be written (a full disk, a rotation that failed) loses the
    /// batch, never the service: the first failure of a run of them is said on stderr, once.
    void write(const std::string& batch) noexcept
    {
        try {
            const spdlog::details::log_msg msg(spdlog::source_loc{}, "addrservice", spdlog::level::info,
                                               spdlog::string_view_t(batch));
            target_->log(msg);
            target_->flush();
            failing_ = false;
        } catch (const std::exception& e) {
            if (!failing_) {
                failing_ = true;
                // Nothing more can be done if stderr fails too.
                static_cast<void>(std::fputs("addrservice: log lines lost: ", stderr));
                static_cast<void>(std::fputs(e.what(), stderr));
                static_cast<void>(std::fputs("\n", stderr));
            }
        }
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
                write(batch);
            }
            lock.lock();
            for (const auto& batch : batches) {
                queued_bytes_ -= batch.size();
            }
        }
    }

    LineFormat format_;  // guarded by base_sink's mutex_
    spdlog::sink_ptr target_;
    std::string batch_;  // guarded by base_sink's mutex_
    std::mutex queue_mutex_;
    std::condition_variable queue_ready_;
    std::vector<std::string> queue_;
    std::size_t queued_bytes_ = 0;
    bool failing_ = false;  // the writer's thread's own
    bool stopping_ = false;
    std::thread writer_;
};

}  // namespace

struct Logger::Impl {
    std::shared_ptr<spdlog::logger> logfmt;  // brief/detailed console and the file
    std::shared_ptr<spdlog::logger> json;    // json console
    std::jthread flusher;

    /// In async mode each sink is wrapped in a BatchingSink, which formats the lines; else the sink's own
    /// formatter does.
    static spdlog::sink_ptr wrap(spdlog::sink_ptr sink, LineForm form, const LoggingConfig& config)
    {
        if (config.async) {
            return std::make_shared<BatchingSink>(std::move(sink), form);
        }
        sink->set_formatter(make_formatter(form));
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
            logfmt_sinks.push_back(wrap(
                console_sink, config.console == ConsoleFormat::brief ? LineForm::brief : LineForm::detailed, config));
        }
        if (config.file) {
            try {
                auto file_sink = std::make_shared<spdlog::sinks::rotating_file_sink_mt>(
                    *config.file, config.max_size_mb * mebibyte, config.max_files);
                logfmt_sinks.push_back(wrap(file_sink, LineForm::detailed, config));
            } catch (const spdlog::spdlog_ex& e) {
                throw ConfigError("config: logging.file: cannot open '" + *config.file + "': " + e.what());
            }
        }
        if (!logfmt_sinks.empty()) {
            logfmt = make_logger("logfmt", std::move(logfmt_sinks), config);
        }
        if (console_sink && config.console == ConsoleFormat::json) {
            json = make_logger("json", {wrap(console_sink, LineForm::json, config)}, config);
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
    // The fields are written into a buffer this thread keeps: its room stays from line to line.
    thread_local std::string text;
    if (impl_->logfmt) {
        text.clear();
        fields.append_logfmt(text);
        impl_->logfmt->log(spd_level, spdlog::string_view_t(text));
    }
    if (impl_->json) {
        text.clear();
        fields.append_json_members(text);
        impl_->json->log(spd_level, spdlog::string_view_t(text));
    }
    constexpr std::size_t kept_room = std::size_t{64} * 1024;
    if (text.capacity() > kept_room) {
        text = std::string();  // a line of a huge value (a 1 MB path) does not keep its room for good
    }
}

void Logger::flush()
{
    impl_->flush();
}

}  // namespace addrservice
