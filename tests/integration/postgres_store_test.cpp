// The postgres store against a real PostgreSQL server of the tests' own (support/postgres.hpp): the
// conformance suite, start-up and its errors, migrations, several instances on one database, outages.
#include "addrservice/store/postgres_store.hpp"
#include "addrservice/store/postgres_connection.hpp"
#include "support/postgres.hpp"
#include "support/run_task.hpp"
#include "support/store_conformance.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <atomic>
#include <barrier>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

namespace addrservice {
namespace {

using Clock = std::chrono::steady_clock;
using testing::postgres;
using testing::PostgresServer;
using testing::run_task;
using testing::StoreConformance;
using testing::StoreKind;

StoreConfig postgres_config(std::string url, std::uint32_t timeout_ms = 5000, std::uint32_t pool_size = 4)
{
    StoreConfig config;
    config.kind = StoreConfig::Kind::postgres;
    config.location = std::move(url);
    config.timeout_ms = timeout_ms;
    config.pool_size = pool_size;
    return config;
}

/// A store on a new database of the test server; query may choose TLS or not.
std::shared_ptr<AddressStore> store_on_new_database(boost::asio::io_context& io, const std::string& query)
{
    auto& server = postgres();
    return std::make_shared<PostgresStore>(postgres_config(server.url(server.create_database()) + query), io);
}

// Over plain TCP and over TLS: libpq reads what TLS has decrypted in pieces, which the loop must not wait on.
INSTANTIATE_TEST_SUITE_P(Postgres, StoreConformance,
                         ::testing::Values(StoreKind{"postgres",
                                                     [](const std::filesystem::path&, boost::asio::io_context& io) {
                                                         return store_on_new_database(io, "?sslmode=disable");
                                                     }},
                                           StoreKind{"postgres_tls",
                                                     [](const std::filesystem::path&, boost::asio::io_context& io) {
                                                         return store_on_new_database(io, "?sslmode=require");
                                                     }}),
                         [](const ::testing::TestParamInfo<StoreKind>& param_info) { return param_info.param.name; });

EntryPtr entry(const std::string& name)
{
    return make_stored_entry(R"({"full_name":")" + name + R"("})");
}

/// Waits (running io) until check() holds or the time is up; returns whether it held.
template <typename Check>
bool eventually(boost::asio::io_context& io, Check check, std::chrono::seconds limit = std::chrono::seconds(15))
{
    const auto deadline = Clock::now() + limit;
    while (Clock::now() < deadline) {
        if (check()) {
            return true;
        }
        io.restart();
        io.run_for(std::chrono::milliseconds(50));
    }
    return check();
}

/// True once the store's pool has an open connection that answers: a test whose timeout is short waits
/// for this before its first statement, so that a slow start (a loaded machine) is not taken for an outage.
bool connected(boost::asio::io_context& io, PostgresStore& store)
{
    return eventually(io, [&] { return run_task(io, store.ready()); });
}

/// A session of the superuser's over the socket, kept open (to hold a lock across statements).
class AdminSession {
public:
    explicit AdminSession(const std::string& database)
    {
        const auto& server = postgres();
        const auto port = std::to_string(server.port());
        const std::array<const char*, 5> keywords{"host", "port", "user", "dbname", nullptr};
        const std::array<const char*, 5> values{server.directory().c_str(), port.c_str(), "postgres", database.c_str(),
                                                nullptr};
        conn_ = PQconnectdbParams(keywords.data(), values.data(), 0);
        if (PQstatus(conn_) != CONNECTION_OK) {
            ADD_FAILURE() << PQerrorMessage(conn_);
        }
    }
    ~AdminSession() { PQfinish(conn_); }
    AdminSession(const AdminSession&) = delete;
    AdminSession& operator=(const AdminSession&) = delete;
    AdminSession(AdminSession&&) = delete;
    AdminSession& operator=(AdminSession&&) = delete;

    void run(const std::string& sql)
    {
        PGresult* result = PQexec(conn_, sql.c_str());
        const auto status = PQresultStatus(result);
        EXPECT_TRUE(status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK)
            << sql << ": " << PQresultErrorMessage(result);
        PQclear(result);
    }

private:
    PGconn* conn_ = nullptr;
};

/// A query of how many of the store's sessions on database wait for a lock.
std::string lock_waiters(const std::string& database)
{
    return "SELECT count(*) FROM pg_stat_activity WHERE datname = '" + database +
           "' AND wait_event_type = 'Lock' AND application_name = 'addrservice'";
}

/// A TCP proxy to the test server on a thread of its own: what the server sends reaches the client
/// delay later (a slow network), and while silent nothing passes either way (a network that drops
/// everything, with no reset).
class Proxy {
public:
    Proxy(std::uint16_t upstream, std::chrono::milliseconds delay)
        : acceptor_(io_, {boost::asio::ip::make_address("127.0.0.1"), 0}), upstream_(upstream), delay_ms_(delay.count())
    {
        boost::asio::co_spawn(io_, accept(), boost::asio::detached);
        thread_ = std::thread([this] { io_.run(); });
    }
    ~Proxy()
    {
        io_.stop();
        thread_.join();
    }
    Proxy(const Proxy&) = delete;
    Proxy& operator=(const Proxy&) = delete;
    Proxy(Proxy&&) = delete;
    Proxy& operator=(Proxy&&) = delete;

    [[nodiscard]] std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
    void silent(bool on) { silent_ = on; }
    /// From now on, every answer of the server's takes this long to arrive.
    void delay(std::chrono::milliseconds answers) { delay_ms_ = answers.count(); }

private:
    using Socket = boost::asio::ip::tcp::socket;

    Task<void> accept()
    {
        for (;;) {
            auto client = std::make_shared<Socket>(co_await acceptor_.async_accept(boost::asio::use_awaitable));
            auto server = std::make_shared<Socket>(io_);
            boost::system::error_code ec;
            server->connect({boost::asio::ip::make_address("127.0.0.1"), upstream_}, ec);
            if (ec) {
                continue;
            }
            boost::asio::co_spawn(io_, pump(client, server, false), boost::asio::detached);
            boost::asio::co_spawn(io_, pump(server, client, true), boost::asio::detached);
        }
    }

    Task<void> pump(std::shared_ptr<Socket> from, std::shared_ptr<Socket> to, bool answers)
    {
        std::array<char, 65536> buffer{};
        boost::asio::steady_timer timer(io_);
        for (;;) {
            const auto [read_ec, n] = co_await from->async_read_some(boost::asio::buffer(buffer),
                                                                     boost::asio::as_tuple(boost::asio::use_awaitable));
            if (read_ec) {
                to->close();
                co_return;
            }
            if (silent_) {
                continue;  // dropped
            }
            const std::chrono::milliseconds delay(answers ? delay_ms_.load() : 0);
            if (delay.count() > 0) {
                timer.expires_after(delay);
                co_await timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
            }
            const auto [write_ec, written] = co_await boost::asio::async_write(
                *to, boost::asio::buffer(buffer.data(), n), boost::asio::as_tuple(boost::asio::use_awaitable));
            if (write_ec) {
                from->close();
                co_return;
            }
        }
    }

