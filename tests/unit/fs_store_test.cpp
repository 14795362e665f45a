// What the fs store makes of files it did not write: a folder of files can be edited by hand.
#include "addrservice/store/fs_store.hpp"
#include "support/run_task.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <vector>

namespace addrservice {
namespace {

using testing::run_task;
using testing::TempDir;

constexpr std::string_view kept_entry = R"({"full_name":"Ottilie Brandvold"})";

/// A store over a fresh directory that already holds one entry written by the store, "kept".
class FsStoreFiles : public ::testing::Test {
protected:
    TempDir scratch{"fs-files"};
    std::filesystem::path dir = scratch.path() / "addresses";
    std::filesystem::path outside = scratch.path() / "outside.json";

    void SetUp() override
    {
        FsStore store(dir.string());
        run_task(store.create("kept", make_stored_entry(std::string(kept_entry))));
        std::ofstream(outside) << R"({"full_name":"Not In The Book"})";
    }
};

TEST_F(FsStoreFiles, ASecondStoreOnTheDirectoryIsRefusedWhileTheFirstIsOpen)
{
    {
        FsStore first(dir.string());
        try {
            const FsStore second(dir.string());
            ADD_FAILURE() << "a second store opened the directory the first holds";
        } catch (const StoreError& e) {
            EXPECT_EQ(std::string(e.what()), "fs: directory '" + dir.string() +
                                                 "' is in use by another process (the fs store is for one process "
                                                 "at a time)");
        }
        EXPECT_EQ(run_task(first.read("kept"))->json, kept_entry);
    }
    // Closed, the directory is free again.
    FsStore again(dir.string());
    EXPECT_EQ(run_task(again.read("kept"))->json, kept_entry);
}

TEST_F(FsStoreFiles, AnEntryOfADirectoryMovedAwayIsAnErrorNotAMissingEntry)
{
    FsStore store(dir.string());
    const auto moved = scratch.path() / "moved";
    std::filesystem::rename(dir, moved);
    const std::string expected = "fs: cannot find the directory '" + dir.string() + "': No such file or directory";
    for (const auto& attempt : std::vector<std::function<void()>>{
             [&] { (void)run_task(store.read("kept")); },
             [&] { (void)run_task(store.replace("kept", make_stored_entry(R"({"full_name":"Elsewhere"})"))); },
             [&] { (void)run_task(store.remove("kept")); },
         }) {
        try {
            attempt();
            ADD_FAILURE() << "an entry of a directory that is gone was not found, without an error";
        } catch (const StoreError& e) {
            EXPECT_EQ(std::string(e.what()), expected);
        }
    }
    // Back in place, the entry is there again.
    std::filesystem::rename(moved, dir);
    EXPECT_EQ(run_task(store.read("kept"))->json, kept_entry);
    EXPECT_EQ(run_task(store.read("missing")), nullptr);
}

TEST_F(FsStoreFiles, ASymbolicLinkIsNoEntry)
{
    std::filesystem::create_symlink(outside, dir / "linked.json");
    FsStore store(dir.string());
    EXPECT_EQ(store.size(), 1U);
    EXPECT_EQ(run_task(store.read("linked")), nullptr);
    EXPECT_FALSE(run_task(store.replace("linked", make_stored_entry(R"({"full_name":"Over The Link"})"))));
    const auto listed = run_task(store.list());
    ASSERT_EQ(listed.size(), 1U);
    EXPECT_EQ(listed[0].first, "kept");
    // What the link points to is never written.
    std::ifstream file(outside);
    EXPECT_EQ(std::string(std::istreambuf_iterator<char>(file), {}), R"({"full_name":"Not In The Book"})");
}

TEST_F(FsStoreFiles, ADirectoryOrAFifoIsNoEntry)
{
    std::filesystem::create_directory(dir / "folder.json");
    ASSERT_EQ(::mkfifo((dir / "pipe.json").c_str(), 0600), 0);
    FsStore store(dir.string());
    EXPECT_EQ(store.size(), 1U);
    EXPECT_EQ(run_task(store.read("folder")), nullptr);
    EXPECT_EQ(run_task(store.read("pipe")), nullptr);  // returns at once: nothing waits for a writer
    EXPECT_EQ(run_task(store.list()).size(), 1U);
}

TEST_F(FsStoreFiles, ALinkDirectoryOrFifoIsNoEntryOfAPageOrAConditionalWrite)
{
    // Named to sort before "kept": a page that took them for entries would come back without it.
    std::filesystem::create_symlink(outside, dir / "a-linked.json");
    std::filesystem::create_directory(dir / "b-folder.json");
    ASSERT_EQ(::mkfifo((dir / "c-pipe.json").c_str(), 0600), 0);
    FsStore store(dir.string());
    const auto page = run_task(store.range("", 1));
    ASSERT_EQ(page.size(), 1U);
    EXPECT_EQ(page[0].first, "kept");
    EXPECT_TRUE(run_task(store.range("kept", 5)).empty());
    const auto over_link = run_task(store.replace_if("a-linked", make_etag(R"({"full_name":"Not In The Book"})"),
                                                     make_stored_entry(R"({"full_name":"Over The Link"})")));
    EXPECT_EQ(over_link.status, WriteStatus::not_found);
    EXPECT_EQ(run_task(store.remove_if("c-pipe", make_etag("{}"))).status, WriteStatus::not_found);
    std::ifstream file(outside);
    EXPECT_EQ(std::string(std::istreambuf_iterator<char>(file), {}), R"({"full_name":"Not In The Book"})");
}

TEST_F(FsStoreFiles, ALinkDirectoryOrFifoIsNeverRemovedAsAnEntry)
{
    std::filesystem::create_symlink(outside, dir / "linked.json");
    std::filesystem::create_directory(dir / "folder.json");
    ASSERT_EQ(::mkfifo((dir / "pipe.json").c_str(), 0600), 0);
    FsStore store(dir.string());
    for (const auto* id : {"linked", "folder", "pipe"}) {
        EXPECT_FALSE(run_task(store.remove(id))) << id;
    }
    EXPECT_TRUE(std::filesystem::is_symlink(dir / "linked.json"));
    EXPECT_TRUE(std::filesystem::is_directory(dir / "folder.json"));
    EXPECT_TRUE(std::filesystem::is_fifo(dir / "pipe.json"));
    EXPECT_EQ(store.size(), 1U);
}

TEST_F(FsStoreFiles, AConditionalCreateAtAnIdTooLongForAFileNameFindsNoEntry)
{
    FsStore store(dir.string());
    const std::string id(251, 'z');  // `<id>.json` is one byte longer than a file name may be
    const auto created = run_task(store.create_if_absent(id, make_stored_entry(std::string(kept_entry))));
    EXPECT_EQ(created.status, WriteStatus::not_found);
    EXPECT_EQ(store.size(), 1U);
}

TEST_F(FsStoreFiles, AFileThatIsNotAJsonObjectIsAStoreErrorNamingIt)
{
    std::ofstream(dir / "broken.json") << R"({"full_name": "Half)";
    std::ofstream(dir / "array.json") << "[1, 2]";
    FsStore store(dir.string());
    for (const std::string id : {"broken", "array"}) {
        try {
            run_task(store.read(id));
            FAIL() << id << " was served";
        } catch (const StoreError& e) {
            EXPECT_NE(std::string(e.what()).find((dir / (id + ".json")).string() + "' does not hold a JSON object"),
                      std::string::npos)
                << e.what();
        }
    }
    EXPECT_THROW(run_task(store.list()), StoreError);
    EXPECT_EQ(run_task(store.read("kept"))->json, kept_entry);
}

}  // namespace
}  // namespace addrservice
