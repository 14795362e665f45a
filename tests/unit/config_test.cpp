#include "addrservice/config.hpp"
#include "support/samples.hpp"

#include <gtest/gtest.h>

namespace addrservice {
namespace {

std::string error_of(const std::string& yaml)
{
    try {
        load_config_text(yaml);
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "no error";
}

TEST(ConfigFile, TheDocumentedExampleLoads)
{
    const auto config = load_config_file((testing::source_dir() / "configs" / "addressbook-local.yaml").string());
    EXPECT_EQ(config.service_name, "Address Book");
    EXPECT_EQ(config.store.kind, StoreConfig::Kind::sqlite);
    EXPECT_EQ(config.store.location, "./var/addressbook.db");
    EXPECT_EQ(config.logging.level, LogLevel::info);
    EXPECT_EQ(config.logging.console, ConsoleFormat::brief);
    EXPECT_EQ(config.logging.file, "./var/addrservice.log");
    EXPECT_EQ(config.limits.max_body_bytes, 1048576U);
}

TEST(ConfigFile, EmptyFileKeepsEveryDefault)
{
    const auto config = load_config_text("");
    const Config defaults;
    EXPECT_EQ(config.service_name, defaults.service_name);
    EXPECT_EQ(config.port, 8080);
    EXPECT_EQ(config.limits.idle_timeout_s, 60U);
    EXPECT_FALSE(config.logging.file);
    EXPECT_EQ(config.store.kind, StoreConfig::Kind::sqlite);
    EXPECT_EQ(config.store.location, "./var/addressbook.db");
}

TEST(ConfigFile, EveryKeyIsRead)
{
    const auto config = load_config_text(R"(
service: {name: Carnet}
addr-db: {sqlite: ./var/book.db}
logging: {level: warning, console: off, file: /tmp/x.log, max_size_mb: 2, max_files: 0}
limits: {max_body_bytes: 10, max_header_bytes: 20, header_timeout_s: 3, idle_timeout_s: 4, max_connections: 5,
         max_page: 6}
)");
    EXPECT_EQ(config.service_name, "Carnet");
    EXPECT_EQ(config.store.kind, StoreConfig::Kind::sqlite);
    EXPECT_EQ(config.store.location, "./var/book.db");
    EXPECT_EQ(describe(config.store), "sqlite:./var/book.db");
    EXPECT_EQ(config.logging.level, LogLevel::warning);
    EXPECT_EQ(config.logging.console, ConsoleFormat::off);
    EXPECT_EQ(config.logging.max_size_mb, 2U);
    EXPECT_EQ(config.logging.max_files, 0U);
    EXPECT_EQ(config.limits.max_body_bytes, 10U);
    EXPECT_EQ(config.limits.max_header_bytes, 20U);
    EXPECT_EQ(config.limits.header_timeout_s, 3U);
    EXPECT_EQ(config.limits.idle_timeout_s, 4U);
    EXPECT_EQ(config.limits.max_connections, 5U);
    EXPECT_EQ(config.limits.max_page, 6U);
    EXPECT_EQ(Config{}.limits.max_page, 1000U);
    EXPECT_EQ(load_config_text("logging: {console: \"off\"}").logging.console, ConsoleFormat::off);
    EXPECT_EQ(load_config_text("addr-db: {postgres: postgresql://a@127.0.0.1/b}").store.kind,
              StoreConfig::Kind::postgres);
    EXPECT_EQ(load_config_text("addr-db: {fs: ./var/addresses}").store.location, "./var/addresses");
}

TEST(ConfigFile, EveryErrorNamesTheKey)
{
    EXPECT_EQ(error_of("colour: blue"), "config: colour: unknown key");
    EXPECT_EQ(error_of("logging: {levle: info}"), "config: logging.levle: unknown key");
    EXPECT_EQ(error_of("addr-db: {memory: null, fs: ./x}"),
              "config: addr-db: expected exactly one of memory|fs|sqlite|postgres");
    EXPECT_EQ(error_of("addr-db: {}"), "config: addr-db: expected exactly one of memory|fs|sqlite|postgres");
    EXPECT_EQ(error_of("addr-db: {mysql: x}"),
              "config: addr-db: expected exactly one of memory|fs|sqlite|postgres, got 'mysql'");
    EXPECT_EQ(error_of("addr-db: {memory: 3}"), "config: addr-db.memory: expected null, got '3'");
    EXPECT_EQ(error_of("addr-db: {sqlite: null}"), "config: addr-db.sqlite: expected a non-empty string, got nothing");
    EXPECT_EQ(error_of("logging: {level: loud}"),
              "config: logging.level: expected one of trace|debug|info|warning|error, got 'loud'");
    EXPECT_EQ(error_of("logging: {console: fancy}"),
              "config: logging.console: expected one of brief|detailed|json|off, got 'fancy'");
    EXPECT_EQ(error_of("logging: {max_size_mb: 0}"),
              "config: logging.max_size_mb: expected a positive integer, got '0'");
    EXPECT_EQ(error_of("limits: {max_body_bytes: lots}"),
              "config: limits.max_body_bytes: expected a positive integer, got 'lots'");
    EXPECT_EQ(error_of("limits: {idle_timeout_s: [1]}"),
              "config: limits.idle_timeout_s: expected a positive integer, got a list");
    EXPECT_EQ(error_of("limits: {max_connections: -1}"),
              "config: limits.max_connections: expected a positive integer, got '-1'");
    EXPECT_EQ(error_of("limits: {max_page: 0}"), "config: limits.max_page: expected a positive integer, got '0'");
    EXPECT_EQ(error_of("service: {name: [a]}"), "config: service.name: expected a non-empty string, got a list");
    EXPECT_EQ(error_of("service: 3"), "config: service: expected a mapping, got '3'");
    EXPECT_EQ(error_of("- a list"), "config: (top level): expected a mapping, got a list");
    EXPECT_EQ(error_of("logging: {level: [unclosed"), "config: (yaml):1:1: end of sequence flow not found");
}

TEST(ConfigFile, UnreadableFileIsAnError)
{
    try {
        load_config_file("/nonexistent/addrservice.yaml");
        FAIL();
    } catch (const ConfigError& e) {
        EXPECT_EQ(std::string(e.what()),
                  "config: cannot read '/nonexistent/addrservice.yaml': No such file or directory");
    }
}

TEST(ConfigNames, LevelsAndFormats)
{
    EXPECT_EQ(parse_log_level("trace"), LogLevel::trace);
    EXPECT_EQ(parse_log_level("error"), LogLevel::error);
    EXPECT_EQ(to_string(LogLevel::warning), "WARNING");
    EXPECT_EQ(to_string(LogLevel::trace), "TRACE");
    EXPECT_EQ(parse_console_format("json"), ConsoleFormat::json);
    EXPECT_EQ(parse_console_format("detailed"), ConsoleFormat::detailed);
    EXPECT_THROW(parse_console_format("BRIEF"), ConfigError);
    EXPECT_EQ(describe(StoreConfig{}), "sqlite:./var/addressbook.db");
    EXPECT_EQ(describe(StoreConfig{StoreConfig::Kind::memory, ""}), "memory");
    EXPECT_EQ(describe(StoreConfig{StoreConfig::Kind::fs, "d"}), "fs:d");
    EXPECT_EQ(describe(StoreConfig{StoreConfig::Kind::postgres, "u"}), "postgres:u");
}

}  // namespace
}  // namespace addrservice
