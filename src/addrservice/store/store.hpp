#pragma once

#include "addrservice/store/turns.hpp"
#include "addrservice/task.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace addrservice {

/// The store cannot be reached or failed; a server fault.
class StoreError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// The store cannot be reached now (the database is down or did not answer in time); worth retrying
/// later, and the store keeps trying to reconnect by itself.
class StoreUnavailableError : public StoreError {
public:
    using StoreError::StoreError;
};

/// A store named by the configuration cannot be opened (a start-up error, not a runtime fault).
class StoreOpenError : public StoreError {
public:
    using StoreError::StoreError;
};

/// A stored entry in the form that serves reads cheapest: its JSON text and the ETag of that text,
/// both computed once per write.
struct StoredEntry {
    std::string json;
    std::string etag;
};

using EntryPtr = std::shared_ptr<const StoredEntry>;

/// A strong ETag (quoted) for a representation's bytes: their 64-bit XXH3 hash and their length.
std::string make_etag(std::string_view bytes);

/// A hash to fold over several short pieces (FNV-1a, 64 bits), as a page's ETag is; seed with etag_seed.
inline constexpr std::uint64_t etag_seed = 14695981039346656037ULL;
std::uint64_t etag_hash(std::string_view bytes, std::uint64_t hash = etag_seed) noexcept;
/// A strong ETag from a hash and the length of the representation it covers.
std::string format_etag(std::uint64_t hash, std::size_t length);

/// Builds a StoredEntry from JSON text, computing its ETag.
EntryPtr make_stored_entry(std::string json_text);

/// StoredEntries from (id, JSON text) rows, as a store's list() returns them.
std::vector<std::pair<std::string, EntryPtr>> make_stored_entries(
    std::vector<std::pair<std::string, std::string>>&& rows);

/// True when id could name an entry: one or more of [a-zA-Z0-9-].
bool is_valid_id(std::string_view id) noexcept;

/// True when text is one JSON object: what every stored entry is. A store whose files or rows can be
/// edited by hand checks what it reads, so that nothing else is ever served as an entry.
bool is_json_object(std::string_view text);

/// A row a store read back (id, text, ETag) as an entry. A row edited by hand into something that is no
/// entry (an id outside [a-zA-Z0-9-], text that is not a JSON object) is a StoreError naming the store and
/// the id, never served (and never skipped, which would cut a page short while entries still follow).
EntryPtr checked_row(std::string_view store, const std::string& id, std::string json, std::string etag);

/// Throws StoreError unless id is one or more of [a-zA-Z0-9-]: a store never names anything (a file, a
/// row) after an id it has not checked.
void require_valid_id(std::string_view id);

/// What a conditional write did. Whatever it says but done, nothing changed.
enum class WriteStatus {
    done,                 // the write happened
    not_found,            // no entry has this id
    precondition_failed,  // the entry's ETag is not the expected one, or (create_if_absent) the id is taken
};

/// The outcome of a conditional write.
struct WriteResult {
    WriteStatus status = WriteStatus::done;
    std::string current_etag;  // precondition_failed: the ETag of the entry as it is stored
};

/// What modify() makes of an entry, from the entry as it is stored: what to store instead, or null to
/// leave it as it is. It may throw to refuse the change (the exception leaves modify() as it is). It runs
/// again, on the entry as it is then, whenever another writer changed the entry after it was read.
using Change = std::function<EntryPtr(EntryPtr current)>;

/// The outcome of modify().
struct ModifyResult {
    WriteStatus status = WriteStatus::done;  // precondition_failed: the entry kept changing under it
    EntryPtr entry;                          // done: the entry as it is now stored (unchanged, when Change said so)
};

/// How often modify() reads and tries again before it gives up on an entry that keeps changing.
inline constexpr int max_modify_attempts = 32;

/// A page of entries, ordered by id.
using EntryPage = std::vector<std::pair<std::string, EntryPtr>>;

/// Throws StoreError unless after is empty or a valid id: where a range() starts.
void require_valid_after(std::string_view after);

/// Where entries live. Every operation is a coroutine; a store whose work blocks (files, databases)
/// does it on its own thread and resumes the caller when done. Every operation refuses a malformed id.
class AddressStore {
public:
    virtual ~AddressStore() = default;
    AddressStore() = default;
    AddressStore(const AddressStore&) = delete;
    AddressStore& operator=(const AddressStore&) = delete;
    AddressStore(AddressStore&&) = delete;
    AddressStore& operator=(AddressStore&&) = delete;

