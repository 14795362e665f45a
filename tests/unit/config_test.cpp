#include "addrservice/config.hpp"
#include "support/samples.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

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
    EXPECT_EQ(config.limits.header_timeout_s, 10U);
    EXPECT_EQ(config.limits.request_timeout_s, 30U);
    EXPECT_EQ(config.limits.write_timeout_s, 30U);
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
limits: {max_body_bytes: 10, max_header_bytes: 20, header_timeout_s: 3, request_timeout_s: 6, write_timeout_s: 7,
         idle_timeout_s: 4, max_connections: 5, max_page: 6}
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
    EXPECT_EQ(config.limits.request_timeout_s, 6U);
    EXPECT_EQ(config.limits.write_timeout_s, 7U);
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
              "config: logging.max_size_mb: expected an integer from 1 to 1048576, got '0'");
    EXPECT_EQ(error_of("limits: {max_body_bytes: lots}"),
              "config: limits.max_body_bytes: expected an integer from 1 to 1073741824, got 'lots'");
    EXPECT_EQ(error_of("limits: {idle_timeout_s: [1]}"),
              "config: limits.idle_timeout_s: expected an integer from 1 to 86400, got a list");
    EXPECT_EQ(error_of("limits: {request_timeout_s: soon}"),
              "config: limits.request_timeout_s: expected an integer from 1 to 86400, got 'soon'");
    EXPECT_EQ(error_of("limits: {write_timeout_s: 0}"),
              "config: limits.write_timeout_s: expected an integer from 1 to 86400, got '0'");
    EXPECT_EQ(error_of("limits: {max_connections: -1}"),
              "config: limits.max_connections: expected an integer from 1 to 1000000, got '-1'");
    EXPECT_EQ(error_of("limits: {max_page: 0}"),
              "config: limits.max_page: expected an integer from 1 to 100000, got '0'");
    EXPECT_EQ(error_of("service: {name: [a]}"), "config: service.name: expected a non-empty string, got a list");
    EXPECT_EQ(error_of("service: 3"), "config: service: expected a mapping, got '3'");
    EXPECT_EQ(error_of("- a list"),
              "config: (top level): expected a mapping of keys, got a list (is this a config file?)");
    EXPECT_EQ(error_of("logging: {level: [unclosed"), "config: (yaml):1:1: end of sequence flow not found");
}

TEST(ConfigFile, EveryNumberIsBoundedWhereItsUseCannotOverflow)
{
    struct Bounds {
        std::string section;
        std::string key;
        std::uint64_t minimum;
        std::uint64_t maximum;
    };
    const std::vector<Bounds> every_number{
        {"logging", "max_size_mb", 1, 1048576},      {"logging", "max_files", 0, 1000},
        {"limits", "max_body_bytes", 1, 1073741824}, {"limits", "max_header_bytes", 1, 1048576},
        {"limits", "header_timeout_s", 1, 86400},    {"limits", "idle_timeout_s", 1, 86400},
        {"limits", "request_timeout_s", 1, 86400},   {"limits", "write_timeout_s", 1, 86400},
        {"limits", "max_connections", 1, 1000000},
    };
    for (const auto& [section, key, minimum, maximum] : every_number) {
        const auto yaml = [&](const std::string& value) { return section + ": {" + key + ": " + value + "}"; };
        const auto refusal = [&](const std::string& value) {
            return "config: " + section + "." + key + ": expected an integer from " + std::to_string(minimum) + " to " +
                   std::to_string(maximum) + ", got '" + value + "'";
        };
        EXPECT_NO_THROW(load_config_text(yaml(std::to_string(minimum)))) << key;
        EXPECT_NO_THROW(load_config_text(yaml(std::to_string(maximum)))) << key;
        for (const auto& value : {std::to_string(maximum + 1), std::string("4294967296"),
                                  std::string("18446744073709551616"), std::string("-1")}) {
            EXPECT_EQ(error_of(yaml(value)), refusal(value)) << key;
        }
        if (minimum > 0) {
            EXPECT_EQ(error_of(yaml("0")), refusal("0")) << key;
        }
    }
    const auto largest = load_config_text(
        "logging: {max_size_mb: 1048576, max_files: 1000}\n"
        "limits: {max_body_bytes: 1073741824, max_header_bytes: 1048576, header_timeout_s: 86400, "
        "request_timeout_s: 86400, write_timeout_s: 86400, idle_timeout_s: 86400, max_connections: 1000000}\n");
    EXPECT_EQ(largest.logging.max_size_mb, 1048576U);
    EXPECT_EQ(largest.limits.max_header_bytes, 1048576U);
    EXPECT_EQ(largest.limits.idle_timeout_s, 86400U);
    EXPECT_EQ(largest.limits.request_timeout_s, 86400U);
    EXPECT_EQ(largest.limits.write_timeout_s, 86400U);
}

