// The store conformance suite: every store passes these tests (see store_conformance.hpp).
#include "support/store_conformance.hpp"

#include <boost/asio/co_spawn.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <iterator>
#include <set>
#include <stdexcept>
#include <string>
#include <unistd.h>
#include <vector>

namespace addrservice::testing {

void StoreConformance::SetUp()
{
    // A parameterised test's name is "Test/param": its slash would nest the folder, and TearDown would
    // remove only the inner one.
    std::string test = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::replace(test.begin(), test.end(), '/', '-');
    dir_ = std::filesystem::temp_directory_path() /
           ("addrservice-store-" + GetParam().name + "-" + std::to_string(::getpid()) + "-" + test);
    ASSERT_EQ(dir_.parent_path(), (std::filesystem::temp_directory_path() / "x").parent_path())
        << "TearDown removes " << dir_;
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    store = GetParam().make(dir_, io);
}

void StoreConformance::TearDown()
{
    store.reset();
    std::filesystem::remove_all(dir_);
}

EntryPtr StoreConformance::entry(const std::string& name)
{
    return make_stored_entry(nlohmann::json{{"full_name", name}}.dump());
}

TEST_P(StoreConformance, CreateReadReplaceRemove)
{
    run(store->create("a1", entry("Ada")));
    EXPECT_EQ(store->size(), 1U);
    const auto read = run(store->read("a1"));
    ASSERT_NE(read, nullptr);
    EXPECT_EQ(read->json, entry("Ada")->json);
    EXPECT_EQ(read->etag, entry("Ada")->etag);
    EXPECT_TRUE(run(store->replace("a1", entry("Grace"))));
    EXPECT_EQ(run(store->read("a1"))->json, entry("Grace")->json);
    EXPECT_TRUE(run(store->remove("a1")));
    EXPECT_EQ(run(store->read("a1")), nullptr);
    EXPECT_EQ(store->size(), 0U);
}

TEST_P(StoreConformance, MissingIdsAreNotFound)
{
    EXPECT_EQ(run(store->read("nobody")), nullptr);
    EXPECT_FALSE(run(store->replace("nobody", entry("X"))));
    EXPECT_FALSE(run(store->remove("nobody")));
    EXPECT_EQ(store->size(), 0U);
}

TEST_P(StoreConformance, DuplicateCreateIsRefused)
{
    run(store->create("dup", entry("One")));
    EXPECT_THROW(run(store->create("dup", entry("Two"))), StoreError);
    EXPECT_EQ(run(store->read("dup"))->json, entry("One")->json);
}

TEST_P(StoreConformance, ListIsEveryEntryOrderedById)
{
    EXPECT_TRUE(run(store->list()).empty());
    for (const auto* id : {"c3", "a1", "B2"}) {
        run(store->create(id, entry(id)));
    }
    const auto list = run(store->list());
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
        run(store->create(ids.back(), entry("X")));
    }
    std::sort(ids.begin(), ids.end());
    const auto list = run(store->list());
    ASSERT_EQ(list.size(), ids.size());
    for (std::size_t i = 0; i < ids.size(); ++i) {
        EXPECT_EQ(list[i].first, ids[i]) << i;
    }
}

namespace {

std::vector<std::string> ids_of(const EntryPage& page)
{
    std::vector<std::string> ids;
    for (const auto& [id, entry] : page) {
        ids.push_back(id);
    }
    return ids;
}

}  // namespace

TEST_P(StoreConformance, RangeReadsEntriesAfterAnIdInIdOrder)
{
    EXPECT_TRUE(run(store->range("", 10)).empty());
    for (const auto* id : {"c3", "a1", "B2", "a10", "a2", "-x"}) {
        run(store->create(id, entry(id)));
    }
    // Bytewise: '-' < digits < uppercase < lowercase.
    EXPECT_EQ(ids_of(run(store->range("", 100))), (std::vector<std::string>{"-x", "B2", "a1", "a10", "a2", "c3"}));
    EXPECT_EQ(ids_of(run(store->range("", 2))), (std::vector<std::string>{"-x", "B2"}));
    EXPECT_EQ(ids_of(run(store->range("B2", 2))), (std::vector<std::string>{"a1", "a10"}));
    // The id need not exist.
    EXPECT_EQ(ids_of(run(store->range("a1-", 2))), (std::vector<std::string>{"a10", "a2"}));
    EXPECT_EQ(ids_of(run(store->range("a2", 5))), (std::vector<std::string>{"c3"}));
    EXPECT_TRUE(run(store->range("c3", 5)).empty());
    EXPECT_TRUE(run(store->range("zzz", 5)).empty());
    EXPECT_TRUE(run(store->range("", 0)).empty());
    const auto page = run(store->range("a1", 1));
    ASSERT_EQ(page.size(), 1U);
    EXPECT_EQ(page[0].second->json, entry("a10")->json);
    EXPECT_EQ(page[0].second->etag, entry("a10")->etag);
    EXPECT_THROW(run(store->range("../x", 5)), StoreError);
}

