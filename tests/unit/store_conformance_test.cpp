// One suite every store passes: CRUD, not-found, listing, id checks, large and unicode entries,
// concurrent operations on one id.
#include "addrservice/address_service.hpp"
#include "addrservice/errors.hpp"
#include "addrservice/store/fs_store.hpp"
#include "addrservice/store/memory_store.hpp"
#include "addrservice/store/sqlite_store.hpp"
#include "support/run_task.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <nlohmann/json.hpp>
#include <set>
#include <sqlite3.h>

namespace addrservice {
namespace {

using testing::run_task;

struct StoreKind {
    std::string name;
    // Makes a store over the given scratch directory (stores that need none ignore it).
    std::function<std::shared_ptr<AddressStore>(const std::filesystem::path&)> make;
};

void PrintTo(const StoreKind& kind, std::ostream* os)
{
    *os << kind.name;
}

class StoreConformance : public ::testing::TestWithParam<StoreKind> {
protected:
    void SetUp() override
    {
        dir_ = std::filesystem::temp_directory_path() /
               ("addrservice-store-" + GetParam().name + "-" + std::to_string(::getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        std::filesystem::remove_all(dir_);
        std::filesystem::create_directories(dir_);
        store = GetParam().make(dir_);
    }

    void TearDown() override
    {
        store.reset();
        std::filesystem::remove_all(dir_);
    }

    std::shared_ptr<AddressStore> reopen()
    {
        store.reset();
        store = GetParam().make(dir_);
        return store;
    }

    static EntryPtr entry(const std::string& name)
    {
        return make_stored_entry(nlohmann::json{{"full_name", name}}.dump());
    }

    std::shared_ptr<AddressStore> store;

private:
    std::filesystem::path dir_;
};

TEST_P(StoreConformance, CreateReadReplaceRemove)
{
    run_task(store->create("a1", entry("Ada")));
    EXPECT_EQ(store->size(), 1U);
    const auto read = run_task(store->read("a1"));
    ASSERT_NE(read, nullptr);
    EXPECT_EQ(read->json, entry("Ada")->json);
    EXPECT_EQ(read->etag, entry("Ada")->etag);
    EXPECT_TRUE(run_task(store->replace("a1", entry("Grace"))));
    EXPECT_EQ(run_task(store->read("a1"))->json, entry("Grace")->json);
    EXPECT_TRUE(run_task(store->remove("a1")));
    EXPECT_EQ(run_task(store->read("a1")), nullptr);
    EXPECT_EQ(store->size(), 0U);
}

TEST_P(StoreConformance, MissingIdsAreNotFound)
{
    EXPECT_EQ(run_task(store->read("nobody")), nullptr);
    EXPECT_FALSE(run_task(store->replace("nobody", entry("X"))));
    EXPECT_FALSE(run_task(store->remove("nobody")));
    EXPECT_EQ(store->size(), 0U);
}

TEST_P(StoreConformance, DuplicateCreateIsRefused)
{
    run_task(store->create("dup", entry("One")));
    EXPECT_THROW(run_task(store->create("dup", entry("Two"))), StoreError);
    EXPECT_EQ(run_task(store->read("dup"))->json, entry("One")->json);
}

TEST_P(StoreConformance, ListIsEveryEntryOrderedById)
{
    EXPECT_TRUE(run_task(store->list()).empty());
    for (const auto* id : {"c3", "a1", "B2"}) {
        run_task(store->create(id, entry(id)));
    }
    const auto list = run_task(store->list());
    ASSERT_EQ(list.size(), 3U);
    EXPECT_EQ(list[0].first, "B2");
    EXPECT_EQ(list[1].first, "a1");
    EXPECT_EQ(list[2].first, "c3");
    EXPECT_EQ(list[1].second->json, entry("a1")->json);
}

TEST_P(StoreConformance, ManyEntriesListInIdOrder)
{
    // Enough ids that an order the store happened to keep would not pass by chance.
    std::vector<std::string> ids;
    for (int i = 0; i < 64; ++i) {
        ids.push_back(std::to_string((i * 37) % 64) + "-" + std::to_string(i % 7));
        run_task(store->create(ids.back(), entry("X")));
    }
    std::sort(ids.begin(), ids.end());
    const auto list = run_task(store->list());
    ASSERT_EQ(list.size(), ids.size());
    for (std::size_t i = 0; i < ids.size(); ++i) {
        EXPECT_EQ(list[i].first, ids[i]) << i;
    }
}

std::vector<std::string> ids_of(const EntryPage& page)
{
    std::vector<std::string> ids;
    for (const auto& [id, entry] : page) {
        ids.push_back(id);
    }
    return ids;
}

TEST_P(StoreConformance, RangeReadsEntriesAfterAnIdInIdOrder)
{
    EXPECT_TRUE(run_task(store->range("", 10)).empty());
    for (const auto* id : {"c3", "a1", "B2", "a10", "a2", "-x"}) {
        run_task(store->create(id, entry(id)));
    }
    // Bytewise: '-' < digits < uppercase < lowercase.
    EXPECT_EQ(ids_of(run_task(store->range("", 100))), (std::vector<std::string>{"-x", "B2", "a1", "a10", "a2", "c3"}));
    EXPECT_EQ(ids_of(run_task(store->range("", 2))), (std::vector<std::string>{"-x", "B2"}));
    EXPECT_EQ(ids_of(run_task(store->range("B2", 2))), (std::vector<std::string>{"a1", "a10"}));
    // The id need not exist.
    EXPECT_EQ(ids_of(run_task(store->range("a1-", 2))), (std::vector<std::string>{"a10", "a2"}));
    EXPECT_EQ(ids_of(run_task(store->range("a2", 5))), (std::vector<std::string>{"c3"}));
    EXPECT_TRUE(run_task(store->range("c3", 5)).empty());
    EXPECT_TRUE(run_task(store->range("zzz", 5)).empty());
    EXPECT_TRUE(run_task(store->range("", 0)).empty());
    const auto page = run_task(store->range("a1", 1));
    ASSERT_EQ(page.size(), 1U);
    EXPECT_EQ(page[0].second->json, entry("a10")->json);
    EXPECT_EQ(page[0].second->etag, entry("a10")->etag);
    EXPECT_THROW(run_task(store->range("../x", 5)), StoreError);
}

TEST_P(StoreConformance, PagesSeeEveryEntryThatStaysExactlyOnceWhileOthersAreWritten)
{
    std::set<std::string> kept;
    for (int i = 0; i < 40; ++i) {
        const auto id = "k" + std::to_string(100 + i * 7 % 40);
        kept.insert(id);
        run_task(store->create(id, entry(id)));
    }
    std::vector<std::string> seen;
    std::string after;
    for (int round = 0;; ++round) {
        const auto page = run_task(store->range(after, 3));
        if (page.empty()) {
            break;
        }
        for (const auto& [id, stored] : page) {
            seen.push_back(id);
        }
        after = page.back().first;
        // Others write between pages: entries come and go before and after where the walk is.
        run_task(store->create("k" + std::to_string(100 + round) + "-new", entry("new")));
        run_task(store->create("a-before-" + std::to_string(round), entry("new")));
        run_task(store->remove("k" + std::to_string(100 + round) + "-new"));
        run_task(store->replace(*kept.begin(), entry("changed " + std::to_string(round))));
    }
    std::vector<std::string> kept_seen;
    std::copy_if(seen.begin(), seen.end(), std::back_inserter(kept_seen),
                 [&kept](const std::string& id) { return kept.contains(id); });
    EXPECT_EQ(kept_seen, std::vector<std::string>(kept.begin(), kept.end()));
    EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
    EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), seen.size());
}

TEST_P(StoreConformance, IdsWithOddCharactersAreRefused)
{
    for (const auto* id : {"", "../escape", "a/b", "a.json", "a b", "a\nb", "é", "a%2e"}) {
        EXPECT_THROW(run_task(store->create(id, entry("X"))), StoreError) << id;
        EXPECT_THROW(run_task(store->read(id)), StoreError) << id;
        EXPECT_THROW(run_task(store->replace(id, entry("X"))), StoreError) << id;
        EXPECT_THROW(run_task(store->remove(id)), StoreError) << id;
        EXPECT_THROW(run_task(store->replace_if(id, entry("X")->etag, entry("Y"))), StoreError) << id;
        EXPECT_THROW(run_task(store->remove_if(id, entry("X")->etag)), StoreError) << id;
        EXPECT_THROW(run_task(store->create_if_absent(id, entry("X"))), StoreError) << id;
    }
    EXPECT_EQ(store->size(), 0U);
}

TEST_P(StoreConformance, LargeEntriesAreKeptWhole)
{
    const auto large = make_stored_entry(nlohmann::json{{"full_name", std::string(1'000'000, 'z')}}.dump());
    run_task(store->create("big", large));
    EXPECT_EQ(run_task(store->read("big"))->json, large->json);
}

TEST_P(StoreConformance, UnicodeIsKeptByteForByte)
{
    const auto text = entry("Zoë Ålvik-Nakamura 中村 🌍 \"quoted\" \\ back");
    run_task(store->create("u-1", text));
    EXPECT_EQ(run_task(store->read("u-1"))->json, text->json);
    EXPECT_EQ(run_task(store->list())[0].second->json, text->json);
}

TEST_P(StoreConformance, ConcurrentOperationsOnOneIdStayConsistent)
{
    run_task(store->create("hot", entry("start")));
    boost::asio::io_context io;
    std::set<std::string> written{entry("start")->json};
    int failures = 0;
    constexpr int writers = 50;
    for (int i = 0; i < writers; ++i) {
        auto value = entry("writer " + std::to_string(i));
        written.insert(value->json);
        auto write_then_read = [](std::shared_ptr<AddressStore> target, EntryPtr next, int* failed) -> Task<void> {
            if (!co_await target->replace("hot", next)) {
                ++*failed;
            }
            if (co_await target->read("hot") == nullptr) {
                ++*failed;
            }
        };
        boost::asio::co_spawn(io, write_then_read(store, value, &failures), boost::asio::detached);
    }
    io.run();
    EXPECT_EQ(failures, 0);
    const auto last = run_task(store->read("hot"));
    ASSERT_NE(last, nullptr);
    EXPECT_EQ(written.count(last->json), 1U);
    EXPECT_EQ(store->size(), 1U);
    EXPECT_TRUE(run_task(store->ready()));
}

TEST_P(StoreConformance, ReplaceIfWritesOnlyOverTheExpectedEtag)
{
    run_task(store->create("a1", entry("Ada")));
    auto result = run_task(store->replace_if("a1", entry("Someone")->etag, entry("Grace")));
    EXPECT_EQ(result.status, WriteStatus::precondition_failed);
    EXPECT_EQ(result.current_etag, entry("Ada")->etag);
    EXPECT_EQ(run_task(store->read("a1"))->json, entry("Ada")->json);

    result = run_task(store->replace_if("a1", entry("Ada")->etag, entry("Grace")));
    EXPECT_EQ(result.status, WriteStatus::done);
    EXPECT_EQ(run_task(store->read("a1"))->etag, entry("Grace")->etag);

    EXPECT_EQ(run_task(store->replace_if("nobody", entry("Ada")->etag, entry("X"))).status, WriteStatus::not_found);
    EXPECT_EQ(run_task(store->read("nobody")), nullptr);
    EXPECT_EQ(store->size(), 1U);
}

TEST_P(StoreConformance, RemoveIfRemovesOnlyWithTheExpectedEtag)
{
    run_task(store->create("a1", entry("Ada")));
    auto result = run_task(store->remove_if("a1", entry("Grace")->etag));
    EXPECT_EQ(result.status, WriteStatus::precondition_failed);
    EXPECT_EQ(result.current_etag, entry("Ada")->etag);
    EXPECT_NE(run_task(store->read("a1")), nullptr);
    EXPECT_EQ(store->size(), 1U);

    EXPECT_EQ(run_task(store->remove_if("a1", entry("Ada")->etag)).status, WriteStatus::done);
    EXPECT_EQ(run_task(store->read("a1")), nullptr);
    EXPECT_EQ(store->size(), 0U);
    EXPECT_EQ(run_task(store->remove_if("a1", entry("Ada")->etag)).status, WriteStatus::not_found);
}

TEST_P(StoreConformance, CreateIfAbsentCreatesOnce)
{
    EXPECT_EQ(run_task(store->create_if_absent("chosen-1", entry("Ada"))).status, WriteStatus::done);
    const auto again = run_task(store->create_if_absent("chosen-1", entry("Grace")));
    EXPECT_EQ(again.status, WriteStatus::precondition_failed);
    EXPECT_EQ(again.current_etag, entry("Ada")->etag);
    EXPECT_EQ(run_task(store->read("chosen-1"))->json, entry("Ada")->json);
    EXPECT_EQ(store->size(), 1U);
    EXPECT_EQ(run_task(store->list()).size(), 1U);
}

/// Starts one coroutine per entry on io, each calling write(store, entry) once; runs them all together
/// and returns their results.
std::vector<WriteResult> race(const std::shared_ptr<AddressStore>& target, const std::vector<EntryPtr>& entries,
                              Task<WriteResult> (*write)(std::shared_ptr<AddressStore>, EntryPtr))
{
    boost::asio::io_context io;
    std::vector<WriteResult> results(entries.size());
    auto run_one = [](Task<WriteResult> task, WriteResult* result) -> Task<void> {
        *result = co_await std::move(task);
    };
    for (std::size_t i = 0; i < entries.size(); ++i) {
        boost::asio::co_spawn(io, run_one(write(target, entries[i]), &results[i]), boost::asio::detached);
    }
    io.run();
    return results;
}

std::vector<EntryPtr> contenders(int count)
{
    std::vector<EntryPtr> entries;
    for (int i = 0; i < count; ++i) {
        entries.push_back(make_stored_entry(nlohmann::json{{"full_name", "writer " + std::to_string(i)}}.dump()));
    }
    return entries;
}

std::size_t count_done(const std::vector<WriteResult>& results)
{
    return static_cast<std::size_t>(std::count_if(
        results.begin(), results.end(), [](const WriteResult& result) { return result.status == WriteStatus::done; }));
}

Task<WriteResult> replace_over_start(std::shared_ptr<AddressStore> target, EntryPtr next)
{
    co_return co_await target->replace_if("hot", make_stored_entry(R"({"full_name":"start"})")->etag, next);
}

TEST_P(StoreConformance, OfTwentyWritersHoldingOneEtagExactlyOneWins)
{
    run_task(store->create("hot", make_stored_entry(R"({"full_name":"start"})")));
    const auto entries = contenders(20);
    const auto results = race(store, entries, &replace_over_start);
    ASSERT_EQ(count_done(results), 1U);
    const auto winner = std::find_if(results.begin(), results.end(),
                                     [](const WriteResult& result) { return result.status == WriteStatus::done; });
    const auto stored = run_task(store->read("hot"))->json;
    EXPECT_EQ(stored, entries[static_cast<std::size_t>(winner - results.begin())]->json);
    for (const auto& result : results) {
        if (result.status != WriteStatus::done) {
            EXPECT_EQ(result.status, WriteStatus::precondition_failed);
            EXPECT_EQ(result.current_etag, make_etag(stored));
        }
    }
}

Task<WriteResult> create_at_hot(std::shared_ptr<AddressStore> target, EntryPtr entry)
{
    co_return co_await target->create_if_absent("hot", entry);
}

Task<WriteResult> remove_start(std::shared_ptr<AddressStore> target, EntryPtr /*entry*/)
{
    co_return co_await target->remove_if("hot", make_stored_entry(R"({"full_name":"start"})")->etag);
}

TEST_P(StoreConformance, OfTwentyCreatorsOfOneIdExactlyOneWins)
{
    const auto entries = contenders(20);
    EXPECT_EQ(count_done(race(store, entries, &create_at_hot)), 1U);
    EXPECT_EQ(store->size(), 1U);
}

TEST_P(StoreConformance, OfTwentyRemoversHoldingOneEtagExactlyOneWins)
{
    run_task(store->create("hot", make_stored_entry(R"({"full_name":"start"})")));
    const auto results = race(store, contenders(20), &remove_start);
    EXPECT_EQ(count_done(results), 1U);
    EXPECT_EQ(std::count_if(results.begin(), results.end(),
                            [](const WriteResult& result) { return result.status == WriteStatus::not_found; }),
              19);
    EXPECT_EQ(store->size(), 0U);
}

INSTANTIATE_TEST_SUITE_P(
    Stores, StoreConformance,
    ::testing::Values(StoreKind{"memory", [](const std::filesystem::path&) { return std::make_shared<MemoryStore>(); }},
                      StoreKind{"fs",
                                [](const std::filesystem::path& dir) {
                                    return std::make_shared<FsStore>((dir / "nested" / "addresses").string());
                                }},
                      StoreKind{"sqlite",
                                [](const std::filesystem::path& dir) {
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
