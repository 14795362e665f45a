#pragma once

#include "addrservice/store/threaded_store.hpp"

#include <atomic>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace addrservice {

/// One `<id>.json` file per entry in a directory. Writes are atomic and durable: a temporary file is
/// written and fsynced, renamed over the target, and the directory fsynced; a write that fails removes its
/// temporary file. An id too long for a file name of the directory's file system is an id no entry has.
/// All file work runs on the store's own thread; callers only await. One process at a time: the store
/// holds an exclusive flock on the directory while it is open, and a second one is refused.
class FsStore final : public ThreadedStore<FsStore> {
public:
    /// Opens the directory, creating it if missing. Throws StoreError when it cannot be created or written,
    /// or another store (in this process or another) has it open.
    explicit FsStore(std::string directory);
    ~FsStore() override;
    FsStore(const FsStore&) = delete;
    FsStore& operator=(const FsStore&) = delete;
    FsStore(FsStore&&) = delete;
    FsStore& operator=(FsStore&&) = delete;

    [[nodiscard]] std::size_t size() const noexcept override { return count_.load(); }
    [[nodiscard]] std::string describe() const override { return "fs:" + name_; }

private:
    friend class ThreadedStore<FsStore>;

    // The blocking work, run on the store's thread.
    void create_now(const std::string& id, const EntryPtr& entry);
    [[nodiscard]] EntryPtr read_now(const std::string& id) const;
    [[nodiscard]] bool replace_now(const std::string& id, const EntryPtr& entry) const;
    bool remove_now(const std::string& id);
    [[nodiscard]] std::vector<std::pair<std::string, EntryPtr>> list_now() const;
    [[nodiscard]] WriteResult replace_if_now(const std::string& id, const std::string& expected_etag,
                                             const EntryPtr& entry) const;
    WriteResult remove_if_now(const std::string& id, const std::string& expected_etag);
    WriteResult create_if_absent_now(const std::string& id, const EntryPtr& entry);
    [[nodiscard]] EntryPage range_now(const std::string& after, std::size_t limit) const;
    [[nodiscard]] std::vector<std::string> ids_after(const std::string& after, std::size_t limit) const;
    [[nodiscard]] bool ready_now() const;
    [[nodiscard]] bool can_hold(const std::string& id) const noexcept;
    [[nodiscard]] std::filesystem::path path_for(const std::string& id) const;
    [[nodiscard]] std::filesystem::path temp_path_for(const std::string& id) const;
    void write_atomically(const std::string& id, const std::string& text) const;

    /// The directory's open descriptor, holding an exclusive flock until the store is destroyed.
    class DirectoryLock {
    public:
        explicit DirectoryLock(const std::filesystem::path& directory, const std::string& name);
        ~DirectoryLock();
        DirectoryLock(const DirectoryLock&) = delete;
        DirectoryLock& operator=(const DirectoryLock&) = delete;
        DirectoryLock(DirectoryLock&&) = delete;
        DirectoryLock& operator=(DirectoryLock&&) = delete;

    private:
        int fd_;
    };

    std::string name_;
    std::filesystem::path directory_;
    std::unique_ptr<DirectoryLock> lock_;
    std::size_t longest_name_;  // of a file in directory_, in bytes
    std::unique_ptr<StoreThread> thread_;
    std::atomic<std::size_t> count_{0};
};

}  // namespace addrservice
