#include "addrservice/store/memory_store.hpp"
#include "addrservice/errors.hpp"
#include "support/run_task.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace addrservice {
namespace {

using testing::run_task;

TEST(MemoryStore, CreateReadReplaceRemove)
{
    MemoryStore store;
    EXPECT_EQ(store.describe(), "memory");
    run_task(store.create("a1", make_stored_entry(R"({"full_name":"A"})")));
    EXPECT_EQ(run_task(store.read("a1"))->json, R"({"full_name":"A"})");
    EXPECT_EQ(run_task(store.read("zz")), nullptr);
    EXPECT_TRUE(run_task(store.replace("a1", make_stored_entry(R"({"full_name":"B"})"))));
    EXPECT_FALSE(run_task(store.replace("zz", make_stored_entry("{}"))));
    EXPECT_EQ(run_task(store.read("a1"))->json, R"({"full_name":"B"})");
    EXPECT_TRUE(run_task(store.remove("a1")));
    EXPECT_FALSE(run_task(store.remove("a1")));
    EXPECT_EQ(store.size(), 0U);
}

TEST(MemoryStore, DuplicateCreateIsAStoreError)
{
    MemoryStore store;
    run_task(store.create("a1", make_stored_entry("{}")));
    EXPECT_THROW(run_task(store.create("a1", make_stored_entry("{}"))), StoreError);
}

TEST(MemoryStore, EntriesStayFoundAcrossTheTableGrowingAndIdsGoingAndComing)
{
    // The table keeps views of the ids the order holds: every lookup after many grows and removals, and
    // an id removed and made again, must still find its own entry (and ASan sees any dangling view).
    MemoryStore store;
    constexpr int count = 20000;
    const auto id_of = [](int n) { return "id-" + std::to_string(100000 + n); };
    for (int n = 0; n < count; ++n) {
        run_task(store.create(id_of(n), make_stored_entry(std::to_string(n))));
    }
    for (int n = 0; n < count; n += 2) {
        EXPECT_TRUE(run_task(store.remove(id_of(n))));
    }
    for (int n = 0; n < count; n += 4) {
        run_task(store.create(id_of(n), make_stored_entry("again " + std::to_string(n))));
    }
    EXPECT_EQ(store.size(), static_cast<std::size_t>(count / 2 + count / 4));
    for (int n = 0; n < count; ++n) {
        const auto entry = run_task(store.read(id_of(n)));
        const auto expected = n % 4 == 0 ? "again " + std::to_string(n) : std::to_string(n);
        if (n % 2 == 0 && n % 4 != 0) {
            EXPECT_EQ(entry, nullptr) << n;
        } else {
            ASSERT_NE(entry, nullptr) << n;
            EXPECT_EQ(entry->json, expected) << n;
        }
    }
    const auto page = run_task(store.range(id_of(count - 8), 100));
    ASSERT_EQ(page.size(), 5U);  // 20000-7 .. 20000-1 less the two removed and not made again
    EXPECT_EQ(page.front().first, id_of(count - 7));
    EXPECT_EQ(page.back().first, id_of(count - 1));
}

TEST(MemoryStore, ListIsOrderedById)
{
    MemoryStore store;
    run_task(store.create("b", make_stored_entry("2")));
    run_task(store.create("a", make_stored_entry("1")));
    const auto list = run_task(store.list());
    ASSERT_EQ(list.size(), 2U);
    EXPECT_EQ(list[0].first, "a");
    EXPECT_EQ(list[1].first, "b");
    EXPECT_TRUE(run_task(store.ready()));
}

}  // namespace
}  // namespace addrservice

#include "addrservice/store/store_factory.hpp"

#include <boost/asio/io_context.hpp>

#include <string>
#include <utility>
#include <vector>

