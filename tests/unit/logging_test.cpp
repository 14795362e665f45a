#include "addrservice/logging.hpp"

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

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

TEST(Logger, UnwritableFileIsAConfigError)
{
    LoggingConfig config;
    config.console = ConsoleFormat::off;
    config.file = "/proc/addrservice/cannot/exist.log";
    EXPECT_THROW(Logger logger(config), ConfigError);
}

}  // namespace
}  // namespace addrservice
