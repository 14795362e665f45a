// What the sqlite store makes of rows it did not write: the file can be edited by hand.
#include "addrservice/store/sqlite_store.hpp"
#include "support/run_task.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace addrservice {
namespace {

using testing::run_task;
using testing::TempDir;

/// Runs SQL on the database file directly, as a person with the sqlite3 shell would.
void edit_by_hand(const std::filesystem::path& file, const std::string& sql)
{
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK);
    char* error = nullptr;
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error), SQLITE_OK) << (error ? error : "");
    sqlite3_free(error);
    sqlite3_close(db);
}

void expect_store_error_naming(const std::function<void()>& read, const std::string& id)
{
    try {
        read();
        ADD_FAILURE() << "the row of " << id << " was served";
    } catch (const StoreError& e) {
        EXPECT_NE(std::string(e.what()).find("the row of id '" + id + "' is not an entry"), std::string::npos)
            << e.what();
    }
}

TEST(SqliteStoreRows, ARowThatIsNotAnEntryIsAStoreErrorNamingIt)
{
    const TempDir scratch("sqlite-rows");
    const auto file = scratch.path() / "book.db";
    {
        SqliteStore store(file.string());
        run_task(store.create("kept", make_stored_entry(R"({"full_name":"Ottilie Brandvold"})")));
    }
    edit_by_hand(file, R"(INSERT INTO entries VALUES ('notjson', '"e1"', 'nope');)"
                       R"(INSERT INTO entries VALUES ('array', '"e2"', '[1]');)"
                       "INSERT INTO entries VALUES ('badtag', 'e3' || char(13, 10) || 'Set-Cookie: a=b', '{}');"
                       R"(INSERT INTO entries VALUES ('bare', 'e4', '{}');)");
    {
        SqliteStore store(file.string());
        expect_store_error_naming([&] { (void)run_task(store.read("notjson")); }, "notjson");
        expect_store_error_naming([&] { (void)run_task(store.read("array")); }, "array");
        expect_store_error_naming([&] { (void)run_task(store.read("badtag")); }, "badtag");
        expect_store_error_naming([&] { (void)run_task(store.read("bare")); }, "bare");
        // Nor is its ETag sent with a 412.
        expect_store_error_naming([&] { (void)run_task(store.remove_if("badtag", R"("other")")); }, "badtag");
        expect_store_error_naming(
            [&] { (void)run_task(store.create_if_absent("notjson", make_stored_entry(R"({"full_name":"N"})"))); },
            "notjson");
        EXPECT_THROW((void)run_task(store.list()), StoreError);
        EXPECT_THROW((void)run_task(store.range("", 10)), StoreError);
        EXPECT_EQ(run_task(store.read("kept"))->json, R"({"full_name":"Ottilie Brandvold"})");
    }
    edit_by_hand(file, R"(DELETE FROM entries WHERE id IN ('notjson', 'array', 'badtag', 'bare');)"
                       R"(INSERT INTO entries VALUES ('zz_bad', '"e3"', '{"full_name":"x"}');)");
    SqliteStore store(file.string());
    expect_store_error_naming([&] { (void)run_task(store.list()); }, "zz_bad");
    EXPECT_EQ(run_task(store.range("", 1)).size(), 1U);  // the page before the bad row is served
}

TEST(SqliteStoreLock, AWriteThatWaitsPastTheBusyTimeoutIsUnavailableAndTheNextOneSucceeds)
{
    const TempDir scratch("sqlite-lock");
    const auto file = scratch.path() / "book.db";
    SqliteStore store(file.string(), 100);
    run_task(store.create("kept", make_stored_entry(R"({"full_name":"Ottilie Brandvold"})")));
    // Another process (the sqlite3 shell, another instance) holds the write lock.
    sqlite3* other = nullptr;
    ASSERT_EQ(sqlite3_open(file.c_str(), &other), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(other, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr), SQLITE_OK);
    try {
        run_task(store.create("new", make_stored_entry(R"({"full_name":"Leander Quist"})")));
        ADD_FAILURE() << "a write went through another process's lock";
    } catch (const StoreUnavailableError& e) {
        EXPECT_EQ(std::string(e.what()), "sqlite: database is locked");
    }
    // Readers are not held in WAL mode.
    EXPECT_EQ(run_task(store.read("kept"))->json, R"({"full_name":"Ottilie Brandvold"})");
    ASSERT_EQ(sqlite3_exec(other, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(other);
    run_task(store.create("new", make_stored_entry(R"({"full_name":"Leander Quist"})")));
    EXPECT_NE(run_task(store.read("new")), nullptr);
}

TEST(SqliteStoreOpen, AFileThatIsNoDatabaseIsAnErrorNamingIt)
{
    const TempDir scratch("sqlite-open");
    const auto file = scratch.path() / "notes.db";
    std::ofstream(file) << "Shopping: rye bread, cloudberry jam, and a good deal more than a database page.\n"
                        << std::string(600, '.') << "\n";
    try {
        SqliteStore store(file.string());
        FAIL() << "opened";
    } catch (const StoreError& e) {
        EXPECT_EQ(std::string(e.what()), "sqlite: cannot open '" + file.string() + "': file is not a database");
    }
}

}  // namespace
}  // namespace addrservice
