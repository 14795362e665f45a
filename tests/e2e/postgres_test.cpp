// The built binary on the postgres store, against a PostgreSQL server of the tests' own: instances
// sharing one database, kill -9 during writes, the database stopping and coming back, start-up errors.
#include "support/postgres.hpp"
#include "e2e/readme_session.hpp"
#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

namespace addrservice::testing {
namespace {

using boost::beast::http::field;
using boost::beast::http::status;
using boost::beast::http::verb;
using Clock = std::chrono::steady_clock;
using testing::TempDir;

/// Writes a config file naming the store in dir and returns its path.
std::string config_file(const TempDir& dir, const std::string& name, const std::string& addr_db)
{
    return dir.write(name + ".yaml", "addr-db: " + addr_db + "\n").string();
}

/// The binary on a free loopback port with a config file, its port read from the STARTING line.
class Instance {
public:
    explicit Instance(const std::string& config, const std::vector<std::string>& env = {})
        : process_(binary, {"--port", "0", "--host", "127.0.0.1", "--config", config}, env)
    {
        const auto line = process_.wait_for_line("STARTING\"");
        if (line) {
            starting_ = *line;
            port_ = port_from_log_line(*line);
        }
    }

    [[nodiscard]] std::uint16_t port() const { return port_; }
    [[nodiscard]] const std::string& starting() const { return starting_; }
    Process& process() { return process_; }

private:
    Process process_;
    std::string starting_;
    std::uint16_t port_ = 0;
};

std::string addr_db(const std::string& url, std::uint32_t timeout_ms = 5000)
{
    return "{postgres: {url: '" + url + "', timeout_ms: " + std::to_string(timeout_ms) + "}}";
}

/// The binary's exit status and output when it should not start.
std::pair<std::optional<int>, std::string> failed_start(const std::string& config,
                                                        const std::vector<std::string>& env = {})
{
    Process process(binary, {"--port", "0", "--host", "127.0.0.1", "--config", config}, env);
    const auto status = process.wait_exit(std::chrono::seconds(30));
    return {status, process.output()};
}

TEST(PostgresBinary, InstancesShareOneDatabaseAndNeverPrintThePassword)
{
    auto& server = postgres();
    const auto database = server.create_database();
    const TempDir dir("e2e-pg");
    Instance first(config_file(dir, "first", addr_db(server.url(database))));
    // The second takes its password from the environment, as libpq documents.
    Instance second(config_file(dir, "second", addr_db(server.url_without_password(database))),
                    {std::string("PGPASSWORD=") + PostgresServer::password});
    ASSERT_NE(first.port(), 0) << first.process().output();
    ASSERT_NE(second.port(), 0) << second.process().output();
    const auto name = "postgres://addrbook@127.0.0.1:" + std::to_string(server.port()) + "/" + database;
    EXPECT_NE(first.starting().find("db=\"" + name + "\""), std::string::npos) << first.starting();
    EXPECT_NE(second.starting().find("db=\"" + name + "\""), std::string::npos) << second.starting();

    HttpClient to_first(first.port());
    HttpClient to_second(second.port());
    const std::string body = R"({"full_name":"Marguerite Okonkwo-Lindqvist"})";
    const auto created = to_first.request(verb::post, "/addresses", body);
    ASSERT_EQ(created.result(), status::created) << created.body();
    const auto location = std::string(created[field::location]);
    const auto read = to_second.get(location);
    ASSERT_EQ(read.result(), status::ok);
    EXPECT_EQ(read.body(), body);
    EXPECT_EQ(read[field::etag], to_first.get(location)[field::etag]);  // the same ETag on every instance

    const std::string changed = R"({"full_name":"Tobias Renwick-Adeyemi"})";
    EXPECT_EQ(to_second.request(verb::put, location, changed).result(), status::no_content);
    EXPECT_EQ(to_first.get(location).body(), changed);
    // No list cache: the first instance's list sees the second's write at once.
    EXPECT_NE(to_first.get("/addresses").body().find(changed), std::string::npos);
    EXPECT_EQ(to_first.request(verb::delete_, location).result(), status::no_content);
    EXPECT_EQ(to_second.get(location).result(), status::not_found);
    EXPECT_EQ(to_second.get("/readyz").result(), status::ok);

    for (auto* instance : {&first, &second}) {
        instance->process().signal(SIGTERM);
        EXPECT_EQ(instance->process().wait_exit(), 0);
        EXPECT_EQ(instance->process().output().find(PostgresServer::password), std::string::npos)
            << instance->process().output();
    }
}

TEST(PostgresBinary, KillNineDuringAWriteStormLosesNoAcknowledgedWrite)
{
    auto& server = postgres();
    const auto database = server.create_database();
    const TempDir dir("e2e-pg");
    const auto config = config_file(dir, "shared", addr_db(server.url(database)));
    Instance victim(config);
    Instance survivor(config);
    ASSERT_NE(victim.port(), 0) << victim.process().output();
    ASSERT_NE(survivor.port(), 0) << survivor.process().output();

    std::mutex mutex;
    std::map<std::string, std::string> acknowledged;  // location -> the body sent (canonical already)
    std::atomic<bool> stop{false};
    std::vector<std::thread> writers;
    for (int w = 0; w < 4; ++w) {
        writers.emplace_back([&, w] {
            try {
                HttpClient client(victim.port());
                for (int i = 0; !stop; ++i) {
                    const auto body = R"({"full_name":"Writer )" + std::to_string(w) + " #" + std::to_string(i) + "\"}";
                    const auto response = client.request(verb::post, "/addresses", body);
                    if (response.result() != status::created) {
                        return;
                    }
                    const std::lock_guard lock(mutex);
                    acknowledged.emplace(std::string(response[field::location]), body);
                }
            } catch (const std::exception&) {
                // The server was killed under this writer.
            }
        });
    }
    const auto deadline = Clock::now() + std::chrono::seconds(20);
    for (;;) {
        {
            const std::lock_guard lock(mutex);
            if (acknowledged.size() >= 200 || Clock::now() > deadline) {
                break;
            }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    victim.process().signal(SIGKILL);
    EXPECT_EQ(victim.process().wait_exit(), 128 + SIGKILL);
    stop = true;
    for (auto& writer : writers) {
        writer.join();
    }
    ASSERT_GE(acknowledged.size(), 200U);
    HttpClient check(survivor.port());
    for (const auto& [location, body] : acknowledged) {
        const auto found = check.get(location);
        ASSERT_EQ(found.result(), status::ok) << location;
        EXPECT_EQ(found.body(), body) << location;
    }
}

TEST(PostgresBinary, WhileTheDatabaseIsDownRequestsGet503InTimeAndServiceResumesWithoutRestart)
{
    auto& server = postgres();
    const auto database = server.create_database();
    const TempDir dir("e2e-pg");
    constexpr std::uint32_t timeout_ms = 500;
    Instance instance(config_file(dir, "outage", addr_db(server.url(database), timeout_ms)));
    ASSERT_NE(instance.port(), 0) << instance.process().output();
    HttpClient client(instance.port());
    const std::string body = R"({"full_name":"Wren Halloway"})";
    const auto created = client.request(verb::post, "/addresses", body);
    ASSERT_EQ(created.result(), status::created);
    const auto location = std::string(created[field::location]);

    server.stop();
    for (int i = 0; i < 5; ++i) {
        const auto started = Clock::now();
        const auto read = client.get(location);
        EXPECT_EQ(read.result(), status::service_unavailable);
        EXPECT_EQ(read.reason(), "Store unavailable");
        EXPECT_EQ(read[field::retry_after], "1");
        EXPECT_EQ(nlohmann::json::parse(read.body())["message"], "Store unavailable");
        EXPECT_EQ(client.request(verb::post, "/addresses", body).result(), status::service_unavailable);
        EXPECT_LT(Clock::now() - started, std::chrono::milliseconds(2 * timeout_ms + 1000));
        EXPECT_EQ(client.get("/readyz").result(), status::service_unavailable);
        EXPECT_EQ(client.get("/livez").result(), status::ok);
    }

    server.start();
    const auto deadline = Clock::now() + std::chrono::seconds(20);
    while (client.get("/readyz").result() != status::ok && Clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    EXPECT_EQ(client.get("/readyz").result(), status::ok);
    const auto read = client.get(location);
    EXPECT_EQ(read.result(), status::ok);
    EXPECT_EQ(read.body(), body);
    EXPECT_FALSE(instance.process().wait_exit(std::chrono::milliseconds(0)));  // the same process throughout
    instance.process().signal(SIGTERM);
    EXPECT_EQ(instance.process().wait_exit(), 0);
}

TEST(PostgresBinary, StartUpErrorsAreOneLineWithoutThePassword)
{
    auto& server = postgres();
    const auto database = server.create_database();
    const TempDir dir("e2e-pg");
    const auto name = "postgres://addrbook@127.0.0.1:" + std::to_string(server.port()) + "/" + database;

    // Not a connection string: a configuration error.
    auto [status, output] =
        failed_start(config_file(dir, "invalid", addr_db("postgresql://addrbook:s3cret%zz@db/book")));
    EXPECT_EQ(status, 2);
    EXPECT_EQ(output,
              "addrservice: config: addr-db: postgres: not a valid libpq connection string (a postgresql:// URI or "
              "key=value pairs)\n");

    // A port that is no number: a configuration error too, not a failure to connect.
    std::tie(status, output) =
        failed_start(config_file(dir, "port", addr_db("postgresql://addrbook:s3cret@127.0.0.1:54x2/book")));
    EXPECT_EQ(status, 2);
    EXPECT_EQ(output, "addrservice: config: addr-db: postgres: the port is not a number from 1 to 65535\n");

    // An sslmode libpq does not know, from the environment: a configuration error as well.
    std::tie(status, output) = failed_start(config_file(dir, "sslmode", addr_db(name)), {"PGSSLMODE=requre"});
    EXPECT_EQ(status, 2);
    EXPECT_EQ(output,
              "addrservice: config: addr-db: postgres: sslmode (PGSSLMODE) is not one of disable, allow, "
              "prefer, require, verify-ca, verify-full\n");

    // Refused by the server: a runtime error, naming the store and the cause.
    std::tie(status, output) = failed_start(config_file(
        dir, "wrong",
        addr_db("postgresql://addrbook:Wrong-s3cret@127.0.0.1:" + std::to_string(server.port()) + "/" + database)));
    EXPECT_EQ(status, 1);
    EXPECT_TRUE(output.starts_with("addrservice: " + name + ": cannot connect: ")) << output;
    EXPECT_NE(output.find("password authentication failed"), std::string::npos) << output;
    EXPECT_EQ(output.find("Wrong-s3cret"), std::string::npos) << output;
    EXPECT_EQ(std::count(output.begin(), output.end(), '\n'), 1) << output;

    // Nothing listening.
    std::tie(status, output) =
        failed_start(config_file(dir, "absent", addr_db("postgresql://addrbook:s3cret@127.0.0.1:1/" + database)));
    EXPECT_EQ(status, 1);
    EXPECT_TRUE(output.starts_with("addrservice: postgres://addrbook@127.0.0.1:1/" + database + ": cannot connect: "))
        << output;
    EXPECT_EQ(output.find("s3cret"), std::string::npos) << output;

    // A schema from a newer build: a configuration error.
    {
        Instance fresh(config_file(dir, "fresh", addr_db(server.url(database))));
        ASSERT_NE(fresh.port(), 0) << fresh.process().output();
        fresh.process().signal(SIGTERM);
        EXPECT_EQ(fresh.process().wait_exit(), 0);
    }
    server.execute(database, "UPDATE addrservice_schema SET version = 9");
    std::tie(status, output) = failed_start(config_file(dir, "newer", addr_db(server.url(database))));
    EXPECT_EQ(status, 2);
    EXPECT_EQ(output, "addrservice: config: addr-db: " + name +
                          ": the database has schema version 9; this build knows versions up to 2\n");
}

TEST(PostgresBinary, WorkersShareTheDatabase)
{
    auto& server = postgres();
    const auto database = server.create_database();
    const TempDir dir("e2e-pg");
    Process process(binary, {"--port", "0", "--host", "127.0.0.1", "--workers", "3", "--config",
                             config_file(dir, "workers", addr_db(server.url(database)))});
    const auto line = process.wait_for_line("STARTING\"");
    ASSERT_TRUE(line) << process.output();
    const auto port = port_from_log_line(*line);
    std::vector<std::string> locations;
    for (int i = 0; i < 12; ++i) {
        HttpClient client(port);  // a new connection each time: the kernel spreads them over the workers
        const auto created = client.request(verb::post, "/addresses", R"({"full_name":"Worker Test"})");
        ASSERT_EQ(created.result(), status::created);
        locations.emplace_back(created[field::location]);
    }
    for (const auto& location : locations) {
        HttpClient client(port);
        EXPECT_EQ(client.get(location).result(), status::ok) << location;
    }
    process.signal(SIGTERM);
    EXPECT_EQ(process.wait_exit(), 0) << process.output();
}

}  // namespace
}  // namespace addrservice::testing