    boost::asio::io_context io_;
    boost::asio::ip::tcp::acceptor acceptor_;
    std::uint16_t upstream_;
    std::atomic<std::chrono::milliseconds::rep> delay_ms_;
    std::atomic<bool> silent_{false};
    std::thread thread_;
};

// Start-up, its name and its errors.

TEST(PostgresStore, DescribeNamesUserHostPortAndDatabaseButNeverThePassword)
{
    auto& server = postgres();
    const auto database = server.create_database();
    boost::asio::io_context io;
    const PostgresStore store(postgres_config(server.url(database)), io);
    EXPECT_EQ(store.describe(), "postgres://addrbook@127.0.0.1:" + std::to_string(server.port()) + "/" + database);
    EXPECT_EQ(store.describe().find(PostgresServer::password), std::string::npos);
}

TEST(PostgresStore, AnEmptyConnectionStringTakesThePgEnvironmentAndAPasswordFile)
{
    auto& server = postgres();
    const auto database = server.create_database();
    const auto passfile = server.directory() / "pgpass";
    {
        std::ofstream(passfile) << "127.0.0.1:" << server.port() << ":" << database << ":" << PostgresServer::role
                                << ":" << PostgresServer::password << "\n";
        std::filesystem::permissions(passfile,
                                     std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    }
    const std::array<std::pair<const char*, std::string>, 5> environment{{{"PGHOST", "127.0.0.1"},
                                                                          {"PGPORT", std::to_string(server.port())},
                                                                          {"PGUSER", PostgresServer::role},
                                                                          {"PGDATABASE", database},
                                                                          {"PGPASSFILE", passfile.string()}}};
    for (const auto& [name, value] : environment) {
        ::setenv(name, value.c_str(), 1);
    }
    boost::asio::io_context io;
    try {
        PostgresStore store(postgres_config(""), io);
        EXPECT_EQ(store.describe(), "postgres://addrbook@127.0.0.1:" + std::to_string(server.port()) + "/" + database);
        run_task(io, store.create("from-env", entry("Env")));
        EXPECT_EQ(run_task(io, store.read("from-env"))->json, entry("Env")->json);
    } catch (const StoreError& e) {
        ADD_FAILURE() << e.what();
    }
    for (const auto& [name, value] : environment) {
        ::unsetenv(name);
    }
}

TEST(PostgresStore, AWrongPasswordAtStartIsUnavailableNamingTheCauseNotThePassword)
{
    auto& server = postgres();
    const auto database = server.create_database();
    boost::asio::io_context io;
    const std::string wrong = "Not-the-Pa55word";
    try {
        PostgresStore store(postgres_config("postgresql://addrbook:" + wrong +
                                            "@127.0.0.1:" + std::to_string(server.port()) + "/" + database),
                            io);
        FAIL() << "opened with a wrong password";
    } catch (const StoreUnavailableError& e) {
        const std::string message = e.what();
        EXPECT_NE(message.find("postgres://addrbook@127.0.0.1:" + std::to_string(server.port()) + "/" + database +
                               ": cannot connect: "),
                  std::string::npos)
            << message;
        EXPECT_NE(message.find("password authentication failed"), std::string::npos) << message;
        EXPECT_EQ(message.find(wrong), std::string::npos) << message;
        EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    }
}

TEST(PostgresStore, AHostNameIsLookedUpAndKeptInTheName)
{
    // libpq would look it up with a blocking call; the store looks it up off the loop and hands libpq
    // the addresses, keeping the name.
    auto& server = postgres();
    const auto database = server.create_database();
    boost::asio::io_context io;
    const auto url = "postgresql://addrbook:" + std::string(PostgresServer::password) +
                     "@localhost:" + std::to_string(server.port()) + "/" + database;
    PostgresStore store(postgres_config(url), io);
    EXPECT_EQ(store.describe(), "postgres://addrbook@localhost:" + std::to_string(server.port()) + "/" + database);
    run_task(io, store.create("by-name", entry("Named")));
    EXPECT_NE(run_task(io, store.read("by-name")), nullptr);
}

TEST(PostgresConnection, HostNamesBecomeAddressesOneEntryEachAndSocketsStayAsTheyAre)
{
    boost::asio::io_context io;
    const postgres::ConnectOptions options{{"host", "localhost,/var/run/postgresql,192.0.2.7"}, {"port", "5432"}};
    const auto resolved =
        run_task(io, postgres::with_host_addresses(options, postgres::deadline_in(std::chrono::seconds(5))));
    std::map<std::string, std::string> values(resolved.begin(), resolved.end());
    // localhost may have more than one address (127.0.0.1, ::1): each is an entry of its own.
    std::vector<std::string> hosts;
    std::vector<std::string> addresses;
    std::istringstream host_list(values["host"]);
    std::istringstream address_list(values["hostaddr"] + ",");
    for (std::string item; std::getline(host_list, item, ',');) {
        hosts.push_back(item);
    }
    for (std::string item; std::getline(address_list, item, ',');) {
        addresses.push_back(item);
    }
    ASSERT_EQ(hosts.size(), addresses.size()) << values["host"] << " / " << values["hostaddr"];
    ASSERT_GE(hosts.size(), 3U);
    EXPECT_EQ(hosts.front(), "localhost");
    EXPECT_TRUE(addresses.front() == "127.0.0.1" || addresses.front() == "::1") << addresses.front();
    EXPECT_EQ(hosts[hosts.size() - 2], "/var/run/postgresql");
    EXPECT_EQ(addresses[addresses.size() - 2], "");
    EXPECT_EQ(hosts.back(), "192.0.2.7");
    EXPECT_EQ(addresses.back(), "192.0.2.7");
    EXPECT_EQ(values["port"], "5432");
}

TEST(PostgresStore, AHostNameThatDoesNotResolveIsUnavailable)
{
    boost::asio::io_context io;
    try {
        PostgresStore store(postgres_config("postgresql://addrbook:s3cret@db.invalid:5432/book", 3000), io);
        FAIL() << "opened an unknown host";
    } catch (const StoreUnavailableError& e) {
        const std::string message = e.what();
        EXPECT_NE(
            message.find("postgres://addrbook@db.invalid:5432/book: cannot connect: cannot look up \"db.invalid\""),
            std::string::npos)
            << message;
        EXPECT_EQ(message.find("s3cret"), std::string::npos) << message;
    }
}

TEST(PostgresStore, NoServerAtStartIsUnavailableAtOnce)
{
    boost::asio::io_context io;
    std::uint16_t port = 0;
    {
        boost::asio::ip::tcp::acceptor probe(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
        port = probe.local_endpoint().port();
    }
    const auto started = Clock::now();
    try {
        PostgresStore store(postgres_config("postgresql://addrbook@127.0.0.1:" + std::to_string(port) + "/book"), io);
        FAIL() << "opened without a server";
    } catch (const StoreUnavailableError& e) {
        EXPECT_NE(std::string(e.what()).find("cannot connect: "), std::string::npos) << e.what();
    }
    EXPECT_LT(Clock::now() - started, std::chrono::seconds(3));
}

TEST(PostgresStore, AServerThatNeverAnswersAtStartTimesOut)
{
    // Connections are accepted by the kernel (the backlog) and then nothing is ever said.
    boost::asio::io_context io;
    boost::asio::ip::tcp::acceptor silent(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
    const auto port = silent.local_endpoint().port();
    const auto started = Clock::now();
    try {
        PostgresStore store(postgres_config("postgresql://addrbook@127.0.0.1:" + std::to_string(port) + "/book", 300),
                            io);
        FAIL() << "opened a silent server";
    } catch (const StoreUnavailableError& e) {
        EXPECT_NE(std::string(e.what()).find("cannot connect: no answer within 300 ms"), std::string::npos) << e.what();
    }
    const auto elapsed = Clock::now() - started;
    EXPECT_GE(elapsed, std::chrono::milliseconds(300));
    EXPECT_LT(elapsed, std::chrono::seconds(3));
}

// Migrations.

TEST(PostgresStore, ARowEditedIntoSomethingThatIsNotAnEntryIsAStoreErrorNamingItNeverServed)
{
    auto& server = postgres();
    const auto database = server.create_database();
    boost::asio::io_context io;
    PostgresStore store(postgres_config(server.url(database)), io);
    run_task(io, store.create("kept", make_stored_entry(R"({"full_name":"Ottilie Brandvold"})")));
    server.execute(database,
                   "INSERT INTO addrservice_entries VALUES ('x1', '\"x\"', 'not json'),"
                   "('x2', '\"x\"', '[1]'), ('x3', 'x' || chr(13) || chr(10) || 'Set-Cookie: a=b', '{}')");
    for (const auto* id : {"x1", "x2", "x3"}) {
        try {
            (void)run_task(io, store.read(id));
            ADD_FAILURE() << "the row of " << id << " was served";
        } catch (const StoreError& e) {
            EXPECT_NE(std::string(e.what()).find(std::string("postgres: the row of id '") + id + "' is not an entry"),
                      std::string::npos)
                << e.what();
        }
        try {
            // Nor is its ETag sent with a 412.
            (void)run_task(io, store.remove_if(id, R"("other")"));
            ADD_FAILURE() << "the row of " << id << " was served";
        } catch (const StoreError& e) {
            EXPECT_NE(std::string(e.what()).find(std::string("postgres: the row of id '") + id + "' is not an entry"),
                      std::string::npos)
                << e.what();
        }
    }
    EXPECT_THROW((void)run_task(io, store.list()), StoreError);
    EXPECT_THROW((void)run_task(io, store.range("", 10)), StoreError);
    EXPECT_EQ(run_task(io, store.read("kept"))->json, R"({"full_name":"Ottilie Brandvold"})");
    EXPECT_EQ(run_task(io, store.range("", 1)).size(), 1U);  // the page before the first bad row
}

TEST(PostgresMigrations, AVersionOneDatabaseIsMigratedWithItsEntries)
{
    auto& server = postgres();
    const auto database = server.create_database();
    const std::string json = R"({"full_name":"Oriel Vantongeren"})";
    // As version 1 left it.
    server.execute(database,
                   "CREATE TABLE addrservice_schema (version integer NOT NULL);"
                   "INSERT INTO addrservice_schema VALUES (1);"
                   "CREATE TABLE addrservice_entries (id text COLLATE \"C\" PRIMARY KEY, etag text NOT NULL, "
                   "json text NOT NULL);"
                   "INSERT INTO addrservice_entries VALUES ('oriel', '" +
                       make_etag(json) + "', '" + json +
                       "');"
                       "ALTER TABLE addrservice_entries OWNER TO addrbook;"
                       "ALTER TABLE addrservice_schema OWNER TO addrbook;");
    boost::asio::io_context io;
    {
        PostgresStore store(postgres_config(server.url(database)), io);
        EXPECT_EQ(store.size(), 1U);
        const auto found = run_task(io, store.read("oriel"));
        ASSERT_NE(found, nullptr);
        EXPECT_EQ(found->json, json);
        EXPECT_EQ(found->etag, make_etag(json));
    }
    EXPECT_EQ(server.execute(database, "SELECT version FROM addrservice_schema"),
              std::to_string(PostgresStore::schema_version));
    // Version 2 refuses ids the service could not serve, whoever writes them.
    EXPECT_THROW(server.execute(database, "INSERT INTO addrservice_entries VALUES ('a/b', 'x', '{}')"),
                 std::runtime_error);
}

TEST(PostgresMigrations, ANewerSchemaIsRefusedWithAClearMessage)
{
    auto& server = postgres();
    const auto database = server.create_database();
    boost::asio::io_context io;
    {
        const PostgresStore store(postgres_config(server.url(database)), io);
    }
    server.execute(database, "UPDATE addrservice_schema SET version = 7");
    try {
        PostgresStore store(postgres_config(server.url(database)), io);
        FAIL() << "opened a newer schema";
    } catch (const StoreOpenError& e) {
        EXPECT_NE(std::string(e.what()).find("/" + database +
                                             ": the database has schema version 7; this build knows versions up to 2"),
                  std::string::npos)
            << e.what();
    }
}

TEST(PostgresMigrations, AMigrationTheRoleMayNotRunIsAnOpenError)
{
    auto& server = postgres();
    const auto database = server.create_database();
    // Since PostgreSQL 15 only the owner of the public schema may create tables in it.
    server.execute(database, "ALTER DATABASE " + database + " OWNER TO postgres");
    server.execute(database, "ALTER SCHEMA public OWNER TO postgres");
    boost::asio::io_context io;
    try {
        PostgresStore store(postgres_config(server.url(database)), io);
        FAIL() << "migrated without the right to";
    } catch (const StoreOpenError& e) {
        EXPECT_NE(std::string(e.what()).find("/" + database + ": permission denied for schema public"),
                  std::string::npos)
            << e.what();
    }
}

TEST(PostgresMigrations, InstancesStartingTogetherOnAnEmptyDatabaseAllComeUp)
{
    auto& server = postgres();
    const auto database = server.create_database();
    constexpr int instances = 6;
    std::barrier start_together(instances);
    std::vector<std::string> failures(instances);
    std::vector<std::thread> threads;
    for (int i = 0; i < instances; ++i) {
        threads.emplace_back([&, i] {
            boost::asio::io_context io;
            start_together.arrive_and_wait();
            try {
                PostgresStore store(postgres_config(server.url(database)), io);
                run_task(io, store.create("instance-" + std::to_string(i), entry("I")));
            } catch (const std::exception& e) {
                failures[static_cast<std::size_t>(i)] = e.what();
            }
        });
    }
    for (auto& thread : threads) {
        thread.join();
    }
    for (const auto& failure : failures) {
        EXPECT_EQ(failure, "");
    }
    EXPECT_EQ(server.execute(database, "SELECT count(*) FROM addrservice_schema"), "1");
    EXPECT_EQ(server.execute(database, "SELECT count(*) FROM addrservice_entries"), std::to_string(instances));
}

// Several instances on one database.

TEST(PostgresStore, InstancesOnOneDatabaseSeeEachOthersWritesAtOnceWithTheSameEtags)
{
    auto& server = postgres();
    const auto url = server.url(server.create_database());
    boost::asio::io_context io;
    PostgresStore first(postgres_config(url), io);
    PostgresStore second(postgres_config(url), io);
    EXPECT_FALSE(first.version());  // nothing may be cached: others write too
    run_task(io, first.create("shared", entry("One")));
    const auto seen = run_task(io, second.read("shared"));
    ASSERT_NE(seen, nullptr);
    EXPECT_EQ(seen->json, entry("One")->json);
    EXPECT_EQ(seen->etag, entry("One")->etag);
    EXPECT_TRUE(run_task(io, second.replace("shared", entry("Two"))));
    EXPECT_EQ(run_task(io, first.read("shared"))->etag, entry("Two")->etag);
    EXPECT_EQ(run_task(io, first.list()).size(), 1U);
    EXPECT_TRUE(run_task(io, second.remove("shared")));
    EXPECT_EQ(run_task(io, first.read("shared")), nullptr);
    // A third instance counts what is there when it starts.
    run_task(io, first.create("later", entry("Three")));
    const PostgresStore third(postgres_config(url), io);
    EXPECT_EQ(third.size(), 1U);
}

/// Runs write(i) for i in [0, count) all at once on io and returns their results in order.
template <typename Write>
std::vector<WriteResult> race(boost::asio::io_context& io, int count, Write write)
{
    std::vector<WriteResult> results(static_cast<std::size_t>(count));
    std::size_t finished = 0;
    auto run_one = [](Task<WriteResult> task, WriteResult* result) -> Task<void> {
        *result = co_await std::move(task);
    };
    for (int i = 0; i < count; ++i) {
        boost::asio::co_spawn(io, run_one(write(i), &results[static_cast<std::size_t>(i)]),
                              [&finished](const std::exception_ptr& error) {
                                  ++finished;
                                  EXPECT_FALSE(error);
                              });
    }
    io.restart();
    while (finished < results.size() && io.run_one() > 0) {
    }
    return results;
}

std::size_t count_with(const std::vector<WriteResult>& results, WriteStatus status)
{
    return static_cast<std::size_t>(std::count_if(
        results.begin(), results.end(), [status](const WriteResult& result) { return result.status == status; }));
}

TEST(PostgresStore, OfWritersOnTwoInstancesHoldingOneEtagExactlyOneWins)
{
    auto& server = postgres();
    const auto database = server.create_database();
    const auto url = server.url(database);
    boost::asio::io_context io;
    const auto first = std::make_shared<PostgresStore>(postgres_config(url), io);
    const auto second = std::make_shared<PostgresStore>(postgres_config(url), io);
    const auto start = entry("start");
    run_task(io, first->create("hot", start));
    std::vector<EntryPtr> next;
    for (int i = 0; i < 20; ++i) {
        next.push_back(entry("writer " + std::to_string(i)));
    }
    const auto replaced = race(io, 20, [&](int i) {
        const auto& target = i % 2 == 0 ? first : second;
        return target->replace_if("hot", start->etag, next[static_cast<std::size_t>(i)]);
    });
    ASSERT_EQ(count_with(replaced, WriteStatus::done), 1U);
    EXPECT_EQ(count_with(replaced, WriteStatus::precondition_failed), 19U);
    const auto stored = run_task(io, second->read("hot"));
    ASSERT_NE(stored, nullptr);
    for (std::size_t i = 0; i < replaced.size(); ++i) {
        if (replaced[i].status == WriteStatus::done) {
            EXPECT_EQ(stored->json, next[i]->json);
        } else {
            EXPECT_EQ(replaced[i].current_etag, stored->etag);
        }
    }
    // Creates at one id, and removes holding one ETag, likewise have one winner across the instances.
    const auto created = race(io, 20, [&](int i) {
        const auto& target = i % 2 == 0 ? first : second;
        return target->create_if_absent("new", next[static_cast<std::size_t>(i)]);
    });
    EXPECT_EQ(count_with(created, WriteStatus::done), 1U);
    EXPECT_EQ(count_with(created, WriteStatus::precondition_failed), 19U);
    const auto removed = race(io, 20, [&](int i) {
        const auto& target = i % 2 == 0 ? first : second;
        return target->remove_if("hot", stored->etag);
    });
    EXPECT_EQ(count_with(removed, WriteStatus::done), 1U);
    EXPECT_EQ(count_with(removed, WriteStatus::not_found), 19U);
    EXPECT_EQ(server.execute(database, "SELECT count(*) FROM addrservice_entries"), "1");
}

TEST(PostgresStore, AnIdLongerThanTheIndexHoldsIsOneNoEntryHas)
{
    auto& server = postgres();
    boost::asio::io_context io;
    PostgresStore store(postgres_config(server.url(server.create_database())), io);
    const std::string longest(2048, 'a');
    const std::string too_long(3000, 'b');
    EXPECT_EQ(run_task(io, store.create_if_absent(longest, entry("Longest"))).status, WriteStatus::done);
    EXPECT_EQ(run_task(io, store.read(longest))->json, entry("Longest")->json);
    EXPECT_EQ(run_task(io, store.create_if_absent(too_long, entry("Too long"))).status, WriteStatus::not_found);
    EXPECT_EQ(run_task(io, store.read(too_long)), nullptr);
    EXPECT_FALSE(run_task(io, store.replace(too_long, entry("Too long"))));
    EXPECT_FALSE(run_task(io, store.remove(too_long)));
    EXPECT_EQ(run_task(io, store.replace_if(too_long, "\"x\"", entry("Too long"))).status, WriteStatus::not_found);
    EXPECT_EQ(run_task(io, store.remove_if(too_long, "\"x\"")).status, WriteStatus::not_found);
    EXPECT_THROW(run_task(io, store.create(too_long, entry("Too long"))), StoreError);
    EXPECT_EQ(run_task(io, store.range(too_long, 10)).size(), 0U);  // "aaa..." sorts before "bbb..."
    EXPECT_EQ(store.size(), 1U);
}

TEST(PostgresStore, PagesAreBytewiseWhateverTheDatabaseLocale)
{
    // A database whose own collation (ICU's en-US) sorts "a" beside "A", where bytes put "B" before "a".
    auto& server = postgres();
    server.execute("postgres", std::string("CREATE DATABASE book_en_us OWNER ") + PostgresServer::role +
                                   " TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C'");
    EXPECT_EQ(server.execute("book_en_us",
                             "SELECT string_agg(x, ',' ORDER BY x) FROM "
                             "(VALUES ('b'), ('B'), ('a'), ('A'), ('-z'), ('0')) AS ids (x)"),
              "-z,0,a,A,b,B");
    boost::asio::io_context io;
    PostgresStore store(postgres_config(server.url("book_en_us")), io);
    for (const auto* id : {"b", "B", "a", "A", "-z", "0"}) {
        run_task(io, store.create(id, entry(id)));
    }
    std::vector<std::string> ids;
    for (const auto& [id, stored] : run_task(io, store.range("", 10))) {
        ids.push_back(id);
    }
    EXPECT_EQ(ids, (std::vector<std::string>{"-z", "0", "A", "B", "a", "b"}));
    EXPECT_EQ(run_task(io, store.range("B", 1)).at(0).first, "a");
    EXPECT_EQ(run_task(io, store.range("-z", 2)).size(), 2U);
}

// Outages: never hang, never lie, recover by itself.

TEST(PostgresStore, WhileTheServerIsDownRequestsFailWithinTheTimeoutAndTheStoreRecoversBySelf)
{
    auto& server = postgres();
    const auto database = server.create_database();
    boost::asio::io_context io;
    constexpr std::uint32_t timeout_ms = 500;
    PostgresStore store(postgres_config(server.url(database), timeout_ms), io);
    ASSERT_TRUE(connected(io, store));
    run_task(io, store.create("kept", entry("Kept")));

    server.stop();
    for (int i = 0; i < 5; ++i) {
        const auto started = Clock::now();
        EXPECT_THROW(run_task(io, store.read("kept")), StoreUnavailableError);
        EXPECT_THROW(run_task(io, store.create("lost-" + std::to_string(i), entry("Lost"))), StoreUnavailableError);
        EXPECT_LT(Clock::now() - started, std::chrono::milliseconds(2 * timeout_ms + 500));
        EXPECT_FALSE(run_task(io, store.ready()));
    }

    server.start();
    EXPECT_TRUE(connected(io, store));
    const auto found = run_task(io, store.read("kept"));
    ASSERT_NE(found, nullptr);
    EXPECT_EQ(found->json, entry("Kept")->json);
    EXPECT_EQ(run_task(io, store.list()).size(), 1U);  // nothing that failed was written
}

TEST(PostgresStore, AStatementTheDatabaseHoldsFailsWithinTheTimeoutAndOthersGoOn)
{
    auto& server = postgres();
    const auto database = server.create_database();
    boost::asio::io_context io;
    constexpr std::uint32_t timeout_ms = 400;
    PostgresStore store(postgres_config(server.url(database), timeout_ms), io);
    ASSERT_TRUE(connected(io, store));
    run_task(io, store.create("held", entry("Held")));
    run_task(io, store.create("free", entry("Free")));
    {
        AdminSession holder(database);
        holder.run("BEGIN");
        holder.run("SELECT * FROM addrservice_entries WHERE id = 'held' FOR UPDATE");
        const auto started = Clock::now();
        try {
            run_task(io, store.replace("held", entry("Changed")));
            ADD_FAILURE() << "a write of a row held by another session succeeded";
        } catch (const StoreUnavailableError& e) {
            // The server's lock_timeout, a quarter of timeout_ms, ends it.
            EXPECT_NE(std::string(e.what()).find("lock timeout"), std::string::npos) << e.what();
        }
        const auto elapsed = Clock::now() - started;
        EXPECT_GE(elapsed, std::chrono::milliseconds(timeout_ms / 4 - 50));
        EXPECT_LT(elapsed, std::chrono::milliseconds(timeout_ms + 1000));
        EXPECT_TRUE(run_task(io, store.replace("free", entry("Changed"))));
        // The server ends the statement too rather than run it once the lock is free.
        EXPECT_TRUE(eventually(io, [&] { return server.execute("postgres", lock_waiters(database)) == "0"; }));
        holder.run("ROLLBACK");
    }
    EXPECT_EQ(run_task(io, store.read("held"))->json, entry("Held")->json);
    EXPECT_TRUE(run_task(io, store.replace("held", entry("Changed"))));
}

TEST(PostgresStore, ConnectionsTheServerEndsAreReplaced)
{
    auto& server = postgres();
    const auto database = server.create_database();
    boost::asio::io_context io;
    PostgresStore store(postgres_config(server.url(database), 2000, 2), io);
    run_task(io, store.create("kept", entry("Kept")));
    server.execute("postgres",
                   "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'addrservice' AND "
                   "datname = '" +
                       database + "'");
    EXPECT_TRUE(eventually(io, [&] {
        try {
            return run_task(io, store.read("kept")) != nullptr;
        } catch (const StoreUnavailableError&) {
            return false;
        }
    }));
}

// Pipeline mode: requests started together share one connection's round trips.

/// Starts count reads of id at once and runs io until all have answered; returns how many found it.
int concurrent_reads(boost::asio::io_context& io, PostgresStore& store, int count)
{
    int found = 0;
    int answered = 0;
    for (int i = 0; i < count; ++i) {
        auto read_one = [](PostgresStore* target, int* hits) -> Task<void> {
            if (co_await target->read("shared") != nullptr) {
                ++*hits;
            }
        };
        boost::asio::co_spawn(io, read_one(&store, &found), [&answered](const std::exception_ptr&) { ++answered; });
    }
    io.restart();
    while (answered < count && io.run_one() > 0) {
    }
    return found;
}

/// Runs io until the store has as many sessions on database as wanted, seen twice in a row (the start-up's
/// own session may take a moment to leave the server's view).
bool sessions_reach(boost::asio::io_context& io, PostgresServer& server, const std::string& database, int wanted)
{
    const auto sessions =
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'addrservice' AND "
        "datname = '" +
        database + "'";
    int seen = 0;
    return eventually(io, [&] {
        seen = server.execute("postgres", sessions) == std::to_string(wanted) ? seen + 1 : 0;
        return seen == 2;
    });
}

TEST(PostgresStore, ManyConcurrentRequestsShareOneConnection)
{
    auto& server = postgres();
    const auto database = server.create_database();
    boost::asio::io_context io;
    PostgresStore store(postgres_config(server.url(database), 5000, 1), io);
    run_task(io, store.create("shared", entry("Shared")));
    EXPECT_EQ(concurrent_reads(io, store, 200), 200);
    EXPECT_TRUE(sessions_reach(io, server, database, 1));
}

/// Starts every task at once on io (their statements gather into one batch) and runs io until all
/// have ended; returns how each ended (null: it returned).
std::vector<std::exception_ptr> together(boost::asio::io_context& io, std::vector<Task<void>> tasks)
{
    std::vector<std::exception_ptr> ended(tasks.size());
    std::size_t finished = 0;
    for (std::size_t i = 0; i < tasks.size(); ++i) {
        boost::asio::co_spawn(io, std::move(tasks[i]), [&ended, &finished, i](const std::exception_ptr& error) {
            ended[i] = error;
            ++finished;
        });
    }
    io.restart();
    while (finished < tasks.size() && io.run_one() > 0) {
    }
    return ended;
}

std::string message_of(const std::exception_ptr& error)
{
    try {
        std::rethrow_exception(error);
    } catch (const std::exception& e) {
        return e.what();
    }
}

Task<void> create_in(PostgresStore& store, std::string id, EntryPtr stored)
{
    co_await store.create(std::move(id), std::move(stored));
}

Task<void> replace_in(PostgresStore& store, std::string id, EntryPtr stored)
{
    const bool found = co_await store.replace(id, std::move(stored));
    if (!found) {
        throw std::runtime_error("not found: " + id);
    }
}

/// A store on one connection over a new database with the entries "held", "free" and "zfree", while
/// another session holds "held" locked (SELECT ... FOR UPDATE) until the test rolls it back.
class PostgresHeldRow : public ::testing::Test {
protected:
    static constexpr std::uint32_t timeout_ms = 800;

    PostgresHeldRow()
    {
        EXPECT_TRUE(connected(io, store));
        for (const auto* id : {"held", "free", "zfree"}) {
            run_task(io, store.create(id, entry("Held")));
        }
        holder.run("BEGIN");
        holder.run("SELECT * FROM addrservice_entries WHERE id = 'held' FOR UPDATE");
    }

    PostgresServer& server = postgres();
    std::string database = server.create_database();
    boost::asio::io_context io;
    PostgresStore store{postgres_config(server.url(database), timeout_ms, 1), io};
    AdminSession holder{database};
};

TEST_F(PostgresHeldRow, AStatementHeldByALockFailsAloneAndWhatWaitsBehindItOnItsConnectionSucceeds)
{
    // One connection: the read, the create and the readiness check gather behind the held write. The
    // server ends the held statement before the request's deadline, and the connection serves on.
    const auto started = Clock::now();
    std::exception_ptr held_failure;
    bool held_done = false;
    boost::asio::co_spawn(io, replace_in(store, "held", entry("Changed")), [&](const std::exception_ptr& error) {
        held_failure = error;
        held_done = true;
    });
    ASSERT_TRUE(eventually(io, [&] { return server.execute("postgres", lock_waiters(database)) == "1"; }));
    std::vector<Task<void>> behind;
    behind.push_back(replace_in(store, "free", entry("Changed")));
    behind.push_back(create_in(store, "new", entry("New")));
    for (const auto& failure : together(io, std::move(behind))) {
        EXPECT_FALSE(failure) << message_of(failure);
    }
    EXPECT_TRUE(run_task(io, store.ready()));
    EXPECT_TRUE(eventually(io, [&] { return held_done; }));
    ASSERT_TRUE(held_failure);
    EXPECT_THROW(std::rethrow_exception(held_failure), StoreUnavailableError);
    EXPECT_LT(Clock::now() - started, std::chrono::milliseconds(timeout_ms + 500));
    holder.run("ROLLBACK");
    EXPECT_EQ(run_task(io, store.read("held"))->json, entry("Held")->json);
    EXPECT_EQ(run_task(io, store.read("free"))->json, entry("Changed")->json);
    EXPECT_NE(run_task(io, store.read("new")), nullptr);
}

TEST_F(PostgresHeldRow, StatementsUndoneWithAHeldOneGoAgainAtOnceNotBehindTheNextHeldOne)
{
    // "held" sorts before "zfree": in their batch the held write blocks the other until the server ends
    // it. Another write of "held" gathers meanwhile; had the undone write waited to go with it, it
    // would be blocked again, past its own deadline.
    std::map<std::string, std::exception_ptr> ended;
    const auto spawn = [&](const std::string& name, Task<void> task) {
        boost::asio::co_spawn(io, std::move(task),
                              [&ended, name](const std::exception_ptr& error) { ended[name] = error; });
    };
    spawn("first held", replace_in(store, "held", entry("First")));
    spawn("free", replace_in(store, "zfree", entry("Changed")));
    ASSERT_TRUE(eventually(io, [&] { return server.execute("postgres", lock_waiters(database)) == "1"; }));
    spawn("second held", replace_in(store, "held", entry("Second")));
    ASSERT_TRUE(eventually(io, [&] { return ended.size() == 3; }));
    EXPECT_FALSE(ended["free"]) << message_of(ended["free"]);
    EXPECT_TRUE(ended["first held"]);
    EXPECT_TRUE(ended["second held"]);
    EXPECT_TRUE(eventually(io, [&] { return server.execute("postgres", lock_waiters(database)) == "0"; }));
    holder.run("ROLLBACK");
    EXPECT_EQ(run_task(io, store.read("zfree"))->json, entry("Changed")->json);
    EXPECT_EQ(run_task(io, store.read("held"))->json, entry("Held")->json);
}

Task<void> keep_writing(PostgresStore& store, std::string id, int times, int& refused)
{
    for (int i = 0; i < times; ++i) {
        try {
            co_await store.replace(id, entry("Written " + std::to_string(i)));
        } catch (const StoreUnavailableError&) {
            ++refused;
        }
    }
}

Task<void> keep_reading(PostgresStore& store, std::string id, int times, int& read)
{
    for (int i = 0; i < times; ++i) {
        if (co_await store.read(id)) {
            ++read;
        }
    }
}

TEST_F(PostgresHeldRow, WritesThatKeepWaitingForAHeldRowDelayButNeverFailTheRequestsBehindThem)
{
    // One connection: every batch holds a write of "held", which waits for the lock until the server's
    // lock_timeout (a quarter of timeout_ms) ends it. The reads of "free" behind them wait for a batch or
    // two, within their own timeout, and the connection is never taken for a lost one.
    int refused = 0;
    int read = 0;
    std::vector<Task<void>> tasks;
    for (int i = 0; i < 3; ++i) {
        tasks.push_back(keep_writing(store, "held", 4, refused));
    }
    tasks.push_back(keep_reading(store, "free", 12, read));
    for (const auto& ended : together(io, std::move(tasks))) {
        EXPECT_FALSE(ended) << message_of(ended);
    }
    EXPECT_EQ(refused, 12);
    EXPECT_EQ(read, 12);
}

TEST(PostgresStore, AFailedStatementOfABatchFailsAloneAndTheOthersAreCommitted)
{
    // One transaction holds the batch: the duplicate undoes the creates sent before it and aborts those
    // after it; they are sent again, and only the duplicate reports an error.
    auto& server = postgres();
    const auto database = server.create_database();
    boost::asio::io_context io;
    PostgresStore store(postgres_config(server.url(database), 5000, 1), io);
    run_task(io, store.create("taken", entry("First")));
    std::vector<Task<void>> writes;
    for (const auto* id : {"after", "before", "taken", "zulu"}) {
        writes.push_back(create_in(store, id, entry(std::string("Second ") + id)));
    }
    const auto ended = together(io, std::move(writes));
    EXPECT_FALSE(ended[0]);
    EXPECT_FALSE(ended[1]);
    ASSERT_TRUE(ended[2]);
    EXPECT_EQ(message_of(ended[2]), "duplicate id");
    EXPECT_FALSE(ended[3]);
    EXPECT_EQ(server.execute(database,
                             "SELECT string_agg(id || '=' || (json::jsonb->>'full_name'), ',' ORDER BY id) "
                             "FROM addrservice_entries"),
              "after=Second after,before=Second before,taken=First,zulu=Second zulu");
}

TEST(PostgresStore, CreatesOfOneTurnAreStoredAndADuplicateAmongThemFailsAlone)
{
    auto& server = postgres();
    const auto database = server.create_database();
    boost::asio::io_context io;
    PostgresStore store(postgres_config(server.url(database), 5000, 2), io);
    constexpr int count = 50;
    std::vector<Task<void>> creates;
    for (int i = 0; i < count; ++i) {
        const auto id = "c" + std::to_string(100 + i);
        creates.push_back(create_in(store, id, entry("First " + id)));
    }
    creates.push_back(create_in(store, "c125", entry("Second c125")));
    const auto ended = together(io, std::move(creates));
    for (int i = 0; i < count; ++i) {
        EXPECT_FALSE(ended[static_cast<std::size_t>(i)]) << i;
    }
    ASSERT_TRUE(ended.back());
    EXPECT_EQ(message_of(ended.back()), "duplicate id");
    EXPECT_EQ(run_task(io, store.read("c125"))->json, entry("First c125")->json);
    EXPECT_EQ(store.size(), static_cast<std::size_t>(count));
    // Byte for byte, each with its own ETag, however many went in one statement.
    const auto stored = run_task(io, store.list());
    ASSERT_EQ(stored.size(), static_cast<std::size_t>(count));
    for (const auto& [id, found] : stored) {
        EXPECT_EQ(found->json, entry("First " + id)->json);
        EXPECT_EQ(found->etag, entry("First " + id)->etag);
    }

    // Without a duplicate, every create of the turn is stored and counted.
    std::vector<Task<void>> more;
    for (int i = 0; i < count; ++i) {
        const auto id = "d" + std::to_string(100 + i);
        more.push_back(create_in(store, id, entry(id)));
    }
    for (const auto& failure : together(io, std::move(more))) {
        EXPECT_FALSE(failure);
    }
    EXPECT_EQ(server.execute(database, "SELECT count(*) FROM addrservice_entries WHERE id LIKE 'd%'"),
              std::to_string(count));
    EXPECT_EQ(store.size(), static_cast<std::size_t>(2 * count));
}

/// Counts the INSERT statements the server runs on the store's table (not their rows), from here on.
std::string count_insert_statements(PostgresServer& server, const std::string& database)
{
    server.execute(database,
                   "CREATE TABLE inserts_seen (n int); GRANT ALL ON inserts_seen TO PUBLIC; "
                   "CREATE FUNCTION count_insert() RETURNS trigger LANGUAGE plpgsql AS "
                   "$$ BEGIN INSERT INTO inserts_seen VALUES (1); RETURN NULL; END $$; "
                   "CREATE TRIGGER counted AFTER INSERT ON addrservice_entries "
                   "FOR EACH STATEMENT EXECUTE FUNCTION count_insert()");
    return "SELECT count(*) FROM inserts_seen";
}

TEST(PostgresStore, NeighbouringCreatesOfABatchGoAsOneStatementInIdOrder)
{
    auto& server = postgres();
    const auto database = server.create_database();
    boost::asio::io_context io;
    PostgresStore store(postgres_config(server.url(database), 5000, 1), io);
    run_task(io, store.create("m", entry("M")));
    const auto statements = count_insert_statements(server, database);

    // In id order the batch is a1 a2 a3, m, x1 x2: two runs of creates around the replace, two INSERTs.
    std::vector<Task<void>> writes;
    for (const auto* id : {"x2", "a3", "x1", "a1"}) {
        writes.push_back(create_in(store, id, entry(std::string("New ") + id)));
    }
    writes.push_back(replace_in(store, "m", entry("M again")));
    writes.push_back(create_in(store, "a2", entry("New a2")));
    for (const auto& ended : together(io, std::move(writes))) {
        EXPECT_FALSE(ended);
    }
    EXPECT_EQ(server.execute(database, statements), "2");
    const auto stored = run_task(io, store.list());
    ASSERT_EQ(stored.size(), 6U);
    for (const auto& [id, found] : stored) {
        const auto expected = id == "m" ? entry("M again") : entry("New " + id);
        EXPECT_EQ(found->json, expected->json) << id;
        EXPECT_EQ(found->etag, expected->etag) << id;
    }
    EXPECT_EQ(store.size(), 6U);
}

TEST(PostgresStore, AMergedCreateStopsGrowingAtItsByteLimit)
{
    auto& server = postgres();
    const auto database = server.create_database();
    boost::asio::io_context io;
    PostgresStore store(postgres_config(server.url(database), 10000, 1), io);
    run_task(io, store.create("first", entry("First")));
    const auto statements = count_insert_statements(server, database);
    // Six creates of 1.5 MB each: the arrays of one statement stop past 4 MB, so they take two.
    const std::string long_name(1536 * 1024, 'n');
    std::vector<Task<void>> creates;
    for (int i = 0; i < 6; ++i) {
        creates.push_back(create_in(store, "big" + std::to_string(i), entry(long_name + std::to_string(i))));
    }
    for (const auto& ended : together(io, std::move(creates))) {
        EXPECT_FALSE(ended);
    }
    EXPECT_EQ(server.execute(database, statements), "2");
    for (int i = 0; i < 6; ++i) {
        EXPECT_EQ(run_task(io, store.read("big" + std::to_string(i)))->json,
                  entry(long_name + std::to_string(i))->json);
    }
}

TEST(PostgresStore, AStatementThatComesWhileABatchIsHeldTakesAnotherConnection)
{
    auto& server = postgres();
    const auto database = server.create_database();
    boost::asio::io_context io;
    PostgresStore store(postgres_config(server.url(database), 2000, 2), io);
    for (const auto* id : {"held", "free"}) {
        run_task(io, store.create(id, entry("Held")));
    }
    ASSERT_TRUE(sessions_reach(io, server, database, 2));
    AdminSession holder(database);
    holder.run("BEGIN");
    holder.run("SELECT * FROM addrservice_entries WHERE id = 'held' FOR UPDATE");

    bool replaced = false;
    boost::asio::co_spawn(io, replace_in(store, "held", entry("Again")),
                          [&replaced](const std::exception_ptr&) { replaced = true; });
    ASSERT_TRUE(eventually(io, [&] { return server.execute("postgres", lock_waiters(database)) == "1"; }));
    // A read that comes while one connection's batch waits for a lock goes on the idle connection and is
    // answered while the write still waits.
    EXPECT_NE(run_task(io, store.read("free")), nullptr);
    EXPECT_FALSE(replaced);
    holder.run("ROLLBACK");
    while (!replaced && io.run_one() > 0) {
    }
}

TEST(PostgresStore, WritesOfOneTurnToOneEntryKeepTheirOrder)
{
    auto& server = postgres();
    boost::asio::io_context io;
    PostgresStore store(postgres_config(server.url(server.create_database()), 5000, 1), io);
    run_task(io, store.create("kept", entry("Zero")));
    std::vector<Task<void>> writes;
    for (const auto* name : {"One", "Two", "Three"}) {
        writes.push_back(replace_in(store, "kept", entry(name)));
    }
    for (const auto& ended : together(io, std::move(writes))) {
        EXPECT_FALSE(ended);
    }
    EXPECT_EQ(run_task(io, store.read("kept"))->json, entry("Three")->json);
}

TEST(PostgresStore, ABatchLocksItsRowsInIdOrderSoBatchesNeverWaitInACycle)
{
    // Another session holds "m". A batch that changes "y" and then "m" waits for it; had it locked "y"
    // first (the order it was asked in), a second instance's write of "y" would wait behind it too.
    auto& server = postgres();
    const auto database = server.create_database();
    const auto url = server.url(database);
    boost::asio::io_context io;
    PostgresStore first(postgres_config(url, 10000, 1), io);
    PostgresStore second(postgres_config(url, 2000, 1), io);
    run_task(io, first.create("m", entry("M")));
    run_task(io, first.create("y", entry("Y")));
    AdminSession holder(database);
    holder.run("BEGIN");
    holder.run("SELECT * FROM addrservice_entries WHERE id = 'm' FOR UPDATE");

    std::size_t finished = 0;
    const auto count_finished = [&finished](const std::exception_ptr& error) {
        EXPECT_FALSE(error);
        ++finished;
    };
    boost::asio::co_spawn(io, replace_in(first, "y", entry("Y by the batch")), count_finished);
    boost::asio::co_spawn(io, replace_in(first, "m", entry("M by the batch")), count_finished);
    ASSERT_TRUE(eventually(io, [&] { return server.execute("postgres", lock_waiters(database)) == "1"; }));

    const auto started = Clock::now();
    EXPECT_TRUE(run_task(io, second.replace("y", entry("Y by the other"))));
    EXPECT_LT(Clock::now() - started, std::chrono::milliseconds(1000));
    EXPECT_EQ(finished, 0U);

    holder.run("ROLLBACK");
    EXPECT_TRUE(eventually(io, [&] { return finished == 2; }));
    EXPECT_EQ(run_task(io, second.read("y"))->json, entry("Y by the batch")->json);
    EXPECT_EQ(run_task(io, second.read("m"))->json, entry("M by the batch")->json);
}

TEST(PostgresStore, ConcurrentRequestsShareRoundTripsOverASlowNetwork)
{
    // Every answer takes 100 ms to arrive: 40 reads one after another would take 4 s; pipelined on one
    // connection they share a few round trips.
    auto& server = postgres();
    const auto database = server.create_database();
    constexpr auto delay = std::chrono::milliseconds(100);
    const Proxy slow(server.port(), delay);
    boost::asio::io_context io;
    PostgresStore store(postgres_config("postgresql://addrbook:" + std::string(PostgresServer::password) +
                                            "@127.0.0.1:" + std::to_string(slow.port()) + "/" + database,
                                        5000, 1),
                        io);
    run_task(io, store.create("shared", entry("Shared")));
    const auto started = Clock::now();
    EXPECT_EQ(concurrent_reads(io, store, 40), 40);
    EXPECT_LT(Clock::now() - started, 10 * delay);
}

TEST(PostgresStore, ANetworkThatGoesSilentGivesUnavailableInTimeAndRecovers)
{
    auto& server = postgres();
    const auto database = server.create_database();
    Proxy network(server.port(), std::chrono::milliseconds(0));
    boost::asio::io_context io;
    constexpr std::uint32_t timeout_ms = 300;
    PostgresStore store(postgres_config("postgresql://addrbook:" + std::string(PostgresServer::password) +
                                            "@127.0.0.1:" + std::to_string(network.port()) + "/" + database,
                                        timeout_ms, 2),
                        io);
    ASSERT_TRUE(connected(io, store));
    run_task(io, store.create("kept", entry("Kept")));

    network.silent(true);
    for (int i = 0; i < 4; ++i) {
        const auto started = Clock::now();
        EXPECT_THROW(run_task(io, store.read("kept")), StoreUnavailableError);
        EXPECT_LT(Clock::now() - started, std::chrono::milliseconds(timeout_ms + 700));
        EXPECT_FALSE(run_task(io, store.ready()));
    }

    network.silent(false);
    EXPECT_TRUE(connected(io, store));
    EXPECT_EQ(run_task(io, store.read("kept"))->json, entry("Kept")->json);
}

TEST(PostgresStore, AModifyWaitsForTheDatabaseAtMostOneTimeoutForAllOfItsStatements)
{
    // Every answer takes 60 % of the timeout: a read alone is answered in time; a read and the write after
    // it are not, and the modify gives up when the one timeout is over, not after a timeout for each.
    auto& server = postgres();
    const auto database = server.create_database();
    Proxy network(server.port(), std::chrono::milliseconds(0));
    boost::asio::io_context io;
    constexpr auto timeout = std::chrono::milliseconds(1000);
    PostgresStore store(postgres_config("postgresql://addrbook:" + std::string(PostgresServer::password) +
                                            "@127.0.0.1:" + std::to_string(network.port()) + "/" + database,
                                        static_cast<std::uint32_t>(timeout.count()), 1),
                        io);
    ASSERT_TRUE(connected(io, store));
    run_task(io, store.create("kept", entry("Kept")));

    network.delay(timeout * 3 / 5);
    EXPECT_EQ(run_task(io, store.read("kept"))->json, entry("Kept")->json);
    int changes = 0;
    const auto started = Clock::now();
    EXPECT_THROW(run_task(io, store.modify("kept",
                                           [&](const EntryPtr&) {
                                               ++changes;
                                               return entry("Changed");
                                           })),
                 StoreUnavailableError);
    const auto took = Clock::now() - started;
    EXPECT_EQ(changes, 1);
    EXPECT_GE(took, timeout);
    EXPECT_LT(took, timeout + std::chrono::milliseconds(400));

    network.delay(std::chrono::milliseconds(0));
    EXPECT_TRUE(connected(io, store));
}

}  // namespace
}  // namespace addrservice
