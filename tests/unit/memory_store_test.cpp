#include "addrservice/store/memory_store.hpp"
#include "addrservice/errors.hpp"
#include "support/run_task.hpp"

#include <gtest/gtest.h>

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

namespace addrservice {
namespace {

TEST(StoreFactory, MemoryIsMadeAndUnavailableStoresAreAnOpenError)
{
    EXPECT_EQ(make_store(StoreConfig{StoreConfig::Kind::memory, ""})->describe(), "memory");
    try {
        make_store(StoreConfig{StoreConfig::Kind::postgres, "postgresql://a@127.0.0.1/b"});
        FAIL();
    } catch (const StoreOpenError& e) {
        EXPECT_EQ(std::string(e.what()),
                  "the postgres store is not available in this version; use sqlite, fs or memory");
    }
}

}  // namespace
}  // namespace addrservice