TEST(ConfigFile, TlsNamesACertificateAndAKey)
{
    const auto config = load_config_text("tls: {cert: ./var/tls/cert.pem, key: ./var/tls/key.pem}");
    ASSERT_TRUE(config.tls);
    EXPECT_EQ(config.tls->cert, "./var/tls/cert.pem");
    EXPECT_EQ(config.tls->key, "./var/tls/key.pem");
    EXPECT_FALSE(load_config_text("").tls);
    EXPECT_EQ(error_of("tls: {cert: c.pem}"), "config: tls: expected both cert and key");
    EXPECT_EQ(error_of("tls: {key: k.pem}"), "config: tls: expected both cert and key");
    EXPECT_EQ(error_of("tls: {cert: c.pem, key: k.pem, chain: x}"), "config: tls.chain: unknown key");
    EXPECT_EQ(error_of("tls: {cert: [c.pem], key: k.pem}"),
              "config: tls.cert: expected a non-empty string, got a list");
    EXPECT_EQ(error_of("tls: on"), "config: tls: expected a mapping, got 'on'");
}

TEST(ConfigFile, ADuplicateKeyIsAnErrorInEveryMapping)
{
    EXPECT_EQ(error_of("addr-db: {memory: null}\nservice: {name: A}\naddr-db: {fs: ./x}\n"),
              "config: addr-db: duplicate key at 3:1 (first at 1:1)");
    EXPECT_EQ(error_of("logging:\n  level: info\n  level: debug\n"),
              "config: logging.level: duplicate key at 3:3 (first at 2:3)");
    EXPECT_EQ(error_of("addr-db: {sqlite: a.db, sqlite: b.db}"),
              "config: addr-db.sqlite: duplicate key at 1:25 (first at 1:11)");
    EXPECT_EQ(error_of("service: {name: A, \"name\": B}"),
              "config: service.name: duplicate key at 1:20 (first at 1:11)");
    // Also in mappings the config does not read, wherever they are.
    EXPECT_EQ(error_of("colour: [red, {hue: 1, hue: 2}]"),
              "config: colour[1].hue: duplicate key at 1:24 (first at 1:16)");
    // Aliases may make a cycle or an exponential tree: the walk is bounded.
    EXPECT_EQ(error_of("colour: &c [*c]"), "config: colour: nested more than 64 levels deep");
    std::string bomb = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
    for (int level = 1; level <= 9; ++level) {
        const auto previous = "*a" + std::to_string(level - 1);
        bomb += "a" + std::to_string(level) + ": &a" + std::to_string(level) + " [" + previous;
        for (int copy = 1; copy < 10; ++copy) {
            bomb += ", " + previous;
        }
        bomb += "]\n";
    }
    EXPECT_EQ(error_of(bomb), "config: a4: more than 65536 values once aliases are expanded");
    // Few values, but each an alias of one long string.
    std::string long_text = "open: [&s \"" + std::string(100000, 'x') + "\"";
    for (int copy = 0; copy < 200; ++copy) {
        long_text += ", *s";
    }
    long_text += "]\n";
    EXPECT_EQ(error_of(long_text), "config: open: more than 16777216 bytes of text once aliases are expanded");
}

TEST(ConfigFile, EveryErrorIsOneLineWhateverTheFileHolds)
{
    // yaml-cpp's messages may quote the offending character: a newline, a NUL, an escape sequence.
    const std::string documents[] = {"service: {name: A}?\n",      "service:\n  name: A?\n",    "?service: {}\n",
                                     "service: {name: \"A?B\"}\n", "logging: {level: 'a?b'}\n", "x?: 1\n"};
    for (int control = 0; control < 0x20; ++control) {
        for (auto document : documents) {
            document[document.find('?')] = static_cast<char>(control);
            const auto message = error_of(document);
            if (message == "no error") {
                continue;  // e.g. a tab where YAML allows white space
            }
            EXPECT_TRUE(message.starts_with("config: ")) << message;
            EXPECT_TRUE(std::none_of(message.begin(), message.end(),
                                     [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }))
                << "control character " << control << " in: " << message;
        }
    }
}

