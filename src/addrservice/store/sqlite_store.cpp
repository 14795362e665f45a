#include "addrservice/store/sqlite_store.hpp"

#include "addrservice/store/store.hpp"
#include "addrservice/store/threaded_store_impl.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>

namespace addrservice {

namespace {

/// Throws the error of a failed SQLite call: another process holding the file's lock past the busy
/// timeout makes the store unavailable for now (503, worth retrying); anything else is a fault.
[[noreturn]] void fail(int rc, const std::string& message)
{
    const int primary = rc & 0xff;  // an extended result code's primary code is its low byte
    if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) {
        throw StoreUnavailableError("sqlite: " + message);
    }
    throw StoreError("sqlite: " + message);
}

/// A prepared statement, reset after each use.
class Statement {
public:
    Statement(sqlite3* db, const char* sql) : db_(db)
    {
        if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr) != SQLITE_OK) {
            throw StoreError(std::string("sqlite: cannot prepare statement: ") + sqlite3_errmsg(db));
        }
    }
    ~Statement() { sqlite3_finalize(stmt_); }
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;
    Statement(Statement&&) = delete;
    Statement& operator=(Statement&&) = delete;

    Statement& bind(int index, std::string_view text)
    {
        check(sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT));
        return *this;
    }

    Statement& bind(int index, std::int64_t number)
    {
        check(sqlite3_bind_int64(stmt_, index, number));
        return *this;
    }

    /// Steps once: true while there is a row.
    bool step()
    {
        const int rc = sqlite3_step(stmt_);
        if (rc == SQLITE_ROW) {
            return true;
        }
        if (rc != SQLITE_DONE) {
            const std::string message = sqlite3_errmsg(db_);
            sqlite3_reset(stmt_);
            fail(rc, message);
        }
        return false;
    }

    [[nodiscard]] std::string text(int column) const
    {
        const auto* data = sqlite3_column_text(stmt_, column);
        const auto size = sqlite3_column_bytes(stmt_, column);
        return data == nullptr ? std::string()
                               : std::string(reinterpret_cast<const char*>(data),  // NOLINT
                                             static_cast<std::size_t>(size));
    }

    [[nodiscard]] std::int64_t integer(int column) const { return sqlite3_column_int64(stmt_, column); }

    void reset()
    {
        sqlite3_reset(stmt_);
        sqlite3_clear_bindings(stmt_);
    }

private:
    void check(int rc) const
    {
        if (rc != SQLITE_OK) {
            fail(rc, sqlite3_errmsg(db_));
        }
    }

    sqlite3* db_;
    sqlite3_stmt* stmt_ = nullptr;
};

/// Resets a statement on scope exit, however the scope is left.
class Resetting {
public:
    explicit Resetting(Statement& statement) : statement_(statement) {}
    ~Resetting() { statement_.reset(); }
    Resetting(const Resetting&) = delete;
    Resetting& operator=(const Resetting&) = delete;
    Resetting(Resetting&&) = delete;
    Resetting& operator=(Resetting&&) = delete;
    Statement* operator->() { return &statement_; }

private:
    Statement& statement_;
};

void exec(sqlite3* db, const char* sql)
{
    char* error = nullptr;
    if (const int rc = sqlite3_exec(db, sql, nullptr, nullptr, &error); rc != SQLITE_OK) {
        const std::string message = error != nullptr ? error : sqlite3_errmsg(db);
        sqlite3_free(error);
        fail(rc, message);
    }
}

}  // namespace