TEST_P(StoreConformance, PagesSeeEveryEntryThatStaysExactlyOnceWhileOthersAreWritten)
{
    std::set<std::string> kept;
    for (int i = 0; i < 40; ++i) {
        const auto id = "k" + std::to_string(100 + i * 7 % 40);
        kept.insert(id);
        run(store->create(id, entry(id)));
    }
    std::vector<std::string> seen;
    std::string after;
    for (int round = 0;; ++round) {
        const auto page = run(store->range(after, 3));
        if (page.empty()) {
            break;
        }
        for (const auto& [id, stored] : page) {
            seen.push_back(id);
        }
        after = page.back().first;
        // Others write between pages: entries come and go before and after where the walk is.
        run(store->create("k" + std::to_string(100 + round) + "-new", entry("new")));
        run(store->create("a-before-" + std::to_string(round), entry("new")));
        run(store->remove("k" + std::to_string(100 + round) + "-new"));
        run(store->replace(*kept.begin(), entry("changed " + std::to_string(round))));
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
        EXPECT_THROW(run(store->create(id, entry("X"))), StoreError) << id;
        EXPECT_THROW(run(store->read(id)), StoreError) << id;
        EXPECT_THROW(run(store->replace(id, entry("X"))), StoreError) << id;
        EXPECT_THROW(run(store->remove(id)), StoreError) << id;
        EXPECT_THROW(run(store->replace_if(id, entry("X")->etag, entry("Y"))), StoreError) << id;
        EXPECT_THROW(run(store->remove_if(id, entry("X")->etag)), StoreError) << id;
        EXPECT_THROW(run(store->create_if_absent(id, entry("X"))), StoreError) << id;
    }
    EXPECT_EQ(store->size(), 0U);
}

TEST_P(StoreConformance, AnIdTooLongForAFileNameIsUnknown)
{
    // `<id>.json` would be longer than a file name may be (255 bytes on Linux file systems).
    const std::string id(300, 'x');
    EXPECT_EQ(run(store->read(id)), nullptr);
    EXPECT_FALSE(run(store->replace(id, entry("X"))));
    EXPECT_FALSE(run(store->remove(id)));
    EXPECT_EQ(store->size(), 0U);
    EXPECT_TRUE(run(store->ready()));
}

TEST_P(StoreConformance, AnIdAsLongAsAFileNameAllowsIsKept)
{
    // `<id>.json` is exactly 255 bytes: the longest id the fs store can hold, temporary file and all.
    const std::string id(250, 'L');
    run(store->create(id, entry("Long")));
    EXPECT_EQ(run(store->read(id))->json, entry("Long")->json);
    EXPECT_TRUE(run(store->replace(id, entry("Longer"))));
    EXPECT_EQ(run(store->read(id))->json, entry("Longer")->json);
    const auto list = run(store->list());
    ASSERT_EQ(list.size(), 1U);
    EXPECT_EQ(list[0].first, id);
    EXPECT_TRUE(run(store->remove(id)));
    EXPECT_EQ(store->size(), 0U);
}

TEST_P(StoreConformance, LargeEntriesAreKeptWhole)
{
    const auto large = make_stored_entry(nlohmann::json{{"full_name", std::string(1'000'000, 'z')}}.dump());
    run(store->create("big", large));
    EXPECT_EQ(run(store->read("big"))->json, large->json);
}

TEST_P(StoreConformance, UnicodeIsKeptByteForByte)
{
    const auto text = entry("Zoë Ålvik-Nakamura 中村 🌍 \"quoted\" \\ back");
    run(store->create("u-1", text));
    EXPECT_EQ(run(store->read("u-1"))->json, text->json);
    EXPECT_EQ(run(store->list())[0].second->json, text->json);
}

TEST_P(StoreConformance, ConcurrentOperationsOnOneIdStayConsistent)
{
    run(store->create("hot", entry("start")));
    std::set<std::string> written{entry("start")->json};
    int failures = 0;
    int finished = 0;
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
        boost::asio::co_spawn(io, write_then_read(store, value, &failures),
                              [&finished](const std::exception_ptr& error) {
                                  ++finished;
                                  EXPECT_FALSE(error);
                              });
    }
    io.restart();
    while (finished < writers && io.run_one() > 0) {
    }
    EXPECT_EQ(finished, writers);
    EXPECT_EQ(failures, 0);
    const auto last = run(store->read("hot"));
    ASSERT_NE(last, nullptr);
    EXPECT_EQ(written.count(last->json), 1U);
    EXPECT_EQ(store->size(), 1U);
    EXPECT_TRUE(run(store->ready()));
}

