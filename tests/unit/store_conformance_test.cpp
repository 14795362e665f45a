// The store conformance suite (support/store_conformance.cpp) over the stores that need no server, and
// what only the durable ones promise.
#include "support/store_conformance.hpp"
#include "addrservice/store/fs_store.hpp"
#include "addrservice/store/memory_store.hpp"
#include "addrservice/store/sqlite_store.hpp"
#include "support/run_task.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sqlite3.h>
#include <unistd.h>

namespace addrservice {
namespace {

using testing::run_task;
using testing::StoreConformance;
using testing::StoreKind;

INSTANTIATE_TEST_SUITE_P(
    Stores, StoreConformance,
    ::testing::Values(StoreKind{"memory", [](const std::filesystem::path&,
                                             boost::asio::io_context&) { return std::make_shared<MemoryStore>(); }},
                      StoreKind{"fs",
                                [](const std::filesystem::path& dir, boost::asio::io_context&) {
                                    return std::make_shared<FsStore>((dir / "nested" / "addresses").string());
                                }},
                      StoreKind{"sqlite",
                                [](const std::filesystem::path& dir, boost::asio::io_context&) {
                                    return std::make_shared<SqliteStore>((dir / "nested" / "book.db").string());
                                }}),
    [](const ::testing::TestParamInfo<StoreKind>& param_info) { return param_info.param.name; });

// Durable stores: what was written is there after reopening.

/// An empty directory of its own for one test, removed afterwards however the test ends.
class ScratchDir {
public:
    explicit ScratchDir(const std::string& name)
        : path_(std::filesystem::temp_directory_path() / ("addrservice-" + name + "-" + std::to_string(::getpid())))
    {
        std::filesystem::remove_all(path_);
        std::filesystem::create_directories(path_);
    }
    ~ScratchDir()
    {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;
    ScratchDir(ScratchDir&&) = delete;
    ScratchDir& operator=(ScratchDir&&) = delete;

    [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

private:
    std::filesystem::path path_;
};

TEST(SqliteStore, EntriesSurviveReopening)
{
    const ScratchDir dir("sqlite");
    const auto path = (dir.path() / "not-yet" / "book.db").string();  // its directory is created
    {
        SqliteStore store(path);
        EXPECT_EQ(store.describe(), "sqlite:" + path);
        run_task(store.create("keep", make_stored_entry(R"({"full_name":"Kept"})")));
        run_task(store.create("drop", make_stored_entry(R"({"full_name":"Dropped"})")));
        run_task(store.remove("drop"));
    }
    {
        SqliteStore store(path);
        EXPECT_EQ(store.size(), 1U);
        EXPECT_EQ(run_task(store.read("keep"))->json, R"({"full_name":"Kept"})");
    }
}

TEST(SqliteStore, AnotherSchemaVersionIsRefused)
{
    const ScratchDir dir("sqlite-v");
    const auto path = (dir.path() / "book.db").string();
    {
        SqliteStore store(path);
    }
    {
        // Written by a future build.
        sqlite3* db = nullptr;
        sqlite3_open(path.c_str(), &db);
        sqlite3_exec(db, "PRAGMA user_version=7", nullptr, nullptr, nullptr);
        sqlite3_close(db);
    }
    try {
        SqliteStore store(path);
        FAIL();
    } catch (const StoreError& e) {
        EXPECT_NE(std::string(e.what()).find("schema version 7; this build reads version 2"), std::string::npos)
            << e.what();
    }
}

TEST(SqliteStore, AVersionOneFileIsMigratedWithItsEntries)
{
    const ScratchDir dir("sqlite-m");
    const auto path = (dir.path() / "book.db").string();
    const std::string json = R"({"full_name":"Oriel Vantongeren"})";
    {
        // As version 1 wrote it: no ETag column.
        sqlite3* db = nullptr;
        ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
        const auto sql =
            "CREATE TABLE entries (id TEXT PRIMARY KEY, json TEXT NOT NULL);"
            "INSERT INTO entries VALUES ('oriel', '" +
            json + "'); PRAGMA user_version=1;";
        ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
        sqlite3_close(db);
    }
    {
        SqliteStore store(path);
        EXPECT_EQ(store.size(), 1U);
        const auto entry = run_task(store.read("oriel"));
        ASSERT_NE(entry, nullptr);
        EXPECT_EQ(entry->json, json);
        EXPECT_EQ(entry->etag, make_etag(json));
    }
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    sqlite3_stmt* version = nullptr;
    sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &version, nullptr);
    ASSERT_EQ(sqlite3_step(version), SQLITE_ROW);
    EXPECT_EQ(sqlite3_column_int(version, 0), SqliteStore::schema_version);
    sqlite3_finalize(version);
    sqlite3_close(db);
}

TEST(FsStore, WritesAtomicallyAndSurvivesReopening)
{
    const ScratchDir scratch("fs");
    const auto dir = scratch.path() / "addresses";  // created by the store
    {
        FsStore store(dir.string());
        EXPECT_EQ(store.describe(), "fs:" + dir.string());
        run_task(store.create("keep", make_stored_entry(R"({"full_name":"Kept"})")));
        run_task(store.replace("keep", make_stored_entry(R"({"full_name":"Kept again"})")));
    }
    EXPECT_TRUE(std::filesystem::exists(dir / "keep.json"));
    std::ofstream(dir / ".half.json.tmp") << "{";  // a write that never finished
    std::ofstream(dir / "notes.txt") << "not an entry";
    {
        FsStore store(dir.string());
        EXPECT_EQ(store.size(), 1U);
        EXPECT_FALSE(std::filesystem::exists(dir / ".half.json.tmp"));
        EXPECT_EQ(run_task(store.read("keep"))->json, R"({"full_name":"Kept again"})");
        EXPECT_EQ(run_task(store.list()).size(), 1U);
    }
}

TEST(FsStore, UnwritableDirectoryIsAStoreError)
{
    EXPECT_THROW(FsStore("/proc/addrservice/addresses"), StoreError);
}

TEST(SqliteStore, UnopenablePathIsAStoreError)
{
    EXPECT_THROW(SqliteStore("/proc/addrservice/book.db"), StoreError);
}

}  // namespace
}  // namespace addrservice