/// The connection, its statements and its batches: each batch of work on the store's thread is one
/// transaction (BEGIN IMMEDIATE when it writes), so concurrent writes share one commit and one fsync.
struct SqliteStore::Db final : BatchScope {
    Db(const std::string& path, int busy_timeout_ms)
    {
        const auto parent = std::filesystem::path(path).parent_path();
        std::error_code ec;
        if (!parent.empty()) {
            std::filesystem::create_directories(parent, ec);
        }
        if (sqlite3_open_v2(path.c_str(), &handle, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                            nullptr) != SQLITE_OK) {
            const std::string message = handle != nullptr ? sqlite3_errmsg(handle) : "out of memory";
            sqlite3_close(handle);
            throw StoreError("sqlite: cannot open '" + path + "': " + message);
        }
        try {
            sqlite3_busy_timeout(handle, busy_timeout_ms);
            exec(handle, "PRAGMA journal_mode=WAL");
            exec(handle, "PRAGMA synchronous=FULL");
            exec(handle, "BEGIN IMMEDIATE");
            int version = 0;
            {
                Statement query(handle, "PRAGMA user_version");
                if (query.step()) {
                    version = static_cast<int>(query.integer(0));
                }
            }
            if (version == 0) {
                exec(handle, create_table);
            } else if (version == 1) {
                migrate_from_1(handle);
            } else if (version != schema_version) {
                exec(handle, "ROLLBACK");
                throw StoreError("sqlite: '" + path + "' has schema version " + std::to_string(version) +
                                 "; this build reads version " + std::to_string(schema_version));
            }
            if (version != schema_version) {
                exec(handle, ("PRAGMA user_version=" + std::to_string(schema_version)).c_str());
            }
            exec(handle, "COMMIT");
            insert = std::make_unique<Statement>(handle, "INSERT INTO entries (id, etag, json) VALUES (?1, ?2, ?3)");
            select = std::make_unique<Statement>(handle, "SELECT json, etag FROM entries WHERE id = ?1");
            update = std::make_unique<Statement>(handle, "UPDATE entries SET etag = ?2, json = ?3 WHERE id = ?1");
            erase = std::make_unique<Statement>(handle, "DELETE FROM entries WHERE id = ?1");
            all = std::make_unique<Statement>(handle, "SELECT id, json, etag FROM entries ORDER BY id");
            count = std::make_unique<Statement>(handle, "SELECT count(*) FROM entries");
            // Conditional writes compare in the statement that writes: one atomic step, across processes.
            insert_new = std::make_unique<Statement>(
                handle, "INSERT INTO entries (id, etag, json) VALUES (?1, ?2, ?3) ON CONFLICT (id) DO NOTHING");
            update_if = std::make_unique<Statement>(
                handle, "UPDATE entries SET etag = ?3, json = ?4 WHERE id = ?1 AND etag = ?2");
            erase_if = std::make_unique<Statement>(handle, "DELETE FROM entries WHERE id = ?1 AND etag = ?2");
            etag_of = std::make_unique<Statement>(handle, "SELECT etag, json FROM entries WHERE id = ?1");
            // A walk of the primary key from a given id: a page reads its own rows only.
            page = std::make_unique<Statement>(handle,
                                               "SELECT id, json, etag FROM entries WHERE id > ?1 ORDER BY id LIMIT ?2");
        } catch (const StoreError& e) {
            close();
            // Name the file, as a failure to open it does ("file is not a database" names nothing).
            const std::string what = e.what();
            if (what.find("'" + path + "'") != std::string::npos) {
                throw;
            }
            const std::string prefix = "sqlite: ";
            throw StoreError("sqlite: cannot open '" + path +
                             "': " + (what.starts_with(prefix) ? what.substr(prefix.size()) : what));
        } catch (...) {
            close();
            throw;
        }
    }

    ~Db() override { close(); }
    Db(const Db&) = delete;
    Db& operator=(const Db&) = delete;
    Db(Db&&) = delete;
    Db& operator=(Db&&) = delete;

    void close() noexcept
    {
        insert.reset();
        select.reset();
        update.reset();
        erase.reset();
        all.reset();
        count.reset();
        insert_new.reset();
        update_if.reset();
        erase_if.reset();
        etag_of.reset();
        page.reset();
        sqlite3_close(handle);
        handle = nullptr;
    }

    [[nodiscard]] std::size_t changes() const { return static_cast<std::size_t>(sqlite3_changes(handle)); }

    void begin(bool writes) override { exec(handle, writes ? "BEGIN IMMEDIATE" : "BEGIN"); }
    void commit() override { exec(handle, "COMMIT"); }
    // A failed statement leaves the transaction open unless SQLite had to roll it back (I/O errors, a
    // full disk, a lost lock): then the batch is over.
    [[nodiscard]] bool intact() override { return sqlite3_get_autocommit(handle) == 0; }
    void rollback() noexcept override
    {
        if (sqlite3_get_autocommit(handle) == 0) {
            sqlite3_exec(handle, "ROLLBACK", nullptr, nullptr, nullptr);
        }
        try {
            *entry_count = count_rows();  // the batch's creates and removes did not happen
        } catch (const StoreError&) {
            // Left as it was: a count is not worth a second failure.
        }
    }

    /// Version 1 kept no ETag and had a rowid; entries are copied into the version 2 table as they are.
    static void migrate_from_1(sqlite3* handle)
    {
        exec(handle, "ALTER TABLE entries RENAME TO entries_v1");
        exec(handle, create_table);
        Statement rows(handle, "SELECT id, json FROM entries_v1");
        Statement copy(handle, "INSERT INTO entries (id, etag, json) VALUES (?1, ?2, ?3)");
        while (rows.step()) {
            const auto json = rows.text(1);
            copy.bind(1, rows.text(0)).bind(2, make_etag(json)).bind(3, json).step();
            copy.reset();
        }
        rows.reset();
        exec(handle, "DROP TABLE entries_v1");
    }

    static constexpr const char* create_table =
        "CREATE TABLE entries (id TEXT PRIMARY KEY, etag TEXT NOT NULL, json TEXT NOT NULL) WITHOUT ROWID";

    [[nodiscard]] std::size_t count_rows() const
    {
        Resetting query(*count);
        return query->step() ? static_cast<std::size_t>(query->integer(0)) : 0;
    }

