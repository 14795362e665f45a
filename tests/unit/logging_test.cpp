#include "addrservice/logging.hpp"

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace addrservice {
namespace {

LoggingConfig sync_config(ConsoleFormat format, LogLevel level = LogLevel::info)
{
    LoggingConfig config;
    config.console = format;
    config.level = level;
    config.async = false;
    return config;
}

LogFields response_fields()
{
    LogFields fields;
    fields.add("req_id", "abc").add("message", "RESPONSE").add("status", 201);
    return fields;
}

TEST(Logger, DetailedLineHasDateNameLevelAndFields)
{
    std::ostringstream out;
    {
        Logger logger(sync_config(ConsoleFormat::detailed), out);
        logger.info(response_fields());
    }
    EXPECT_TRUE(std::regex_match(out.str(), std::regex(R"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} addrservice INFO : )"
                                                       R"(req_id="abc" message="RESPONSE" status=201\n)")))
        << out.str();
}

TEST(Logger, BriefLineHasTimeAndLevel)
{
    std::ostringstream out;
    {
        Logger logger(sync_config(ConsoleFormat::brief), out);
        logger.log(LogLevel::warning, response_fields());
    }
    EXPECT_TRUE(std::regex_match(out.str(), std::regex(R"(\d\d:\d\d:\d\d\.\d{3} WARNING : req_id="abc".*\n)")))
        << out.str();
}

TEST(Logger, JsonLineIsOneObjectWithTheSameKeys)
{
    std::ostringstream out;
    {
        Logger logger(sync_config(ConsoleFormat::json), out);
        logger.log(LogLevel::error, response_fields());
    }
    const auto line = nlohmann::json::parse(out.str());
    EXPECT_EQ(line["level"], "ERROR");
    EXPECT_EQ(line["req_id"], "abc");
    EXPECT_EQ(line["message"], "RESPONSE");
    EXPECT_EQ(line["status"], 201);
    EXPECT_TRUE(line.contains("time"));
}

/// The time zone for one test, the previous one back after it.
class TimeZone {
public:
    explicit TimeZone(const char* zone)
    {
        if (const char* previous = std::getenv("TZ")) {
            previous_ = previous;
        }
        ::setenv("TZ", zone, 1);
        ::tzset();
    }
    ~TimeZone()
    {
        if (previous_) {
            ::setenv("TZ", previous_->c_str(), 1);
        } else {
            ::unsetenv("TZ");
        }
        ::tzset();
    }
    TimeZone(const TimeZone&) = delete;
    TimeZone& operator=(const TimeZone&) = delete;
    TimeZone(TimeZone&&) = delete;
    TimeZone& operator=(TimeZone&&) = delete;

private:
    std::optional<std::string> previous_;
};

using Millis = std::chrono::milliseconds;

Millis now_ms()
{
    return std::chrono::duration_cast<Millis>(std::chrono::system_clock::now().time_since_epoch());
}

/// The moment a line's local time names, given the zone's offset east of UTC.
Millis moment_of(const std::smatch& time, std::chrono::minutes offset)
{
    std::tm local{};
    local.tm_year = std::stoi(time[1]) - 1900;
    local.tm_mon = std::stoi(time[2]) - 1;
    local.tm_mday = std::stoi(time[3]);
    local.tm_hour = std::stoi(time[4]);
    local.tm_min = std::stoi(time[5]);
    local.tm_sec = std::stoi(time[6]);
    const auto seconds = std::chrono::seconds(::timegm(&local)) - offset;
    return std::chrono::duration_cast<Millis>(seconds) + Millis(std::stoi(time[7]));
}

TEST(Logger, EveryLineHasTheLocalTimeOfItsEventToTheMillisecondAcrossASecondsEnd)
{
    const TimeZone zone("XYZ-02:30");  // POSIX: 2 h 30 min east of UTC
    const std::chrono::minutes offset(150);
    // Written on the caller's thread, and batched for the writer's thread.
    for (const auto& [format, async] :
         {std::pair{ConsoleFormat::detailed, false}, std::pair{ConsoleFormat::json, false},
          std::pair{ConsoleFormat::detailed, true}, std::pair{ConsoleFormat::json, true}}) {
        std::ostringstream out;
        std::vector<std::pair<Millis, Millis>> windows;
        {
            auto config = sync_config(format);
            config.async = async;
            Logger logger(config, out);
            auto log_one = [&] {
                const auto before = now_ms();
                logger.info(response_fields());
                windows.emplace_back(before, now_ms());
            };
            log_one();
            // The next line falls in the next second: its time is made anew, not the first line's reused.
            const auto second = std::chrono::floor<std::chrono::seconds>(windows.back().second);
            while (std::chrono::floor<std::chrono::seconds>(now_ms()) == second) {
            }
            log_one();
        }
        const std::regex time_of(format == ConsoleFormat::json
                                     ? R"(^\{"time":"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\.(\d{3})\+02:30",)"
                                     : R"(^(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)\.(\d{3}) addrservice INFO : )");
        std::istringstream lines(out.str());
        std::string line;
        std::size_t index = 0;
        while (std::getline(lines, line)) {
            std::smatch time;
            ASSERT_TRUE(std::regex_search(line, time, time_of)) << line;
            ASSERT_LT(index, windows.size());
            const auto moment = moment_of(time, offset);
            EXPECT_GE(moment, windows[index].first) << line;
            EXPECT_LE(moment, windows[index].second) << line;
            ++index;
        }
        EXPECT_EQ(index, 2U) << out.str();
    }
}

TEST(Logger, LevelsBelowTheThresholdAreDropped)
{
    std::ostringstream out;
    {
        Logger logger(sync_config(ConsoleFormat::brief, LogLevel::warning), out);
        EXPECT_FALSE(logger.enabled(LogLevel::info));
        EXPECT_TRUE(logger.enabled(LogLevel::error));
        logger.info(response_fields());
        logger.log(LogLevel::debug, response_fields());
    }
    EXPECT_EQ(out.str(), "");
}

TEST(Logger, OffWritesNothingToTheConsole)
{
    std::ostringstream out;
    {
        Logger logger(sync_config(ConsoleFormat::off), out);
        EXPECT_FALSE(logger.enabled(LogLevel::error));  // nowhere to write: callers skip the work
        logger.info(response_fields());
        logger.flush();
    }
    EXPECT_EQ(out.str(), "");
}

TEST(Logger, AsyncFileGetsEveryLineByDestruction)
{
    const auto dir = std::filesystem::temp_directory_path() / ("addrservice-log-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    LoggingConfig config;
    config.console = ConsoleFormat::off;
    config.file = (dir / "service.log").string();
    {
        Logger logger(config);
        for (int i = 0; i < 5000; ++i) {
            LogFields fields;
            fields.add("n", i);
            logger.info(fields);
        }
    }
    std::ifstream in(*config.file);
    std::string line;
    int count = 0;
    std::string last;
    while (std::getline(in, line)) {
        ++count;
        last = line;
    }
    EXPECT_EQ(count, 5000);
    EXPECT_NE(last.find("addrservice INFO : n=4999"), std::string::npos) << last;
    std::filesystem::remove_all(dir);
}

TEST(Logger, FileRotatesPastItsSizeKeepingMaxFiles)
{
    const auto dir = std::filesystem::temp_directory_path() / ("addrservice-rotate-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    LoggingConfig config;
    config.console = ConsoleFormat::off;
    config.file = (dir / "service.log").string();  // the directory is created
    config.max_size_mb = 1;
    config.max_files = 2;
    {
        Logger logger(config);
        const std::string padding(1000, 'x');
        for (int i = 0; i < 4000; ++i) {  // about 4 MB
            LogFields fields;
            fields.add("n", i).add("padding", padding);
            logger.info(fields);
        }
    }
    std::vector<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        names.push_back(entry.path().filename().string());
        EXPECT_LE(std::filesystem::file_size(entry.path()), 1024U * 1024U);
    }
    std::sort(names.begin(), names.end());
    EXPECT_EQ(names, (std::vector<std::string>{"service.1.log", "service.2.log", "service.log"}));
    std::filesystem::remove_all(dir);
}

TEST(Logger, AFileThatCannotBeWrittenLosesLinesNotTheProcessAndSaysSoOnce)
{
    LoggingConfig config;
    config.console = ConsoleFormat::off;
    config.file = "/dev/full";  // opens, and every write fails: a full disk
    ::testing::internal::CaptureStderr();
    {
        Logger logger(config);
        for (int i = 0; i < 2000; ++i) {
            LogFields fields;
            fields.add("n", i).add("padding", std::string(100, 'x'));
            logger.info(fields);
            if (i % 500 == 0) {
                logger.flush();
            }
        }
    }  // every batch written (and failed) by now
    const auto said = ::testing::internal::GetCapturedStderr();
    EXPECT_TRUE(said.starts_with("addrservice: log lines lost: ")) << said;
    EXPECT_EQ(std::count(said.begin(), said.end(), '\n'), 1) << said;
}

TEST(Logger, UnwritableFileIsAConfigError)
{
    LoggingConfig config;
    config.console = ConsoleFormat::off;
    config.file = "/proc/addrservice/cannot/exist.log";
    EXPECT_THROW(Logger logger(config), ConfigError);
}

}  // namespace
}  // namespace addrservice
