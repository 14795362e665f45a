// The built binary with auth: tokens from a file, refused files, SIGHUP reloads, the start-up warning.
#include "e2e/readme_session.hpp"
#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/samples.hpp"
#include "support/sha256_hex.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

namespace addrservice::testing {
namespace {

using boost::beast::http::status;
using boost::beast::http::verb;

/// A working directory for one run of the binary, with a config naming ./tokens; removed afterwards.
class AuthDir {
public:
    AuthDir() { dir_.write("config.yaml", "addr-db: {memory: null}\nauth: {tokens_file: ./tokens}\n"); }

    /// Replaces the tokens file whole (a rename, as an editor or a deployment would).
    void write_tokens(const std::string& text) const
    {
        std::filesystem::rename(dir_.write("tokens.new", text), dir_.path() / "tokens");
    }
    [[nodiscard]] std::string path() const { return dir_.path().string(); }

private:
    TempDir dir_{"e2e-auth"};
};

std::vector<std::string> serve_args()
{
    return {"--config", "config.yaml", "--port", "0", "--host", "127.0.0.1"};
}

status get_with(std::uint16_t port, const std::string& token)
{
    HttpClient client(port);
    return client.request(verb::get, "/addresses", {}, {{"Authorization", "Bearer " + token}}).result();
}

TEST(BinaryAuth, TokensFromTheFileAreCheckedAndSighupReadsItAgain)
{
    const AuthDir dir;
    dir.write_tokens("read " + sha256_hex("first-token-3Kd9") + " monitor\n");
    Process service(binary, serve_args(), {}, dir.path());
    const auto starting = service.wait_for_line("STARTING\"");
    ASSERT_TRUE(starting) << service.output();
    const auto port = port_from_log_line(*starting);
    EXPECT_EQ(get_with(port, "first-token-3Kd9"), status::ok);
    EXPECT_EQ(get_with(port, "second-token-8Xq1"), status::unauthorized);
    EXPECT_EQ(HttpClient(port).get("/livez").result(), status::ok);

    dir.write_tokens("write " + sha256_hex("second-token-8Xq1") + " deployer\n");
    service.signal(SIGHUP);
    const auto reloaded = service.wait_for_line(R"(message="RELOAD")");
    ASSERT_TRUE(reloaded) << service.output();
    EXPECT_NE(reloaded->find(R"(INFO : message="RELOAD" signal="SIGHUP" reloaded="tokens" tokens_file="./tokens" )"
                             R"(tokens=1)"),
              std::string::npos)
        << *reloaded;
    EXPECT_EQ(get_with(port, "second-token-8Xq1"), status::ok);
    EXPECT_EQ(get_with(port, "first-token-3Kd9"), status::unauthorized);

    // A bad file on reload: an ERROR line naming it, and the tokens in force stay.
    dir.write_tokens("write " + sha256_hex("third-token-5Wm2") + " other\nwrite third-token-5Wm2 oops\n");
    service.signal(SIGHUP);
    const auto refused = service.wait_for_line(R"(message="RELOAD")");
    ASSERT_TRUE(refused) << service.output();
    EXPECT_NE(refused->find(R"(ERROR : message="RELOAD" signal="SIGHUP" reloaded="nothing" )"
                            R"(error="config: auth.tokens_file: ./tokens:2: expected the token's SHA-256)"),
              std::string::npos)
        << *refused;
    EXPECT_EQ(get_with(port, "second-token-8Xq1"), status::ok);
    EXPECT_EQ(get_with(port, "third-token-5Wm2"), status::unauthorized);

    service.signal(SIGTERM);
    EXPECT_EQ(service.wait_exit(), 0);
    const auto& output = service.output();
    EXPECT_NE(output.find(R"(client="deployer")"), std::string::npos) << output;
    for (const char* token : {"first-token-3Kd9", "second-token-8Xq1"}) {
        EXPECT_EQ(output.find(token), std::string::npos) << token << "\n" << output;
    }
    EXPECT_EQ(output.find("NO AUTHENTICATION"), std::string::npos) << output;
}

TEST(BinaryAuth, ABadTokensFileIsOneLineNamingFileAndLineAndExitTwo)
{
    const AuthDir dir;
    dir.write_tokens("# clients\nread " + sha256_hex("a") + " monitor\nread " + sha256_hex("b") + "\n");
    Process service(binary, serve_args(), {}, dir.path());
    EXPECT_EQ(service.wait_exit(), 2);
    EXPECT_EQ(service.output(),
              "addrservice: config: auth.tokens_file: ./tokens:3: expected a client name after the "
              "SHA-256 (a line is \"<read|write> <sha256 hex> <client name>\")\n");

    // The same with workers: refused once, before any of them starts.
    std::ofstream(std::filesystem::path(dir.path()) / "config.yaml")
        << "addr-db: {sqlite: ./var/book.db}\nauth: {tokens_file: ./tokens}\n";
    auto args = serve_args();
    args.insert(args.end(), {"--workers", "2"});
    Process workers(binary, args, {}, dir.path());
    EXPECT_EQ(workers.wait_exit(), 2);
    EXPECT_EQ(workers.output(), service.output());

    std::filesystem::remove(std::filesystem::path(dir.path()) / "tokens");
    Process missing(binary, serve_args(), {}, dir.path());
    EXPECT_EQ(missing.wait_exit(), 2);
    EXPECT_EQ(missing.output(),
              "addrservice: config: auth.tokens_file: cannot read './tokens': No such file or "
              "directory\n");
}

TEST(BinaryAuth, WithoutAuthAWarningAtStartOnANonLoopbackAddress)
{
    const AuthDir dir;
    std::ofstream(std::filesystem::path(dir.path()) / "config.yaml") << "addr-db: {memory: null}\n";
    Process exposed(binary, {"--config", "config.yaml", "--port", "0", "--host", "0.0.0.0"}, {}, dir.path());
    const auto warning = exposed.wait_for_line("NO AUTHENTICATION");
    ASSERT_TRUE(warning) << exposed.output();
    EXPECT_NE(warning->find(R"(WARNING : message="NO AUTHENTICATION" host="0.0.0.0")"), std::string::npos) << *warning;
    exposed.signal(SIGTERM);
    EXPECT_EQ(exposed.wait_exit(), 0);

    Process local(binary, serve_args(), {}, dir.path());
    ASSERT_TRUE(local.wait_for_line("STARTING\"")) << local.output();
    local.signal(SIGTERM);
    EXPECT_EQ(local.wait_exit(), 0);
    EXPECT_EQ(local.output().find("NO AUTHENTICATION"), std::string::npos) << local.output();
}

TEST(BinaryAuth, TheReadmeAuthSessionRunsAsWritten)
{
    const auto steps = session_steps("<!-- auth-session -->");
    ASSERT_GE(steps.size(), 8U);
    const AuthDir dir;
    dir.write_tokens("");
    std::filesystem::create_directories(std::filesystem::path(dir.path()) / "var");
    std::filesystem::rename(std::filesystem::path(dir.path()) / "tokens",
                            std::filesystem::path(dir.path()) / "var" / "tokens");
    std::ofstream(std::filesystem::path(dir.path()) / "config.yaml")
        << "addr-db: {memory: null}\nauth: {tokens_file: ./var/tokens}\n";
    std::filesystem::create_directory_symlink(source_dir() / "data", std::filesystem::path(dir.path()) / "data");
    Process service(binary, serve_args(), {}, dir.path());
    const auto starting = service.wait_for_line("STARTING\"");
    ASSERT_TRUE(starting) << service.output();
    const auto port = std::to_string(port_from_log_line(*starting));

    for (const auto& [command, expected] : steps) {
        if (command.starts_with("tools/run.py token ")) {
            // A new token each time: the one documented must be the one its line grants.
            std::istringstream printed(expected);
            std::string notice;
            std::string token;
            std::string line;
            std::getline(printed, notice);
            std::getline(printed, token);
            std::getline(printed, line);
            EXPECT_NE(line.find(' ' + sha256_hex(token) + ' '), std::string::npos) << command;
            continue;
        }
        if (command.starts_with("kill -HUP ")) {
            // This service, not whichever the pattern finds; the next step waits for the reload.
            service.signal(SIGHUP);
            ASSERT_TRUE(service.wait_for_line(R"(message="RELOAD")")) << service.output();
            continue;
        }
        const auto script = std::filesystem::path(dir.path()) / "step.sh";
        std::ofstream(script) << "exec 2>/dev/null\n"
                              << std::regex_replace(command, std::regex("localhost:8080"), "localhost:" + port) << "\n";
        Process shell("/bin/bash", {script.string()}, {}, dir.path());
        ASSERT_EQ(shell.wait_exit(), 0) << command << "\n" << shell.output();
        EXPECT_EQ(comparable_lines(shell.output()), comparable_lines(expected)) << "$ " << command;
    }
    service.signal(SIGTERM);
    EXPECT_EQ(service.wait_exit(), 0);
    EXPECT_NE(service.output().find(R"(client="deploy-bot")"), std::string::npos) << service.output();
}

}  // namespace
}  // namespace addrservice::testing
