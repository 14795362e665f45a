#include "server/cli.hpp"

#include <gtest/gtest.h>

#include <sstream>

namespace addrservice::http {
namespace {

struct Parsed {
    CommandLine result;
    std::string out;
    std::string err;
};

Parsed parse(std::vector<std::string> args)
{
    args.insert(args.begin(), "addrservice");
    std::ostringstream out;
    std::ostringstream err;
    auto result = parse_command_line(args, out, err);
    return {std::move(result), out.str(), err.str()};
}

TEST(CommandLine, DefaultsServeOnPort8080OfEveryInterface)
{
    const auto parsed = parse({});
    ASSERT_TRUE(parsed.result.config);
    EXPECT_EQ(parsed.result.config->port, 8080);
    EXPECT_EQ(parsed.result.config->host, "0.0.0.0");
    EXPECT_FALSE(parsed.result.config->debug);
    EXPECT_EQ(parsed.result.config->logging.level, LogLevel::info);
}

TEST(CommandLine, FlagsSetPortHostAndDebug)
{
    const auto parsed = parse({"--port", "0", "--host", "127.0.0.1", "--debug"});
    ASSERT_TRUE(parsed.result.config);
    EXPECT_EQ(parsed.result.config->port, 0);
    EXPECT_EQ(parsed.result.config->host, "127.0.0.1");
    EXPECT_TRUE(parsed.result.config->debug);
    EXPECT_EQ(parsed.result.config->logging.level, LogLevel::debug);
}

TEST(CommandLine, HelpAndVersionExitZero)
{
    const auto help = parse({"--help"});
    EXPECT_FALSE(help.result.config);
    EXPECT_EQ(help.result.exit_status, 0);
    EXPECT_NE(help.out.find("--port"), std::string::npos);
    const auto version = parse({"--version"});
    EXPECT_EQ(version.result.exit_status, 0);
    EXPECT_EQ(version.out.rfind("addrservice ", 0), 0U);
}

TEST(CommandLine, BadInputIsOneLineAndExitTwo)
{
    for (const auto& args : std::vector<std::vector<std::string>>{{"--bogus"},
                                                                  {"--host", "example.invalid"},
                                                                  {"--port", "http"},
                                                                  {"--port", "70000"},
                                                                  {"--port"},
                                                                  {"stray"}}) {
        const auto parsed = parse(args);
        EXPECT_FALSE(parsed.result.config);
        EXPECT_EQ(parsed.result.exit_status, 2);
        const auto first_line = parsed.err.substr(0, parsed.err.find('\n'));
        EXPECT_EQ(first_line.rfind("addrservice: ", 0), 0U) << parsed.err;
        EXPECT_GT(first_line.size(), 13U);
    }
}

}  // namespace
}  // namespace addrservice::http
