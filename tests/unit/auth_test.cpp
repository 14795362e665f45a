#include "addrservice/auth.hpp"
#include "addrservice/config.hpp"
#include "addrservice/store/memory_store.hpp"
#include "server/app.hpp"
#include "server/authorization.hpp"
#include "support/run_task.hpp"
#include "support/sha256_hex.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace addrservice {
namespace {

using boost::beast::http::field;
using boost::beast::http::verb;

std::string parse_error(const std::string& text)
{
    try {
        TokenTable::parse(text, "tokens.txt");
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "no error";
}

using testing::sha256_hex;

/// A tokens file in a directory of its own, removed afterwards.
class ScratchFile {
public:
    explicit ScratchFile(const std::string& text) { write(text); }

    void write(const std::string& text) const { dir_.write("tokens", text); }
    [[nodiscard]] std::string path() const { return (dir_.path() / "tokens").string(); }

private:
    testing::TempDir dir_{"auth"};
};

TEST(Sha256, IsTheStandardDigest)
{
    // FIPS 180-2, appendix B.1.
    EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(TokenTable, FindsEachClientByItsTokenWithItsScope)
{
    const auto table = TokenTable::parse(
        "# who may do what\n"
        "\n"
        "read " +
            sha256_hex("reader-token") +
            " dashboard\n"
            "  write\t" +
            sha256_hex("writer-token") + "  Billing Robot 2 \r\n",
        "tokens.txt");
    EXPECT_EQ(table.size(), 2U);
    const auto* reader = table.find("reader-token");
    ASSERT_NE(reader, nullptr);
    EXPECT_EQ(reader->name, "dashboard");
    EXPECT_EQ(reader->scope, Scope::read);
    const auto* writer = table.find("writer-token");
    ASSERT_NE(writer, nullptr);
    EXPECT_EQ(writer->name, "Billing Robot 2");
    EXPECT_EQ(writer->scope, Scope::write);
}

TEST(TokenTable, AnUnknownTokenOrTheDigestItselfFindsNobody)
{
    const auto table = TokenTable::parse("read " + sha256_hex("reader-token") + " dashboard\n", "tokens.txt");
    EXPECT_EQ(table.find("reader-tokeN"), nullptr);
    EXPECT_EQ(table.find(""), nullptr);
    EXPECT_EQ(table.find(sha256_hex("reader-token")), nullptr);
    EXPECT_EQ(TokenTable{}.find("reader-token"), nullptr);
}

TEST(TokenTable, AnUpperCaseDigestIsTheSameDigest)
{
    auto hex = sha256_hex("reader-token");
    std::transform(hex.begin(), hex.end(), hex.begin(), [](unsigned char c) { return std::toupper(c); });
    const auto table = TokenTable::parse("read " + hex + " dashboard", "tokens.txt");
    ASSERT_NE(table.find("reader-token"), nullptr);
}

TEST(TokenTable, EachBadLineIsAnErrorNamingTheFileAndTheLine)
{
    const auto good = "read " + sha256_hex("a") + " dashboard\n";
    EXPECT_EQ(parse_error(good + "# fine\n\nadmin " + sha256_hex("b") + " x\n"),
              "config: auth.tokens_file: tokens.txt:4: expected read or write first (a line is \"<read|write> "
              "<sha256 hex> <client name>\")");
    EXPECT_NE(parse_error(good + "write " + sha256_hex("b").substr(1) + " x\n")
                  .find("config: auth.tokens_file: tokens.txt:2: expected the token's SHA-256 as 64 hex digits"),
              std::string::npos);
    EXPECT_NE(parse_error("write " + sha256_hex("b").substr(1) + "g x\n").find("tokens.txt:1: expected the token's"),
              std::string::npos);
    EXPECT_NE(parse_error("write my-secret-token x\n").find("tokens.txt:1: expected the token's SHA-256"),
              std::string::npos);
    EXPECT_NE(parse_error(good + "write " + sha256_hex("b") + "   \n")
                  .find("tokens.txt:2: expected a client name after the SHA-256"),
              std::string::npos);
    EXPECT_NE(parse_error("write\n").find("tokens.txt:1: expected the token's SHA-256"), std::string::npos);
    EXPECT_EQ(parse_error(good + "\n" + "write " + sha256_hex("a") + " again\n"),
              "config: auth.tokens_file: tokens.txt:3: the same token as line 1");
    EXPECT_NE(parse_error(good + "read " + sha256_hex("b") + " bell\x07\n").find("tokens.txt:2: a control character"),
              std::string::npos);
}

TEST(TokenTable, AnErrorIsOneLineAndNeverQuotesTheLine)
{
    const auto message = parse_error("write my-secret-token x\nread\n");
    EXPECT_EQ(message.find('\n'), std::string::npos);
    EXPECT_EQ(message.find("my-secret-token"), std::string::npos) << message;
}

TEST(TokenTable, AnEmptyFileHoldsNoToken)
{
    EXPECT_EQ(TokenTable::parse("", "tokens.txt").size(), 0U);
    EXPECT_EQ(TokenTable::parse("# nobody yet\n\n", "tokens.txt").size(), 0U);
}

TEST(TokenTable, LoadReadsTheFileAndNamesItInErrors)
{
    const ScratchFile file("write " + sha256_hex("w") + " deployer\nread nothing-hex reader\n");
    try {
        TokenTable::load(file.path());
        FAIL() << "a bad second line loads";
    } catch (const ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find("config: auth.tokens_file: " + file.path() + ":2: "), std::string::npos)
            << e.what();
    }
    file.write("write " + sha256_hex("w") + " deployer\n");
    EXPECT_EQ(TokenTable::load(file.path()).find("w")->name, "deployer");
    try {
        TokenTable::load(file.path() + ".missing");
        FAIL() << "a missing file loads";
    } catch (const ConfigError& e) {
        EXPECT_EQ(std::string(e.what()),
                  "config: auth.tokens_file: cannot read '" + file.path() + ".missing': No such file or directory");
    }
}

TEST(AuthConfig, TokensFileIsRequiredAndOpenDefaultsToTheProbes)
{
    const auto config = load_config_text("auth: {tokens_file: ./var/tokens}\n");
    ASSERT_TRUE(config.auth);
    EXPECT_EQ(config.auth.value().tokens_file, "./var/tokens");
    EXPECT_EQ(config.auth.value().open, (std::vector<std::string>{"/livez", "/readyz", "/healthz"}));
    EXPECT_FALSE(load_config_text("").auth);
}

TEST(AuthConfig, AGivenOpenListReplacesTheDefault)
{
    EXPECT_EQ(load_config_text("auth: {tokens_file: t, open: [/metrics]}\n").auth.value().open,
              std::vector<std::string>{"/metrics"});
    EXPECT_TRUE(load_config_text("auth:\n  tokens_file: t\n  open: []\n").auth.value().open.empty());
}

std::string config_error(const std::string& yaml)
{
    try {
        load_config_text(yaml);
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "no error";
}

TEST(AuthConfig, EveryMistakeIsOneLineNamingTheKey)
{
    EXPECT_EQ(config_error("auth: {open: [/livez]}\n"), "config: auth.tokens_file: required when auth is given");
    EXPECT_EQ(config_error("auth:\n"), "config: auth: expected a mapping, got nothing");
    EXPECT_EQ(config_error("auth: {tokens_file: t, tokens: x}\n"), "config: auth.tokens: unknown key");
    EXPECT_EQ(config_error("auth: {tokens_file: [a]}\n"),
              "config: auth.tokens_file: expected a non-empty string, got a list");
    EXPECT_EQ(config_error("auth: {tokens_file: t, open: /livez}\n"),
              "config: auth.open: expected a list of paths, got '/livez'");
    EXPECT_EQ(config_error("auth: {tokens_file: t, open: [/livez, livez]}\n"),
              "config: auth.open[1]: expected a path starting with '/' (no query, no spaces), got 'livez'");
    EXPECT_EQ(config_error("auth: {tokens_file: t, open: ['/livez?x=1']}\n"),
              "config: auth.open[0]: expected a path starting with '/' (no query, no spaces), got '/livez?x=1'");
}

}  // namespace

namespace http {
namespace {

TEST(BearerToken, IsTheToken68AfterTheSchemeInAnyCase)
{
    EXPECT_EQ(bearer_token("Bearer abc-DEF_1.2~3+4/5=="), "abc-DEF_1.2~3+4/5==");
    EXPECT_EQ(bearer_token("bearer  tok "), "tok");
    EXPECT_EQ(bearer_token("BEARER\ttok"), "tok");
    EXPECT_EQ(bearer_token("Bearer"), "");
    EXPECT_EQ(bearer_token("Bearer "), "");
    EXPECT_EQ(bearer_token("Basic dXNlcjpwYXNz"), "");
    EXPECT_EQ(bearer_token("Bearer two words"), "");
    EXPECT_EQ(bearer_token("Bearer ==="), "");
    EXPECT_EQ(bearer_token("Bearer a=b"), "");
    EXPECT_EQ(bearer_token("Bearertok"), "");
}

TEST(WriteScope, IsNeededByEveryMethodThatChangesEntries)
{
    for (const auto method : {verb::post, verb::put, verb::patch, verb::delete_}) {
        EXPECT_TRUE(needs_write_scope(method)) << boost::beast::http::to_string(method);
    }
    for (const auto method : {verb::get, verb::head, verb::options}) {
        EXPECT_FALSE(needs_write_scope(method)) << boost::beast::http::to_string(method);
    }
}

TEST(Loopback, OnlyLoopbackAddressesAre)
{
    EXPECT_TRUE(is_loopback_host("127.0.0.1"));
    EXPECT_TRUE(is_loopback_host("127.3.2.1"));
    EXPECT_TRUE(is_loopback_host("::1"));
    EXPECT_FALSE(is_loopback_host("0.0.0.0"));
    EXPECT_FALSE(is_loopback_host("::"));
    EXPECT_FALSE(is_loopback_host("192.0.2.7"));
}

class AccessControlTest : public ::testing::Test {
protected:
    ScratchFile file{"read " + sha256_hex("reader-token") + " dashboard\nwrite " + sha256_hex("writer-token") +
                     " deployer\n"};

    static boost::beast::http::fields with_authorization(std::initializer_list<std::string> values)
    {
        boost::beast::http::fields fields;
        for (const auto& value : values) {
            fields.insert(field::authorization, value);
        }
        return fields;
    }

    [[nodiscard]] AuthConfig config() const { return AuthConfig{file.path(), {"/livez", "/readyz/"}}; }
};

TEST_F(AccessControlTest, ScopesDecideWhatAKnownTokenMayDo)
{
    const AccessControl access(config());
    const auto reader = with_authorization({"Bearer reader-token"});
    const auto writer = with_authorization({"Bearer writer-token"});
    for (const auto method : {verb::get, verb::head}) {
        EXPECT_EQ(access.decide(method, "/addresses", reader).verdict, Verdict::allowed);
        EXPECT_EQ(access.decide(method, "/addresses", writer).verdict, Verdict::allowed);
    }
    for (const auto method : {verb::post, verb::put, verb::patch, verb::delete_}) {
        const auto decision = access.decide(method, "/addresses/x", reader);
        EXPECT_EQ(decision.verdict, Verdict::forbidden);
        ASSERT_NE(decision.client, nullptr);
        EXPECT_EQ(decision.client->name, "dashboard");
        EXPECT_EQ(access.decide(method, "/addresses/x", writer).verdict, Verdict::allowed);
        EXPECT_EQ(access.decide(method, "/addresses/x", writer).client->name, "deployer");
    }
}

TEST_F(AccessControlTest, NoTokenAnUnknownOneOrTwoAreUnauthorized)
{
    const AccessControl access(config());
    for (const auto& fields :
         {with_authorization({}), with_authorization({"Bearer nobody"}), with_authorization({"reader-token"}),
          with_authorization({"Basic cmVhZGVyLXRva2Vu"}), with_authorization({"Bearer reader-token", "Bearer x"}),
          with_authorization({"Bearer reader-token", "Bearer reader-token"})}) {
        const auto decision = access.decide(verb::get, "/addresses", fields);
        EXPECT_EQ(decision.verdict, Verdict::unauthorized);
        EXPECT_EQ(decision.client, nullptr);
    }
}

TEST_F(AccessControlTest, OpenPathsNeedNoTokenWithOrWithoutTheirTrailingSlash)
{
    const AccessControl access(config());
    const auto none = with_authorization({});
    EXPECT_EQ(access.decide(verb::get, "/livez", none).verdict, Verdict::open);
    EXPECT_EQ(access.decide(verb::get, "/readyz", none).verdict, Verdict::open);
    EXPECT_EQ(access.decide(verb::post, "/livez", none).verdict, Verdict::open);
    EXPECT_EQ(access.decide(verb::get, "/healthz", none).verdict, Verdict::unauthorized);
    EXPECT_EQ(access.decide(verb::get, "/livez/x", none).verdict, Verdict::unauthorized);
    EXPECT_EQ(access.decide(verb::get, "/LIVEZ", none).verdict, Verdict::unauthorized);
}

TEST_F(AccessControlTest, ReloadTakesTheNewFileAndABadOneKeepsTheOldTokens)
{
    AccessControl access(config());
    const auto newcomer = with_authorization({"Bearer new-token"});
    EXPECT_EQ(access.decide(verb::get, "/addresses", newcomer).verdict, Verdict::unauthorized);
    file.write("write " + sha256_hex("new-token") + " newcomer\n");
    EXPECT_EQ(access.reload(), 1U);
    EXPECT_EQ(access.decide(verb::get, "/addresses", newcomer).verdict, Verdict::allowed);
    EXPECT_EQ(access.decide(verb::get, "/addresses", with_authorization({"Bearer reader-token"})).verdict,
              Verdict::unauthorized);

    file.write("write " + sha256_hex("other-token") + " other\nwrite not-a-digest broken\n");
    EXPECT_THROW(access.reload(), ConfigError);
    EXPECT_EQ(access.decide(verb::get, "/addresses", newcomer).verdict, Verdict::allowed);
    EXPECT_EQ(access.decide(verb::get, "/addresses", with_authorization({"Bearer other-token"})).verdict,
              Verdict::unauthorized);
}

TEST_F(AccessControlTest, ABadFileIsRefusedAtConstruction)
{
    file.write("write x y\n");
    EXPECT_THROW(AccessControl{config()}, ConfigError);
}

LoggingConfig test_logging()
{
    LoggingConfig config;
    config.console = ConsoleFormat::detailed;
    config.async = false;
    return config;
}

TEST_F(AccessControlTest, TheAppLogsEachReloadAndABadFileAtError)
{
    std::ostringstream log;
    Logger logger(test_logging(), log);
    AddressService service(std::make_shared<MemoryStore>());
    App app(service, logger, AppOptions{false, 1048576, config()});
    app.reload("SIGHUP");
    EXPECT_NE(log.str().find(R"(INFO : message="RELOAD" signal="SIGHUP" reloaded="tokens" tokens_file=")" +
                             file.path() + R"(" tokens=2)"),
              std::string::npos)
        << log.str();
    file.write("write nope broken\n");
    app.reload("SIGHUP");
    EXPECT_NE(log.str().find(R"(ERROR : message="RELOAD" signal="SIGHUP" reloaded="nothing" error="config: )"
                             R"(auth.tokens_file: )" +
                             file.path() + ":1: expected the token's SHA-256"),
              std::string::npos)
        << log.str();
    EXPECT_NE(log.str().find("(the tokens read before stay)"), std::string::npos) << log.str();
}

TEST(AppReload, WithoutAuthNothingIsReloaded)
{
    std::ostringstream log;
    Logger logger(test_logging(), log);
    AddressService service(std::make_shared<MemoryStore>());
    App app(service, logger, AppOptions{});
    app.reload("SIGHUP");
    EXPECT_NE(log.str().find(R"(INFO : message="RELOAD" signal="SIGHUP" reloaded="nothing")"), std::string::npos)
        << log.str();
}

TEST(NoAuthWarning, IsLoggedOnlyWithoutAuthOnANonLoopbackAddress)
{
    std::ostringstream log;
    Logger logger(test_logging(), log);
    Config config;
    config.host = "127.0.0.1";
    warn_if_unauthenticated(config, logger);
    EXPECT_EQ(log.str(), "");
    config.host = "0.0.0.0";
    config.auth = AuthConfig{"tokens", {}};
    warn_if_unauthenticated(config, logger);
    EXPECT_EQ(log.str(), "");
    config.auth.reset();
    warn_if_unauthenticated(config, logger);
    EXPECT_NE(log.str().find(R"(WARNING : message="NO AUTHENTICATION" host="0.0.0.0")"), std::string::npos)
        << log.str();
}

}  // namespace
}  // namespace http
}  // namespace addrservice
