// The store conformance suite: every store passes these tests (see store_conformance.hpp).
#include "support/store_conformance.hpp"

#include <boost/asio/co_spawn.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>
#include <unistd.h>

namespace addrservice::testing {

void StoreConformance::SetUp()
{
    dir_ = std::filesystem::temp_directory_path() /
           ("addrservice-store-" + GetParam().name + "-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
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

TEST_P(StoreConformance, IdsWithOddCharactersAreRefused)
{
    for (const auto* id : {"", "../escape", "a/b", "a.json", "a b", "a\nb", "é", "a%2e"}) {
        EXPECT_THROW(run(store->create(id, entry("X"))), StoreError) << id;
        EXPECT_THROW(run(store->read(id)), StoreError) << id;
        EXPECT_THROW(run(store->replace(id, entry("X"))), StoreError) << id;
        EXPECT_THROW(run(store->remove(id)), StoreError) << id;
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

}  // namespace addrservice::testing