TEST_P(StoreConformance, ReplaceIfWritesOnlyOverTheExpectedEtag)
{
    run(store->create("a1", entry("Ada")));
    auto result = run(store->replace_if("a1", entry("Someone")->etag, entry("Grace")));
    EXPECT_EQ(result.status, WriteStatus::precondition_failed);
    EXPECT_EQ(result.current_etag, entry("Ada")->etag);
    EXPECT_EQ(run(store->read("a1"))->json, entry("Ada")->json);

    result = run(store->replace_if("a1", entry("Ada")->etag, entry("Grace")));
    EXPECT_EQ(result.status, WriteStatus::done);
    EXPECT_EQ(run(store->read("a1"))->etag, entry("Grace")->etag);

    EXPECT_EQ(run(store->replace_if("nobody", entry("Ada")->etag, entry("X"))).status, WriteStatus::not_found);
    EXPECT_EQ(run(store->read("nobody")), nullptr);
    EXPECT_EQ(store->size(), 1U);
}

TEST_P(StoreConformance, RemoveIfRemovesOnlyWithTheExpectedEtag)
{
    run(store->create("a1", entry("Ada")));
    auto result = run(store->remove_if("a1", entry("Grace")->etag));
    EXPECT_EQ(result.status, WriteStatus::precondition_failed);
    EXPECT_EQ(result.current_etag, entry("Ada")->etag);
    EXPECT_NE(run(store->read("a1")), nullptr);
    EXPECT_EQ(store->size(), 1U);

    EXPECT_EQ(run(store->remove_if("a1", entry("Ada")->etag)).status, WriteStatus::done);
    EXPECT_EQ(run(store->read("a1")), nullptr);
    EXPECT_EQ(store->size(), 0U);
    EXPECT_EQ(run(store->remove_if("a1", entry("Ada")->etag)).status, WriteStatus::not_found);
}

TEST_P(StoreConformance, CreateIfAbsentCreatesOnce)
{
    EXPECT_EQ(run(store->create_if_absent("chosen-1", entry("Ada"))).status, WriteStatus::done);
    const auto again = run(store->create_if_absent("chosen-1", entry("Grace")));
    EXPECT_EQ(again.status, WriteStatus::precondition_failed);
    EXPECT_EQ(again.current_etag, entry("Ada")->etag);
    EXPECT_EQ(run(store->read("chosen-1"))->json, entry("Ada")->json);
    EXPECT_EQ(store->size(), 1U);
    EXPECT_EQ(run(store->list()).size(), 1U);
}

TEST_P(StoreConformance, ModifyStoresWhatTheChangeMakesOfTheStoredEntry)
{
    run(store->create("a1", entry("Ada")));
    std::vector<std::string> seen;
    auto result = run(store->modify("a1", [&](const EntryPtr& current) {
        seen.push_back(current->json);
        return entry("Grace");
    }));
    EXPECT_EQ(result.status, WriteStatus::done);
    ASSERT_NE(result.entry, nullptr);
    EXPECT_EQ(result.entry->etag, entry("Grace")->etag);
    EXPECT_EQ(seen, std::vector<std::string>{entry("Ada")->json});
    EXPECT_EQ(run(store->read("a1"))->json, entry("Grace")->json);

    // A change that keeps the entry as it is writes nothing and answers with the entry as stored.
    result = run(store->modify("a1", [](const EntryPtr&) { return EntryPtr(); }));
    EXPECT_EQ(result.status, WriteStatus::done);
    ASSERT_NE(result.entry, nullptr);
    EXPECT_EQ(result.entry->etag, entry("Grace")->etag);

    // A change that refuses leaves the entry as it was, and its exception comes out of modify().
    EXPECT_THROW(run(store->modify("a1", [](const EntryPtr&) -> EntryPtr { throw std::invalid_argument("no"); })),
                 std::invalid_argument);
    EXPECT_EQ(run(store->read("a1"))->json, entry("Grace")->json);
    EXPECT_EQ(store->size(), 1U);
}

TEST_P(StoreConformance, ModifyOfAMissingEntryIsNotFoundAndAsksForNoChange)
{
    bool asked = false;
    const auto result = run(store->modify("nobody", [&](const EntryPtr&) {
        asked = true;
        return entry("Ada");
    }));
    EXPECT_EQ(result.status, WriteStatus::not_found);
    EXPECT_FALSE(asked);
    EXPECT_EQ(run(store->read("nobody")), nullptr);
    EXPECT_EQ(store->size(), 0U);
    EXPECT_THROW(run(store->modify("bad id", [](const EntryPtr&) { return EntryPtr(); })), StoreError);
}

