#include "server/cli.hpp"

#include "addrservice/store/store.hpp"
#include "server/server.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <system_error>
#include <utility>

namespace addrservice::http {
namespace {

struct Parsed {
    CommandLine result;
    std::string out;
    std::string err;
};

Parsed parse(std::vector<std::string> args, const std::map<std::string, std::string>& env = {})
{
    args.insert(args.begin(), "addrservice");
    std::ostringstream out;
    std::ostringstream err;
    auto lookup = [&env](const std::string& name) -> std::optional<std::string> {
        const auto it = env.find(name);
        return it == env.end() ? std::nullopt : std::optional<std::string>(it->second);
    };
    auto result = parse_command_line(args, lookup, out, err);
    return {std::move(result), out.str(), err.str()};
}

/// A config file in a temporary directory, removed with the object.
class TempConfig {
public:
    explicit TempConfig(const std::string& yaml)
        : path_(std::filesystem::temp_directory_path() /
                ("addrservice-cli-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++) + ".yaml"))
    {
        std::ofstream(path_) << yaml;
    }
    ~TempConfig() { std::filesystem::remove(path_); }
    TempConfig(const TempConfig&) = delete;
    TempConfig& operator=(const TempConfig&) = delete;
    TempConfig(TempConfig&&) = delete;
    TempConfig& operator=(TempConfig&&) = delete;
    [[nodiscard]] std::string path() const { return path_.string(); }

private:
    static inline int counter_ = 0;
    std::filesystem::path path_;
};

TEST(CommandLine, DefaultsServeOnPort8080OfEveryInterface)
{
    const auto parsed = parse({});
    ASSERT_TRUE(parsed.result.config);
    EXPECT_EQ(parsed.result.config->port, 8080);
    EXPECT_EQ(parsed.result.config->host, "0.0.0.0");
    EXPECT_FALSE(parsed.result.config->debug);
    EXPECT_EQ(parsed.result.config->workers, 1U);
    EXPECT_EQ(parsed.result.config->logging.level, LogLevel::info);
    EXPECT_EQ(parsed.result.config->logging.console, ConsoleFormat::brief);
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

TEST(CommandLine, EnvironmentSetsEveryFlag)
{
    const TempConfig file("service: {name: From File}\n");
    const auto parsed = parse({}, {{"ADDRSERVICE_PORT", "9000"},
                                   {"ADDRSERVICE_HOST", "::1"},
                                   {"ADDRSERVICE_DEBUG", "yes"},
                                   {"ADDRSERVICE_CONFIG", file.path()}});
    ASSERT_TRUE(parsed.result.config) << parsed.err;
    EXPECT_EQ(parsed.result.config->port, 9000);
    EXPECT_EQ(parsed.result.config->host, "::1");
    EXPECT_TRUE(parsed.result.config->debug);
    EXPECT_EQ(parsed.result.config->service_name, "From File");
    for (const auto* no : {"0", "false", "no"}) {
        EXPECT_FALSE(parse({}, {{"ADDRSERVICE_DEBUG", no}}).result.config->debug);
    }
    for (const auto* yes : {"1", "true", "yes"}) {
        EXPECT_TRUE(parse({}, {{"ADDRSERVICE_DEBUG", yes}}).result.config->debug);
    }
}

TEST(CommandLine, FlagBeatsEnvironmentBeatsFileBeatsDefault)
{
    const TempConfig file("logging: {level: error}\n");
    const TempConfig other("logging: {level: warning}\n");
    // File over default.
    EXPECT_EQ(parse({"--config", file.path()}).result.config->logging.level, LogLevel::error);
    // The --config flag over ADDRSERVICE_CONFIG.
    EXPECT_EQ(parse({"--config", file.path()}, {{"ADDRSERVICE_CONFIG", other.path()}}).result.config->logging.level,
              LogLevel::error);
    // Environment over file: debug turns the level to DEBUG.
    EXPECT_EQ(parse({"--config", file.path()}, {{"ADDRSERVICE_DEBUG", "1"}}).result.config->logging.level,
              LogLevel::debug);
    // Flag over environment.
    EXPECT_EQ(parse({"--port", "7000"}, {{"ADDRSERVICE_PORT", "9000"}}).result.config->port, 7000);
    EXPECT_EQ(parse({"--host", "127.0.0.2"}, {{"ADDRSERVICE_HOST", "127.0.0.3"}}).result.config->host, "127.0.0.2");
    EXPECT_EQ(parse({}, {{"ADDRSERVICE_PORT", "9000"}}).result.config->port, 9000);
}

TEST(CommandLine, HelpAndVersionExitZero)
{
    const auto help = parse({"--help"});
    EXPECT_FALSE(help.result.config);
    EXPECT_EQ(help.result.exit_status, 0);
    for (const auto* flag : {"--port", "--host", "--config", "--debug", "--workers", "--version", "ADDRSERVICE_"}) {
        EXPECT_NE(help.out.find(flag), std::string::npos) << flag;
    }
    const auto version = parse({"--version"});
    EXPECT_EQ(version.result.exit_status, 0);
    EXPECT_EQ(version.out.rfind("addrservice ", 0), 0U);
    // From the environment, as every flag.
    EXPECT_EQ(parse({}, {{"ADDRSERVICE_HELP", "1"}}).out, help.out);
    EXPECT_EQ(parse({}, {{"ADDRSERVICE_VERSION", "yes"}}).out, version.out);
    EXPECT_EQ(parse({}, {{"ADDRSERVICE_VERSION", "yes"}}).result.exit_status, 0);
    EXPECT_TRUE(parse({}, {{"ADDRSERVICE_VERSION", "0"}, {"ADDRSERVICE_HELP", "no"}}).result.config);
}

void expect_usage_error(const Parsed& parsed, const std::string& names)
{
    EXPECT_FALSE(parsed.result.config);
    EXPECT_EQ(parsed.result.exit_status, 2);
    EXPECT_EQ(parsed.out, "");
    ASSERT_TRUE(parsed.err.ends_with('\n')) << parsed.err;
    EXPECT_EQ(parsed.err.find('\n'), parsed.err.size() - 1) << "more than one line: " << parsed.err;
    const auto first_line = parsed.err.substr(0, parsed.err.find('\n'));
    EXPECT_EQ(first_line.rfind("addrservice: ", 0), 0U) << parsed.err;
    EXPECT_NE(first_line.find(names), std::string::npos) << parsed.err;
}

TEST(CommandLine, ANumberOutOfRangeIsWordedAsInTheEnvironment)
{
    EXPECT_EQ(parse({"--port", "70000"}).err,
              "addrservice: --port: expected an integer from 0 to 65535, got '70000' (see --help)\n");
    EXPECT_EQ(parse({"--port", "99999999999999999999999"}).err,
              "addrservice: --port: expected an integer from 0 to 65535, got '99999999999999999999999' (see --help)\n");
    EXPECT_EQ(parse({"--port", "-1"}).err,
              "addrservice: --port: expected an integer from 0 to 65535, got '-1' (see --help)\n");
    EXPECT_EQ(parse({"--port", "+80"}).err,
              "addrservice: --port: expected an integer from 0 to 65535, got '+80' (see --help)\n");
    EXPECT_EQ(parse({"--workers", "0"}).err,
              "addrservice: --workers: expected an integer from 1 to 256, got '0' (see --help)\n");
    EXPECT_EQ(parse({}, {{"ADDRSERVICE_PORT", "70000"}}).err,
              "addrservice: ADDRSERVICE_PORT: expected an integer from 0 to 65535, got '70000' (see --help)\n");
    // In range, leading zeros are decimal: 0080 is 80, 000 is 0.
    EXPECT_EQ(parse({"--port", "0080"}).result.config->port, 80);
    EXPECT_EQ(parse({"--port", "000"}).result.config->port, 0);
    EXPECT_EQ(parse({"--port", "65535"}).result.config->port, 65535);
    EXPECT_EQ(parse({"--workers", "0256"}).result.config->workers, 256U);
}

TEST(CommandLine, BadFlagsAreOneLineAndExitTwo)
{
    expect_usage_error(parse({"--bogus"}), "--bogus");
    expect_usage_error(parse({"--host", "example.invalid"}), "example.invalid");
    expect_usage_error(parse({"--port", "http"}), "--port");
    expect_usage_error(parse({"--port", "70000"}), "--port");
    expect_usage_error(parse({"--port"}), "--port");
    expect_usage_error(parse({"--workers", "0"}), "--workers");
    expect_usage_error(parse({"stray"}), "stray");
    // An empty value (an unset shell variable) is never a silent default.
    expect_usage_error(parse({"--port", ""}), "--port");
    expect_usage_error(parse({"--config", ""}), "--config");
    expect_usage_error(parse({}, {{"ADDRSERVICE_CONFIG", ""}}), "ADDRSERVICE_CONFIG");
    // The whole line is checked before --version or --help is acted on.
    expect_usage_error(parse({"--version", "--bogus"}), "--bogus");
    expect_usage_error(parse({"--bogus", "--help"}), "--bogus");
    expect_usage_error(parse({"--help", "--port", "http"}), "--port");
}

TEST(CommandLine, NumbersAreDecimalAsInTheEnvironmentAndTheFile)
{
    EXPECT_EQ(parse({"--port", "0018001"}).result.config->port, 18001);
    EXPECT_EQ(parse({"--port", "000"}).result.config->port, 0);
    EXPECT_EQ(parse({"--workers", "02"}).result.config->workers, 2U);
    for (const auto* text : {"0x10", "0o20", "0b1", "+80", "-1", "8080 ", "1e3", "８０"}) {
        expect_usage_error(parse({"--port", text}), "--port");
    }
    expect_usage_error(parse({"--workers", "0x2"}), "--workers");
}

TEST(CommandLine, BadEnvironmentNamesTheVariable)
{
    expect_usage_error(parse({}, {{"ADDRSERVICE_PORT", "eighty"}}), "ADDRSERVICE_PORT");
    expect_usage_error(parse({}, {{"ADDRSERVICE_PORT", "65536"}}), "ADDRSERVICE_PORT");
    expect_usage_error(parse({}, {{"ADDRSERVICE_HOST", "nowhere"}}), "ADDRSERVICE_HOST");
    expect_usage_error(parse({}, {{"ADDRSERVICE_DEBUG", "maybe"}}), "ADDRSERVICE_DEBUG");
    expect_usage_error(parse({}, {{"ADDRSERVICE_VERSION", "please"}}), "ADDRSERVICE_VERSION");
    expect_usage_error(parse({}, {{"ADDRSERVICE_WORKERS", "0"}}), "ADDRSERVICE_WORKERS");
    // A flag given on the command line still leaves a bad variable an error only when it is read.
    EXPECT_TRUE(parse({"--port", "1"}, {{"ADDRSERVICE_HOST", "::"}}).result.config);
}

TEST(CommandLine, BadConfigFileIsOneLineNamingTheKey)
{
    const TempConfig file("addr-db: {memory: null, sqlite: x.db}\n");
    expect_usage_error(parse({"--config", file.path()}),
                       "config: addr-db: expected exactly one of memory|fs|sqlite|postgres");
    expect_usage_error(parse({"--config", "/nonexistent.yaml"}), "config: cannot read '/nonexistent.yaml'");
    expect_usage_error(parse({}, {{"ADDRSERVICE_CONFIG", "/nonexistent.yaml"}}), "/nonexistent.yaml");
}

TEST(CommandLine, AConfigThatIsNoFileOrTooLargeOrAmbiguousIsExactlyOneLine)
{
    const auto dir = std::filesystem::temp_directory_path() / ("addrservice-cli-dir-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const TempConfig duplicate("addr-db: {memory: null}\naddr-db: {fs: ./var/addresses}\n");
    const TempConfig nul(std::string("service: {name: A}\0\n", 20));
    const std::map<std::string, std::string> expected{
        {dir.string(), "addrservice: config: cannot read '" + dir.string() + "': is a directory\n"},
        {"/dev/zero", "addrservice: config: cannot read '/dev/zero': larger than 1 MiB (1048576 bytes)\n"},
        {duplicate.path(), "addrservice: config: addr-db: duplicate key at 2:1 (first at 1:1)\n"},
        {nul.path(), "addrservice: config: " + nul.path() + ":1:19: a NUL byte (a config file is UTF-8 text)\n"},
    };
    for (const auto& [path, message] : expected) {
        const auto parsed = parse({"--config", path});
        EXPECT_FALSE(parsed.result.config) << path;
        EXPECT_EQ(parsed.result.exit_status, 2) << path;
        EXPECT_EQ(parsed.err, message);
    }
    std::filesystem::remove(dir);
}

TEST(CommandLine, WorkersAreRefusedWithStoresProcessesCannotShare)
{
    const TempConfig memory("addr-db: {memory: null}\n");
    expect_usage_error(parse({"--workers", "2", "--config", memory.path()}),
                       "--workers 2: needs a store that processes can share");
    const TempConfig fs("addr-db: {fs: ./var/addresses}\n");
    expect_usage_error(parse({"--workers", "2", "--config", fs.path()}), "not fs");
    const TempConfig sqlite("addr-db: {sqlite: ./var/book.db}\n");
    const auto parsed = parse({"--config", sqlite.path()}, {{"ADDRSERVICE_WORKERS", "3"}});
    ASSERT_TRUE(parsed.result.config) << parsed.err;
    EXPECT_EQ(parsed.result.config->workers, 3U);
    EXPECT_TRUE(parse({"--workers", "1"}).result.config);
    EXPECT_EQ(parse({"--workers", "2"}).result.config->workers, 2U);  // the default store is sqlite
}

/// What main prints and returns for a failure.
std::pair<std::string, int> reported(const std::exception_ptr& failure)
{
    Config config;
    config.host = "127.0.0.1";
    config.port = 8081;
    std::ostringstream err;
    const int status = report_failure(failure, config, err);
    return {err.str(), status};
}

TEST(StartFailure, OnlyAListenFailureSaysCannotListen)
{
    const auto in_use = std::make_error_code(std::errc::address_in_use);
    EXPECT_EQ(reported(std::make_exception_ptr(ListenError(in_use, "listen"))),
              std::make_pair(std::string("addrservice: cannot listen on 127.0.0.1:8081: Address already in use\n"), 1));
    // A thread that could not start is not a port in use: it names its own cause.
    const auto no_thread = std::make_error_code(std::errc::resource_unavailable_try_again);
    EXPECT_EQ(reported(std::make_exception_ptr(std::system_error(no_thread, "cannot start the store"))),
              std::make_pair(std::string("addrservice: cannot start the store: ") + no_thread.message() + "\n", 1));
    EXPECT_EQ(reported(std::make_exception_ptr(std::system_error(no_thread))),
              std::make_pair("addrservice: " + no_thread.message() + "\n", 1));
}

TEST(StartFailure, ConfigAndStoreErrorsExitTwoOthersOne)
{
    EXPECT_EQ(reported(std::make_exception_ptr(ConfigError("config: logging.file: cannot open 'x'"))),
              std::make_pair(std::string("addrservice: config: logging.file: cannot open 'x'\n"), 2));
    EXPECT_EQ(reported(std::make_exception_ptr(StoreOpenError("sqlite: cannot open 'x'"))),
              std::make_pair(std::string("addrservice: config: addr-db: sqlite: cannot open 'x'\n"), 2));
    EXPECT_EQ(reported(std::make_exception_ptr(std::runtime_error("epoll: Too many open files"))),
              std::make_pair(std::string("addrservice: epoll: Too many open files\n"), 1));
    EXPECT_EQ(reported(std::make_exception_ptr(42)), std::make_pair(std::string("addrservice: unknown failure\n"), 1));
}

TEST(CommandLine, TlsCertAndKeyComeFromFlagsOverTheEnvironmentOverTheFile)
{
    const TempConfig file("tls: {cert: file-cert.pem, key: file-key.pem}\n");
    const auto from_file = parse({"--config", file.path()});
    ASSERT_TRUE(from_file.result.config && from_file.result.config->tls);
    EXPECT_EQ(from_file.result.config->tls->cert, "file-cert.pem");
    EXPECT_EQ(from_file.result.config->tls->key, "file-key.pem");

    const auto from_env = parse({"--config", file.path()}, {{"ADDRSERVICE_TLS_CERT", "env-cert.pem"}});
    ASSERT_TRUE(from_env.result.config && from_env.result.config->tls);
    EXPECT_EQ(from_env.result.config->tls->cert, "env-cert.pem");
    EXPECT_EQ(from_env.result.config->tls->key, "file-key.pem");

    const auto from_flags = parse({"--tls-cert", "flag-cert.pem", "--tls-key", "flag-key.pem"},
                                  {{"ADDRSERVICE_TLS_CERT", "env-cert.pem"}, {"ADDRSERVICE_TLS_KEY", "env-key.pem"}});
    ASSERT_TRUE(from_flags.result.config && from_flags.result.config->tls);
    EXPECT_EQ(from_flags.result.config->tls->cert, "flag-cert.pem");
    EXPECT_EQ(from_flags.result.config->tls->key, "flag-key.pem");

    const auto plain = parse({});
    ASSERT_TRUE(plain.result.config);
    EXPECT_FALSE(plain.result.config->tls);
}

TEST(CommandLine, ATlsCertWithoutAKeyIsAUsageError)
{
    for (const auto& args :
         std::vector<std::vector<std::string>>{{"--tls-cert", "cert.pem"}, {"--tls-key", "key.pem"}}) {
        const auto parsed = parse(args);
        EXPECT_FALSE(parsed.result.config);
        EXPECT_EQ(parsed.result.exit_status, 2);
        EXPECT_EQ(parsed.err,
                  "addrservice: --tls-cert and --tls-key go together: give both, or neither (see --help)\n");
    }
}

}  // namespace
}  // namespace addrservice::http