    sqlite3* handle = nullptr;
    std::atomic<std::size_t>* entry_count = nullptr;  // the store's entry count, kept right after a rollback
    std::unique_ptr<Statement> insert;
    std::unique_ptr<Statement> select;
    std::unique_ptr<Statement> update;
    std::unique_ptr<Statement> erase;
    std::unique_ptr<Statement> all;
    std::unique_ptr<Statement> count;
    std::unique_ptr<Statement> insert_new;
    std::unique_ptr<Statement> update_if;
    std::unique_ptr<Statement> erase_if;
    std::unique_ptr<Statement> etag_of;
    std::unique_ptr<Statement> page;
};

SqliteStore::SqliteStore(std::string path, int busy_timeout_ms)
    : path_(std::move(path)),
      db_(std::make_unique<Db>(path_, busy_timeout_ms)),
      thread_(std::make_unique<StoreThread>(db_.get())),
      count_(db_->count_rows())
{
    db_->entry_count = &count_;
}

SqliteStore::~SqliteStore() = default;

// The blocking work, run on the store's thread.

void SqliteStore::create_now(const std::string& id, const EntryPtr& entry)
{
    Resetting insert(*db_->insert);
    insert->bind(1, id).bind(2, entry->etag).bind(3, entry->json).step();
    ++count_;
}

EntryPtr SqliteStore::read_now(const std::string& id) const
{
    Resetting select(*db_->select);
    if (!select->bind(1, id).step()) {
        return nullptr;
    }
    return checked_row("sqlite", id, select->text(0), select->text(1));
}

bool SqliteStore::replace_now(const std::string& id, const EntryPtr& entry) const
{
    Resetting update(*db_->update);
    update->bind(1, id).bind(2, entry->etag).bind(3, entry->json).step();
    return db_->changes() > 0;
}

bool SqliteStore::remove_now(const std::string& id)
{
    Resetting erase(*db_->erase);
    erase->bind(1, id).step();
    const bool done = db_->changes() > 0;
    if (done) {
        --count_;
    }
    return done;
}

std::vector<std::pair<std::string, EntryPtr>> SqliteStore::list_now()
{
    std::vector<std::pair<std::string, EntryPtr>> found;
    Resetting all(*db_->all);
    while (all->step()) {
        auto id = all->text(0);
        auto entry = checked_row("sqlite", id, all->text(1), all->text(2));
        found.emplace_back(std::move(id), std::move(entry));
    }
    count_ = found.size();  // other processes may share the file
    return found;
}

WriteResult SqliteStore::refused(const std::string& id) const
{
    // The write matched no row: say why, from the row as it is now.
    Resetting etag_of(*db_->etag_of);
    if (!etag_of->bind(1, id).step()) {
        return WriteResult{WriteStatus::not_found, {}};
    }
    // Its ETag goes out in the 412's header: only that of a row that is an entry.
    return WriteResult{WriteStatus::precondition_failed,
                       checked_row("sqlite", id, etag_of->text(1), etag_of->text(0))->etag};
}

WriteResult SqliteStore::replace_if_now(const std::string& id, const std::string& expected_etag,
                                        const EntryPtr& entry) const
{
    {
        Resetting update(*db_->update_if);
        update->bind(1, id).bind(2, expected_etag).bind(3, entry->etag).bind(4, entry->json).step();
    }
    return db_->changes() > 0 ? WriteResult{} : refused(id);
}

WriteResult SqliteStore::remove_if_now(const std::string& id, const std::string& expected_etag)
{
    {
        Resetting erase(*db_->erase_if);
        erase->bind(1, id).bind(2, expected_etag).step();
    }
    if (db_->changes() == 0) {
        return refused(id);
    }
    --count_;
    return WriteResult{};
}

WriteResult SqliteStore::create_if_absent_now(const std::string& id, const EntryPtr& entry)
{
    {
        Resetting insert(*db_->insert_new);
        insert->bind(1, id).bind(2, entry->etag).bind(3, entry->json).step();
    }
    if (db_->changes() == 0) {
        return refused(id);
    }
    ++count_;
    return WriteResult{};
}

EntryPage SqliteStore::range_now(const std::string& after, std::size_t limit) const
{
    EntryPage found;
    Resetting page(*db_->page);
    page->bind(1, after).bind(2, static_cast<std::int64_t>(std::min<std::size_t>(limit, INT64_MAX)));
    while (page->step()) {
        auto id = page->text(0);
        auto entry = checked_row("sqlite", id, page->text(1), page->text(2));
        found.emplace_back(std::move(id), std::move(entry));
    }
    return found;
}

bool SqliteStore::ready_now()
{
    try {
        count_ = db_->count_rows();
        return true;
    } catch (const StoreError&) {
        return false;
    }
}

template class ThreadedStore<SqliteStore>;

}  // namespace addrservice