    /// Adds an entry under a new id.
    virtual Task<void> create(std::string id, EntryPtr entry) = 0;
    /// The entry with this id, or null.
    virtual Task<EntryPtr> read(std::string id) = 0;
    /// Replaces an existing entry; false when there is none with this id.
    virtual Task<bool> replace(std::string id, EntryPtr entry) = 0;
    /// Removes an entry; false when there is none with this id.
    virtual Task<bool> remove(std::string id) = 0;
    /// Every entry, ordered by id. (The service lists through range(), a page at a time.)
    virtual Task<std::vector<std::pair<std::string, EntryPtr>>> list() = 0;

    // Conditional writes. In each, the comparison and the write are one atomic step: no other writer,
    // in this process or in any other process sharing the store, changes the entry in between, so of
    // several writers holding the same ETag exactly one succeeds. ETags are compared as strings, exactly
    // (the StoredEntry::etag of what is stored). A malformed id is a StoreError, as everywhere. A write
    // that happens changes version(), as any write does. In SQL: the comparison goes in the statement
    // that writes (UPDATE ... WHERE id = ? AND etag = ?; INSERT ... ON CONFLICT (id) DO NOTHING), and
    // when it changes no row, the entry's ETag is read to tell not_found from precondition_failed.

    /// Replaces the entry only while its ETag is expected_etag: done; not_found when no entry has this
    /// id; precondition_failed with the current ETag when its ETag is another.
    virtual Task<WriteResult> replace_if(std::string id, std::string expected_etag, EntryPtr entry) = 0;
    /// Removes the entry only while its ETag is expected_etag; results as replace_if.
    virtual Task<WriteResult> remove_if(std::string id, std::string expected_etag) = 0;
    /// Adds an entry under an id the caller chose, unless an entry has it: done, or
    /// precondition_failed with the existing entry's ETag (that entry is left as it is); not_found only
    /// for an id this store cannot hold (too long a file name for the fs store).
    virtual Task<WriteResult> create_if_absent(std::string id, EntryPtr entry) = 0;
    /// A read, then the Change of what was read stored with replace_if() on the ETag that was read; when
    /// another writer came in between, all of it again, at most max_modify_attempts times
    /// (precondition_failed after that); not_found when no entry has this id. The modifies of one entry
    /// take turns (modify_turns_), in the order they came. A store that waits on another machine
    /// overrides it so that the whole of it, its wait for its turn and every attempt, waits at most one
    /// request's timeout.
    virtual Task<ModifyResult> modify(std::string id, Change change);

    /// At most limit entries whose ids sort after `after` (bytewise, as memcmp and SQLite's BINARY
    /// collation order them; after need not exist; empty means from the first id), ordered by id. The
    /// store finds them by an ordered index and reads only those it returns, so paging through a book
    /// costs in proportion to the pages, not to the book (a store that cannot, says what it costs). An
    /// entry that exists throughout a walk of pages, each starting after the last id of the one
    /// before, is returned exactly once. An `after` that is not empty and not a valid id is a StoreError.
    /// The service asks for at most limits.max_page + 1 entries at a time. In SQL: WHERE id > ? ORDER BY
    /// id LIMIT ? over the primary key, with a bytewise collation (PostgreSQL: COLLATE "C", on the column
    /// or in the query with an index to match; a locale's collation orders ids otherwise, and two
    /// instances must page alike).
    virtual Task<EntryPage> range(std::string after, std::size_t limit) = 0;

    /// True when the store can serve requests (a cheap check).
    virtual Task<bool> ready() = 0;
    /// The number of entries, kept cheaply.
    [[nodiscard]] virtual std::size_t size() const noexcept = 0;
    /// A number that changes whenever an entry is written, when the store can tell (every write goes
    /// through this object); nullopt when others may write too (a file shared by processes).
    [[nodiscard]] virtual std::optional<std::uint64_t> version() const noexcept { return std::nullopt; }
    /// How the store is named in logs, e.g. "memory" or "sqlite:./var/addressbook.db".
    [[nodiscard]] virtual std::string describe() const = 0;

protected:
    /// Whose turn it is to modify() each entry.
    Turns modify_turns_;
};

}  // namespace addrservice
