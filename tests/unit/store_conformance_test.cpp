// The store conformance suite (support/store_conformance.cpp) over the stores that need no server, and
// what only the durable ones promise.
#include "support/store_conformance.hpp"
#include "addrservice/store/fs_store.hpp"
#include "addrservice/store/memory_store.hpp"
#include "addrservice/store/sqlite_store.hpp"
#include "support/run_task.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
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
    const std::string text = R"({"full_name":"Oriel Vantongeren"})";
    {
        // As version 1 wrote it: no ETag column.
        sqlite3* db = nullptr;
        ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
        const auto sql =
            "CREATE TABLE entries (id TEXT PRIMARY KEY, json TEXT NOT NULL);"
            "INSERT INTO entries VALUES ('oriel', '" +
            text + "'); PRAGMA user_version=1;";
        ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
        sqlite3_close(db);
    }
    {
        SqliteStore store(path);
        EXPECT_EQ(store.size(), 1U);
        const auto entry = run_task(store.read("oriel"));
        ASSERT_NE(entry, nullptr);
        EXPECT_EQ(entry->json, text);
        EXPECT_EQ(entry->etag, make_etag(text));
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

TEST(FsStore, CreatingAnIdTooLongForAFileNameIsAStoreError)
{
    const ScratchDir scratch("fs-long");
    const auto dir = scratch.path() / "addresses";
    FsStore store(dir.string());
    try {
        run_task(store.create(std::string(300, 'x'), make_stored_entry(R"({"full_name":"Long"})")));
        FAIL() << "an id longer than a file name was created";
    } catch (const StoreError& e) {
        EXPECT_NE(std::string(e.what()).find("id of 300 characters is too long"), std::string::npos) << e.what();
    }
    EXPECT_EQ(store.size(), 0U);
    EXPECT_TRUE(std::filesystem::is_empty(dir));
}

/// The names of the files in a directory.
std::set<std::string> files_in(const std::filesystem::path& dir)
{
    std::set<std::string> names;
    for (const auto& file : std::filesystem::directory_iterator(dir)) {
        names.insert(file.path().filename().string());
    }
    return names;
}

/// A tmpfs of 256 KiB and 64 inodes, mounted for one test so that the test can fill it, unmounted
/// afterwards. Mounting needs CAP_SYS_ADMIN: without it mounted() is false and why_not() says why.
class SmallTmpfs {
public:
    explicit SmallTmpfs(const std::string& name) : dir_(name)
    {
        if (::mount("tmpfs", dir_.path().c_str(), "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                    "size=256k,nr_inodes=64") == 0) {
            mounted_ = true;
        } else {
            why_not_ = std::strerror(errno);  // NOLINT(concurrency-mt-unsafe)
        }
    }
    ~SmallTmpfs()
    {
        if (mounted_) {
            ::umount2(dir_.path().c_str(), MNT_DETACH);
        }
    }
    SmallTmpfs(const SmallTmpfs&) = delete;
    SmallTmpfs& operator=(const SmallTmpfs&) = delete;
    SmallTmpfs(SmallTmpfs&&) = delete;
    SmallTmpfs& operator=(SmallTmpfs&&) = delete;

    [[nodiscard]] bool mounted() const noexcept { return mounted_; }
    [[nodiscard]] const std::string& why_not() const noexcept { return why_not_; }
    [[nodiscard]] const std::filesystem::path& path() const noexcept { return dir_.path(); }

private:
    ScratchDir dir_;
    bool mounted_ = false;
    std::string why_not_;
};

/// Writes into a new file until the file system refuses; returns the refusal's errno.
int fill_blocks(const std::filesystem::path& file)
{
    const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        return errno;
    }
    const std::array<char, 4096> block{};
    while (::write(fd, block.data(), block.size()) > 0) {
    }
    const int refusal = errno;
    ::close(fd);
    return refusal;
}

/// Creates empty files in a new directory until the file system refuses; returns the refusal's errno.
int fill_inodes(const std::filesystem::path& dir)
{
    if (::mkdir(dir.c_str(), 0755) != 0) {
        return errno;
    }
    for (int i = 0;; ++i) {
        const int fd = ::open((dir / std::to_string(i)).c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0) {
            return errno;
        }
        ::close(fd);
    }
}

TEST(FsStore, AWriteToAFullFileSystemFailsAndLeavesNoTemporaryFile)
{
    const SmallTmpfs disk("fs-full");
    if (!disk.mounted()) {
        GTEST_SKIP() << "cannot mount a small tmpfs to fill (" << disk.why_not() << "): needs CAP_SYS_ADMIN";
    }
    const auto dir = disk.path() / "addresses";
    FsStore store(dir.string());
    const auto kept = make_stored_entry(R"({"full_name":"Kept"})");
    run_task(store.create("kept", kept));
    ASSERT_EQ(fill_blocks(disk.path() / "filler"), ENOSPC);

    const auto larger = make_stored_entry(nlohmann::json{{"full_name", std::string(8192, 'z')}}.dump());
    try {
        run_task(store.replace("kept", larger));
        FAIL() << "a write to a full file system succeeded";
    } catch (const StoreError& e) {
        EXPECT_NE(std::string(e.what()).find("No space left on device"), std::string::npos) << e.what();
    }
    EXPECT_THROW(run_task(store.create("new", larger)), StoreError);

    EXPECT_EQ(files_in(dir), std::set<std::string>{"kept.json"});
    EXPECT_EQ(run_task(store.read("kept"))->json, kept->json);
    EXPECT_EQ(store.size(), 1U);
    EXPECT_EQ(run_task(store.list()).size(), 1U);
}

TEST(FsStore, NotReadyWhileItsFileSystemIsFull)
{
    const SmallTmpfs disk("fs-ready");
    if (!disk.mounted()) {
        GTEST_SKIP() << "cannot mount a small tmpfs to fill (" << disk.why_not() << "): needs CAP_SYS_ADMIN";
    }
    FsStore store((disk.path() / "addresses").string());
    EXPECT_TRUE(run_task(store.ready()));

    ASSERT_EQ(fill_blocks(disk.path() / "filler"), ENOSPC);
    EXPECT_FALSE(run_task(store.ready())) << "no free blocks";
    std::filesystem::remove(disk.path() / "filler");
    EXPECT_TRUE(run_task(store.ready()));

    ASSERT_EQ(fill_inodes(disk.path() / "empty-files"), ENOSPC);
    EXPECT_FALSE(run_task(store.ready())) << "no free inodes";
    std::filesystem::remove_all(disk.path() / "empty-files");
    EXPECT_TRUE(run_task(store.ready()));
}

/// Holds this process's file size limit at a few bytes until destroyed: a write past it fails with
/// EFBIG (SIGXFSZ is ignored meanwhile). Any user may lower its own limit, so this runs unprivileged.
class TinyFileSizeLimit {
public:
    TinyFileSizeLimit()
    {
        previous_handler_ = std::signal(SIGXFSZ, SIG_IGN);
        ::getrlimit(RLIMIT_FSIZE, &previous_);
        rlimit tiny = previous_;
        tiny.rlim_cur = 16;
        ::setrlimit(RLIMIT_FSIZE, &tiny);
    }
    ~TinyFileSizeLimit()
    {
        ::setrlimit(RLIMIT_FSIZE, &previous_);
        std::signal(SIGXFSZ, previous_handler_);
    }
    TinyFileSizeLimit(const TinyFileSizeLimit&) = delete;
    TinyFileSizeLimit& operator=(const TinyFileSizeLimit&) = delete;
    TinyFileSizeLimit(TinyFileSizeLimit&&) = delete;
    TinyFileSizeLimit& operator=(TinyFileSizeLimit&&) = delete;

private:
    rlimit previous_{};
    void (*previous_handler_)(int) = nullptr;
};

TEST(FsStore, AWriteThatFailsHalfwayLeavesNoTemporaryFileAndTheEntryUnchanged)
{
    const ScratchDir scratch("fs-efbig");
    const auto dir = scratch.path() / "addresses";
    FsStore store(dir.string());
    const auto kept = make_stored_entry(R"({"full_name":"Kept"})");
    run_task(store.create("kept", kept));
    const auto larger = make_stored_entry(R"({"full_name":"Kept, with a name longer than the limit"})");
    {
        const TinyFileSizeLimit limit;
        try {
            run_task(store.replace("kept", larger));
            FAIL() << "a write past the file size limit succeeded";
        } catch (const StoreError& e) {
            EXPECT_NE(std::string(e.what()).find("File too large"), std::string::npos) << e.what();
        }
        EXPECT_THROW(run_task(store.create("new", larger)), StoreError);
    }
    EXPECT_EQ(files_in(dir), std::set<std::string>{"kept.json"});
    EXPECT_EQ(run_task(store.read("kept"))->json, kept->json);
    EXPECT_EQ(store.size(), 1U);
}

TEST(SqliteStore, TwoConnectionsOnOneFileHaveOneWinnerOfAConditionalWrite)
{
    // Two stores on one file are two connections, each with its own thread: as two instances would be.
    const ScratchDir dir("sqlite-race");
    const auto path = (dir.path() / "book.db").string();
    const auto first = std::make_shared<SqliteStore>(path);
    const auto second = std::make_shared<SqliteStore>(path);
    const auto start = make_stored_entry(R"({"full_name":"start"})");
    run_task(first->create("hot", start));
    boost::asio::io_context io;
    std::atomic<int> wins = 0;
    std::atomic<int> refusals = 0;
    auto write = [](std::shared_ptr<AddressStore> target, std::string expected, EntryPtr next, std::atomic<int>* won,
                    std::atomic<int>* refused) -> Task<void> {
        const auto result = co_await target->replace_if("hot", std::move(expected), std::move(next));
        ++(result.status == WriteStatus::done ? *won : *refused);
    };
    for (int i = 0; i < 20; ++i) {
        const auto target = i % 2 == 0 ? first : second;
        auto next = make_stored_entry(nlohmann::json{{"full_name", "writer " + std::to_string(i)}}.dump());
        boost::asio::co_spawn(io, write(target, start->etag, next, &wins, &refusals), boost::asio::detached);
    }
    io.run();
    EXPECT_EQ(wins, 1);
    EXPECT_EQ(refusals, 19);
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