TEST(ConfigFile, ANulByteIsRefusedWhereItIs)
{
    EXPECT_EQ(error_of(std::string("service: {name: A}\0\n", 20)),
              "config: (yaml):1:19: a NUL byte (a config file is UTF-8 text)");
    EXPECT_EQ(error_of(std::string("\0service: {}\n", 14)),
              "config: (yaml):1:1: a NUL byte (a config file is UTF-8 text)");
    EXPECT_EQ(error_of(std::string("service:\n  name: \"A\0B\"\n", 22)),
              "config: (yaml):2:11: a NUL byte (a config file is UTF-8 text)");
}

TEST(ConfigFile, AStringWithAControlCharacterIsRefused)
{
    // A NUL would cut a path short where it reaches the operating system.
    EXPECT_EQ(error_of(R"(addr-db: {fs: "./var/a\0b"})"),
              "config: addr-db.fs: expected a string without control characters, got './var/a\\x00b'");
    EXPECT_EQ(error_of(R"(service: {name: "Address\nBook"})"),
              "config: service.name: expected a string without control characters, got 'Address\\nBook'");
    EXPECT_EQ(load_config_text("service: {name: Adresář Ørsted}").service_name, "Adresář Ørsted");
    // C1 controls too (U+0080 to U+009F): U+0085 ends a line for some readers, U+009B starts a terminal's
    // escape sequence. They are named by their code point in the message.
    EXPECT_EQ(error_of(R"(service: {name: "a\u0085b"})"),
              "config: service.name: expected a string without control characters, got 'a\\u0085b'");
    EXPECT_EQ(error_of(R"(service: {name: "a\Nb"})"),
              "config: service.name: expected a string of UTF-8 text, got a byte that is none (YAML's \\N escape "
              "makes one)");
    EXPECT_EQ(error_of(R"(addr-db: {postgres: "host=db\N"})"),
              "config: addr-db.postgres: expected a connection string without control characters");
    EXPECT_EQ(error_of(R"(service: {name: "a\u009b31mb"})"),
              "config: service.name: expected a string without control characters, got 'a\\u009b31mb'");
    EXPECT_EQ(load_config_text("service: {name: \"\u00a0Adresse\u00c2\"}").service_name, "\u00a0Adresse\u00c2");
    // A connection string too, and without echoing it: it may hold a password.
    EXPECT_EQ(error_of(R"(addr-db: {postgres: "postgresql://ada:s3cret\t@db/book"})"),
              "config: addr-db.postgres: expected a connection string without control characters");
    EXPECT_EQ(error_of(R"(addr-db: {postgres: {url: "host=db password=s3cret\x01"}})"),
              "config: addr-db.postgres.url: expected a connection string without control characters");
}

TEST(ConfigFile, AFileThatIsNoConfigIsNotEchoed)
{
    // A password file given by mistake: neither its text nor a whole line of it reaches the message.
    EXPECT_EQ(error_of("root:$y$j9T$Sc3kR7T.fictional.hash:19000:0:99999:7:::\nwren:x:1000\n"),
              "config: (top level): an unknown key that is not a name (is this a config file?)");
    EXPECT_EQ(error_of("root:$y$j9T$Sc3kR7T.fictional.hash:19000:0:99999:7\nwren:x:1000\n"),
              "config: (top level): expected a mapping of keys, got text (is this a config file?)");
    EXPECT_EQ(error_of("logging: {'pass word': 1}"),
              "config: logging: an unknown key that is not a name (is this a config file?)");
    EXPECT_EQ(error_of(std::string(200, 'k') + ": 1"), "config: " + std::string(64, 'k') + "...: unknown key");
    EXPECT_EQ(error_of("logging: {" + std::string(100, 'k') + ": 1}"),
              "config: logging." + std::string(64, 'k') + "...: unknown key");
}

TEST(ConfigFile, AQuotedNumberIsAString)
{
    EXPECT_EQ(error_of("limits: {idle_timeout_s: \"10\"}"),
              "config: limits.idle_timeout_s: expected an integer from 1 to 86400, got the string '10'");
    EXPECT_EQ(error_of("limits: {idle_timeout_s: '10'}"),
              "config: limits.idle_timeout_s: expected an integer from 1 to 86400, got the string '10'");
    EXPECT_EQ(error_of("limits: {idle_timeout_s: !!str 10}"),
              "config: limits.idle_timeout_s: expected an integer from 1 to 86400, got the string '10'");
    EXPECT_EQ(error_of("limits: {idle_timeout_s: !!float 10}"),
              "config: limits.idle_timeout_s: expected an integer from 1 to 86400, got a value tagged "
              "'tag:yaml.org,2002:float'");
    EXPECT_EQ(load_config_text("limits: {idle_timeout_s: 10}").limits.idle_timeout_s, 10U);
    EXPECT_EQ(load_config_text("limits: {idle_timeout_s: !!int 10}").limits.idle_timeout_s, 10U);
}

TEST(ConfigFile, ASecondDocumentIsAnError)
{
    // yaml-cpp would read the first document and ignore the rest without a word.
    EXPECT_EQ(error_of("service: {name: A}\n---\nservice: {name: B}\n"),
              "config: (yaml):2: a second YAML document (a config file is one document; '---' starts another)");
    EXPECT_EQ(load_config_text("---\nservice: {name: A}\n").service_name, "A");
    EXPECT_EQ(load_config_text("service: {name: A}\n...\n").service_name, "A");
    // yaml-cpp finds documents without end in this text: one error, at once.
    EXPECT_EQ(error_of("! ,"),
              "config: (yaml):1: a second YAML document (a config file is one document; '---' starts another)");
}

TEST(ConfigFile, TextThatIsNotUtf8IsRefusedWhereItIs)
{
    EXPECT_EQ(error_of("service: {name: A\xff}"), "config: (yaml):1:18: not UTF-8 (a config file is UTF-8 text)");
    EXPECT_EQ(error_of("service:\n  name: \"\xc0\xaf\"\n"),  // an overlong '/'
              "config: (yaml):2:10: not UTF-8 (a config file is UTF-8 text)");
    EXPECT_EQ(error_of("service: {name: \xed\xa0\x80}"),  // a surrogate
              "config: (yaml):1:17: not UTF-8 (a config file is UTF-8 text)");
    EXPECT_EQ(error_of("service: {name: \xf4\x90\x80\x80}"),  // above U+10FFFF
              "config: (yaml):1:17: not UTF-8 (a config file is UTF-8 text)");
    EXPECT_EQ(error_of("service: {name: \xe2\x82}"),  // cut short
              "config: (yaml):1:17: not UTF-8 (a config file is UTF-8 text)");
    EXPECT_EQ(load_config_text("service: {name: \"\xf0\x9f\x93\x96 \xe2\x82\xac\"}").service_name,
              "\xf0\x9f\x93\x96 \xe2\x82\xac");
}

TEST(ConfigFile, ALongValueIsQuotedCutShort)
{
    EXPECT_EQ(error_of("logging: {level: " + std::string(200, 'v') + "}"),
              "config: logging.level: expected one of trace|debug|info|warning|error, got '" + std::string(64, 'v') +
                  "...' (200 bytes)");
    // Never inside a UTF-8 sequence: 'é' is two bytes, the 64th byte would be the first of one.
    EXPECT_EQ(error_of("logging: {max_files: 1" + std::string(62, '0') + "é}"),
              "config: logging.max_files: expected an integer from 0 to 1000, got '1" + std::string(62, '0') +
                  "...' (65 bytes)");
}

/// A path in a temporary directory of its own, removed with the object.
class TempPath {
public:
    explicit TempPath(const std::string& name)
        : dir_(std::filesystem::temp_directory_path() / ("addrservice-config-" + std::to_string(::getpid()))),
          path_(dir_ / name)
    {
        std::filesystem::create_directories(dir_);
    }
    ~TempPath() { std::filesystem::remove_all(dir_); }
    TempPath(const TempPath&) = delete;
    TempPath& operator=(const TempPath&) = delete;
    TempPath(TempPath&&) = delete;
    TempPath& operator=(TempPath&&) = delete;
    [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

private:
    std::filesystem::path dir_;
    std::filesystem::path path_;
};

std::string file_error_of(const std::filesystem::path& path)
{
    try {
        load_config_file(path.string());
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "no error";
}

TEST(ConfigFile, ADirectoryIsAnError)
{
    const TempPath dir("conf.d");
    std::filesystem::create_directories(dir.path());
    EXPECT_EQ(file_error_of(dir.path()), "config: cannot read '" + dir.path().string() + "': is a directory");
}

TEST(ConfigFile, AFileOverOneMebibyteIsRefusedWithoutReadingItAll)
{
    const TempPath large("large.yaml");
    constexpr std::size_t mebibyte = 1024 * 1024;
    {
        std::ofstream out(large.path(), std::ios::binary);
        out << "# " << std::string(mebibyte - 3, 'x') << '\n';  // exactly 1 MiB: still read
    }
    EXPECT_EQ(file_error_of(large.path()), "no error");
    std::ofstream(large.path(), std::ios::binary | std::ios::app) << '\n';
    EXPECT_EQ(file_error_of(large.path()),
              "config: cannot read '" + large.path().string() + "': larger than 1 MiB (1048576 bytes)");
    // A device has no size to check first: reading stops one byte past the limit.
    EXPECT_EQ(file_error_of("/dev/zero"), "config: cannot read '/dev/zero': larger than 1 MiB (1048576 bytes)");
    EXPECT_EQ(file_error_of("/dev/null"), "no error");
    // A FIFO would wait for a writer: it is refused at once.
    const TempPath fifo("fifo.yaml");
    ASSERT_EQ(::mkfifo(fifo.path().c_str(), 0600), 0);
    EXPECT_EQ(file_error_of(fifo.path()),
              "config: cannot read '" + fifo.path().string() + "': is a FIFO or socket, not a file");
}

TEST(ConfigFile, AnErrorIsOneLineWhateverTheValue)
{
    EXPECT_EQ(error_of("service: \"two\\nlines\\r\\x01\""),
              "config: service: expected a mapping, got 'two\\nlines\\r\\x01'");
    EXPECT_EQ(error_of("\x90\x01\r)"), "config: (yaml):1:1: not UTF-8 (a config file is UTF-8 text)");
    EXPECT_EQ(error_of("\xc2\xb5\x01\r)"),
              "config: (top level): expected a mapping of keys, got text (is this a config file?)");
    EXPECT_EQ(error_of("key: \"\\\r\""), "config: (yaml):1:9: unknown escape character: \\r");
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
    // A connection string may hold a password: it is never shown.
    EXPECT_EQ(describe(StoreConfig{StoreConfig::Kind::postgres, "postgresql://ada:s3cret@db/book"}), "postgres");
}

TEST(ConfigFile, PostgresTakesAConnectionStringOrAMapping)
{
    const auto url = load_config_text("addr-db: {postgres: 'host=db.example dbname=book'}").store;
    EXPECT_EQ(url.kind, StoreConfig::Kind::postgres);
    EXPECT_EQ(url.location, "host=db.example dbname=book");
    EXPECT_EQ(url.pool_size, StoreConfig{}.pool_size);
    EXPECT_EQ(url.timeout_ms, StoreConfig{}.timeout_ms);
    // Empty: everything from the PG* environment.
    EXPECT_EQ(load_config_text("addr-db: {postgres: ''}").store.location, "");
    const auto tuned =
        load_config_text(
            "addr-db: {postgres: {url: 'postgresql://ada@db.example/book', pool_size: 8, timeout_ms: 250}}")
            .store;
    EXPECT_EQ(tuned.kind, StoreConfig::Kind::postgres);
    EXPECT_EQ(tuned.location, "postgresql://ada@db.example/book");
    EXPECT_EQ(tuned.pool_size, 8U);
    EXPECT_EQ(tuned.timeout_ms, 250U);
    EXPECT_EQ(load_config_text("addr-db: {postgres: {pool_size: 2}}").store.location, "");

    EXPECT_EQ(error_of("addr-db: {postgres: [a]}"),
              "config: addr-db.postgres: expected a connection string (\"\" for the PG* environment), got a list");
    EXPECT_EQ(error_of("addr-db: {postgres: {url: 'x', pool: 2}}"), "config: addr-db.postgres.pool: unknown key");
    EXPECT_EQ(error_of("addr-db: {postgres: {pool_size: 0}}"),
              "config: addr-db.postgres.pool_size: expected an integer from 1 to 1000, got '0'");
    EXPECT_EQ(error_of("addr-db: {postgres: {pool_size: 5000}}"),
              "config: addr-db.postgres.pool_size: expected an integer from 1 to 1000, got '5000'");
    EXPECT_EQ(error_of("addr-db: {postgres: {timeout_ms: soon}}"),
              "config: addr-db.postgres.timeout_ms: expected an integer from 1 to 600000, got 'soon'");
}

}  // namespace
}  // namespace addrservice