namespace addrservice {
namespace {

/// Each connection string is refused before connecting, with its message.
void expect_open_errors(const std::vector<std::pair<std::string, std::string>>& cases)
{
    boost::asio::io_context io;
    for (const auto& [url, expected] : cases) {
        try {
            make_store(StoreConfig{StoreConfig::Kind::postgres, url}, io);
            ADD_FAILURE() << url;
        } catch (const StoreOpenError& e) {
            EXPECT_EQ(std::string(e.what()), expected) << url;
        }
    }
}

TEST(StoredRows, ARowIsAnEntryOnlyWhenAllOfItsTextIsOneJsonObject)
{
    const auto nested = [](std::size_t depth) {
        return R"({"deep":)" + std::string(depth, '[') + std::string(depth, ']') + "}";
    };
    for (const std::string& text :
         std::vector<std::string>{R"({})", R"({"full_name":"Iola Penhallow"})",
                                  " \t\r\n{ \"a\" : [1, 2.5e3, -0, true, null, {\"b\": \"\\u00e9\"}] }\n ",
                                  R"({"a":1,"a":2})", "{\"name\":\"Ma\xc3\xaflys\"}", nested(31)}) {
        EXPECT_TRUE(is_json_object(text)) << text;
    }
    for (const std::string& text : std::vector<std::string>{
             "", "   ", "[]", R"("text")", "42", "null", "{", "{}x", "{} {}", R"({"a":1,})", "{'a':1}", "{/* c */}",
             "{\"a\":\"\xff\"}", "{\"a\":\"line\nbreak\"}", "x{}", nested(32)}) {
        EXPECT_FALSE(is_json_object(text)) << text;
    }
}

TEST(StoreFactory, MemoryIsMadeAndAnInvalidConnectionStringIsAnOpenErrorThatHidesIt)
{
    boost::asio::io_context io;
    EXPECT_EQ(make_store(StoreConfig{StoreConfig::Kind::memory, ""}, io)->describe(), "memory");
    for (const auto* url : {"postgresql://ada:s3cret%zz@db.example/book", "host=db.example password=s3cret port",
                            "postgresql://ada:s3cret@db.example/book?frobnicate=1"}) {
        try {
            make_store(StoreConfig{StoreConfig::Kind::postgres, url}, io);
            FAIL() << url;
        } catch (const StoreOpenError& e) {
            const std::string message = e.what();
            EXPECT_NE(message.find("not a valid libpq connection string"), std::string::npos) << message;
            EXPECT_EQ(message.find("s3cret"), std::string::npos) << message;
        }
    }
}

TEST(StoreFactory, APortOrANumericOptionThatIsNoNumberIsAnOpenErrorNotAFailureToConnect)
{
    // libpq itself would take these and fail only when connecting, as if the database were down.
    const std::vector<std::pair<std::string, std::string>> cases{
        {"postgresql://ada:s3cret@db.example:notaport/book", "postgres: the port is not a number from 1 to 65535"},
        {"postgresql://ada:s3cret@db.example:70000/book", "postgres: the port is not a number from 1 to 65535"},
        {"host=a.example,b.example port=5432,x password=s3cret", "postgres: the port is not a number from 1 to 65535"},
        {"host=db.example port=0", "postgres: the port is not a number from 1 to 65535"},
        {"postgresql://ada:s3cret@db.example:+5432/book", "postgres: the port is not a number from 1 to 65535"},
        {"host=db.example port=' 5432'", "postgres: the port is not a number from 1 to 65535"},
        {"postgresql://ada:s3cret@db.example/book?connect_timeout=soon",
         "postgres: connect_timeout is not a whole number from -2147483648 to 2147483647"},
        {"host=db.example connect_timeout=2147483648",
         "postgres: connect_timeout is not a whole number from -2147483648 to 2147483647"},
        {"host=db.example keepalives_idle=1.5",
         "postgres: keepalives_idle is not a whole number from -2147483648 to 2147483647"},
        {"postgresql://ada%0Aforged:s3cret@db.example/book", "postgres: the user holds a control character"},
        {"postgresql://ada:s3cret@db.example/book%01", "postgres: the dbname holds a control character"}};
    expect_open_errors(cases);
}

TEST(StoreFactory, AnOptionLibpqWouldRefuseOnlyWhenConnectingIsAnOpenError)
{
    const std::vector<std::pair<std::string, std::string>> cases{
        {"postgresql://ada:s3cret@db.example/book?sslmode=requre",
         "postgres: sslmode is not one of disable, allow, prefer, require, verify-ca, verify-full"},
        {"host=db.example gssencmode=always", "postgres: gssencmode is not one of disable, prefer, require"},
        {"host=db.example channel_binding=yes", "postgres: channel_binding is not one of disable, prefer, require"},
        {"host=db.example target_session_attrs=primary-only",
         "postgres: target_session_attrs is not one of any, read-write, read-only, primary, standby, prefer-standby"},
        {"host=db.example ssl_min_protocol_version=TLSv2",
         "postgres: ssl_min_protocol_version is not one of TLSv1, TLSv1.1, TLSv1.2, TLSv1.3"},
        {"host=a.example,b.example port=5432,5433,5434",
         "postgres: port has 3 numbers for 2 hosts; give one for all, or one for each"},
        {"port=5432,5433", "postgres: port has 2 numbers for 1 host; give one for all, or one for each"},
        {"host=a.example,b.example hostaddr=192.0.2.1",
         "postgres: host has 2 names and hostaddr 1 address; they pair up one for one"},
        {"hostaddr=db.example", "postgres: hostaddr is not a list of IP addresses"},
        {"hostaddr=192.0.2.1,2001:db8::1,192.0.2.300", "postgres: hostaddr is not a list of IP addresses"}};
    expect_open_errors(cases);
}

TEST(StoreFactory, AnOptionFromThePgEnvironmentIsCheckedAndNamesItsVariable)
{
    boost::asio::io_context io;
    ::setenv("PGSSLMODE", "bogus", 1);
    try {
        make_store(StoreConfig{StoreConfig::Kind::postgres, "host=db.example"}, io);
        ADD_FAILURE() << "PGSSLMODE=bogus was taken";
    } catch (const StoreOpenError& e) {
        EXPECT_EQ(
            std::string(e.what()),
            "postgres: sslmode (PGSSLMODE) is not one of disable, allow, prefer, require, verify-ca, verify-full");
    }
    // The string's own value wins over the environment's, as in libpq.
    ::setenv("PGCONNECT_TIMEOUT", "soon", 1);
    try {
        make_store(StoreConfig{StoreConfig::Kind::postgres, "host=db.example sslmode=disable"}, io);
        ADD_FAILURE() << "PGCONNECT_TIMEOUT=soon was taken";
    } catch (const StoreOpenError& e) {
        EXPECT_EQ(std::string(e.what()),
                  "postgres: connect_timeout (PGCONNECT_TIMEOUT) is not a whole number from -2147483648 to 2147483647");
    }
    ::unsetenv("PGSSLMODE");
    ::unsetenv("PGCONNECT_TIMEOUT");
}

TEST(StoreFactory, OptionsLibpqTakesPassTheChecksAndReachTheConnection)
{
    // Nothing listens on port 1: a failure to connect (a runtime error), not a refused configuration.
    boost::asio::io_context io;
    for (const auto* url :
         {"host=127.0.0.1 port=1 sslmode=verify-full ssl_min_protocol_version=tlsv1.3 target_session_attrs=read-write "
          "gssencmode=disable channel_binding=prefer connect_timeout=2",
          "host=localhost,127.0.0.1 hostaddr=127.0.0.1,127.0.0.1 port=1,1 sslmode=disable",
          "hostaddr=::1 port=1 sslmode=disable"}) {
        EXPECT_THROW(make_store(StoreConfig{StoreConfig::Kind::postgres, url}, io), StoreUnavailableError) << url;
    }
}

}  // namespace
}  // namespace addrservice
