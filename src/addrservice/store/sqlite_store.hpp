#pragma once

#include "addrservice/store/threaded_store.hpp"

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace addrservice {

/// Entries in one SQLite table as their JSON text: WAL mode, synchronous=FULL (a write that returned is
/// on disk), a busy timeout so that several processes can share the file. Every statement runs on the
/// store's own thread; callers only await.
class SqliteStore final : public ThreadedStore<SqliteStore> {
public:
    /// How long a statement waits for another process's lock before the store is unavailable (503).
    static constexpr int default_busy_timeout_ms = 5000;

    /// Opens (creating the file and its missing directories) and checks the schema version.
    /// Throws StoreError when the file cannot be opened or was written by another schema version.
    explicit SqliteStore(std::string path, int busy_timeout_ms = default_busy_timeout_ms);
    ~SqliteStore() override;
    SqliteStore(const SqliteStore&) = delete;
    SqliteStore& operator=(const SqliteStore&) = delete;
    SqliteStore(SqliteStore&&) = delete;
    SqliteStore& operator=(SqliteStore&&) = delete;

    [[nodiscard]] std::size_t size() const noexcept override { return count_.load(); }
    [[nodiscard]] std::string describe() const override { return "sqlite:" + path_; }

    /// The schema version this build writes and reads.
    static constexpr int schema_version = 2;

private:
    friend class ThreadedStore<SqliteStore>;
    struct Db;

    // The blocking work, run on the store's thread.
    void create_now(const std::string& id, const EntryPtr& entry);
    [[nodiscard]] EntryPtr read_now(const std::string& id) const;
    [[nodiscard]] bool replace_now(const std::string& id, const EntryPtr& entry) const;
    bool remove_now(const std::string& id);
    std::vector<std::pair<std::string, EntryPtr>> list_now();
    [[nodiscard]] WriteResult replace_if_now(const std::string& id, const std::string& expected_etag,
                                             const EntryPtr& entry) const;
    WriteResult remove_if_now(const std::string& id, const std::string& expected_etag);
    WriteResult create_if_absent_now(const std::string& id, const EntryPtr& entry);
    [[nodiscard]] EntryPage range_now(const std::string& after, std::size_t limit) const;
    [[nodiscard]] WriteResult refused(const std::string& id) const;
    bool ready_now();

    std::string path_;
    std::unique_ptr<Db> db_;
    std::unique_ptr<StoreThread> thread_;
    std::atomic<std::size_t> count_{0};
};

}  // namespace addrservice