namespace {

using ConditionalWrite = Task<WriteResult> (*)(std::shared_ptr<AddressStore>, EntryPtr);

/// Starts one coroutine per entry on io, each calling write(target, entry) once, all at once; runs io
/// until every one has finished and returns their results.
std::vector<WriteResult> race(boost::asio::io_context& io, const std::shared_ptr<AddressStore>& target,
                              const std::vector<EntryPtr>& entries, ConditionalWrite write)
{
    std::vector<WriteResult> results(entries.size());
    std::size_t finished = 0;
    auto run_one = [](Task<WriteResult> task, WriteResult* result) -> Task<void> {
        *result = co_await std::move(task);
    };
    for (std::size_t i = 0; i < entries.size(); ++i) {
        boost::asio::co_spawn(io, run_one(write(target, entries[i]), &results[i]),
                              [&finished](const std::exception_ptr& error) {
                                  ++finished;
                                  EXPECT_FALSE(error);
                              });
    }
    io.restart();
    while (finished < entries.size() && io.run_one() > 0) {
    }
    EXPECT_EQ(finished, entries.size());
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

std::size_t count_with(const std::vector<WriteResult>& results, WriteStatus status)
{
    return static_cast<std::size_t>(std::count_if(
        results.begin(), results.end(), [status](const WriteResult& result) { return result.status == status; }));
}

EntryPtr start_entry()
{
    return make_stored_entry(R"({"full_name":"start"})");
}

Task<WriteResult> replace_over_start(std::shared_ptr<AddressStore> target, EntryPtr next)
{
    co_return co_await target->replace_if("hot", start_entry()->etag, std::move(next));
}

Task<WriteResult> create_at_hot(std::shared_ptr<AddressStore> target, EntryPtr entry)
{
    co_return co_await target->create_if_absent("hot", std::move(entry));
}

Task<WriteResult> remove_start(std::shared_ptr<AddressStore> target, EntryPtr /*entry*/)
{
    co_return co_await target->remove_if("hot", start_entry()->etag);
}

Task<WriteResult> count_up_hot(std::shared_ptr<AddressStore> target, EntryPtr /*entry*/)
{
    const auto result = co_await target->modify("hot", [](const EntryPtr& current) {
        auto counted = nlohmann::json::parse(current->json);
        counted["count"] = counted.value("count", 0) + 1;
        return make_stored_entry(counted.dump());
    });
    co_return WriteResult{result.status, {}};
}

}  // namespace

TEST_P(StoreConformance, OfTwentyWritersHoldingOneEtagExactlyOneWins)
{
    run(store->create("hot", start_entry()));
    const auto entries = contenders(20);
    const auto results = race(io, store, entries, &replace_over_start);
    ASSERT_EQ(count_with(results, WriteStatus::done), 1U);
    const auto winner = std::find_if(results.begin(), results.end(),
                                     [](const WriteResult& result) { return result.status == WriteStatus::done; });
    const auto stored = run(store->read("hot"))->json;
    EXPECT_EQ(stored, entries[static_cast<std::size_t>(winner - results.begin())]->json);
    EXPECT_EQ(count_with(results, WriteStatus::precondition_failed), 19U);
    for (const auto& result : results) {
        if (result.status != WriteStatus::done) {
            EXPECT_EQ(result.current_etag, make_etag(stored));
        }
    }
}

TEST_P(StoreConformance, OfTwentyCreatorsOfOneIdExactlyOneWins)
{
    const auto results = race(io, store, contenders(20), &create_at_hot);
    EXPECT_EQ(count_with(results, WriteStatus::done), 1U);
    EXPECT_EQ(count_with(results, WriteStatus::precondition_failed), 19U);
    EXPECT_EQ(store->size(), 1U);
}

TEST_P(StoreConformance, OfTwentyRemoversHoldingOneEtagExactlyOneWins)
{
    run(store->create("hot", start_entry()));
    const auto results = race(io, store, contenders(20), &remove_start);
    EXPECT_EQ(count_with(results, WriteStatus::done), 1U);
    EXPECT_EQ(count_with(results, WriteStatus::not_found), 19U);
    EXPECT_EQ(store->size(), 0U);
}

TEST_P(StoreConformance, MoreModifiesOfOneEntryAtOnceThanModifyTriesAllApplyOnTheEntryAsTheOthersLeftIt)
{
    // Racing, each round of reads and writes would let one of them through, and the last ones would run
    // out of tries: modifies of one entry take turns instead.
    constexpr int writers = max_modify_attempts + 8;
    run(store->create("hot", start_entry()));
    const auto results = race(io, store, contenders(writers), &count_up_hot);
    EXPECT_EQ(count_with(results, WriteStatus::done), static_cast<std::size_t>(writers));
    EXPECT_EQ(nlohmann::json::parse(run(store->read("hot"))->json).value("count", 0), writers);
}

}  // namespace addrservice::testing
