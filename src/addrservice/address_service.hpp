#pragma once

#include "addrservice/errors.hpp"
#include "addrservice/id_generator.hpp"
#include "addrservice/patch.hpp"
#include "addrservice/schema.hpp"
#include "addrservice/store/store.hpp"
#include "addrservice/task.hpp"

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace addrservice {

/// What a write asks of the entry as it is stored (If-Match, If-None-Match: *).
struct Precondition {
    /// The write happens only while the entry's ETag is one of these (an empty list matches nothing);
    /// nullopt when the write asks for no particular ETag.
    std::optional<std::vector<std::string>> if_match;
    /// The write happens only while no entry has the id: a PUT creates it there.
    bool if_none_match_any = false;
    /// The write happens only while an entry has the id, whatever its ETag (If-Match: *).
    bool if_match_any = false;
};

struct ServiceOptions {
    std::size_t max_entry_bytes = 1048576;  // the largest entry a PATCH may make (a POST or PUT body's limit)
    std::size_t max_page = 1000;            // the largest page of a list
};

/// What a list asks for: the entries whose ids sort after `after` (every entry when it is empty), at
/// most limit of them, or all of them when limit is nullopt.
struct ListQuery {
    std::string after;
    std::optional<std::size_t> limit;
};

/// A body written in parts, each made when the one before has been sent: what it holds in memory at a
/// time is one part, however long the whole.
class BodyStream {
public:
    BodyStream() = default;
    virtual ~BodyStream() = default;
    BodyStream(const BodyStream&) = delete;
    BodyStream& operator=(const BodyStream&) = delete;
    BodyStream(BodyStream&&) = delete;
    BodyStream& operator=(BodyStream&&) = delete;

    /// The next part of the body; empty once the body is whole.
    virtual Task<std::string> next() = 0;
};

/// A list: the JSON object {id: entry, ...} ordered by id.
struct ListResult {
    /// The whole text with its ETag: a page, or a list of at most max_page entries.
    EntryPtr body;
    /// Otherwise (a longer list) the text in parts, read from the store a page at a time as it is sent.
    std::shared_ptr<BodyStream> stream;
    /// When more entries follow the page: the last id of the page, where the next one starts.
    std::optional<std::string> next_after;
};

/// What a PUT did: the entry's new ETag, and whether it created the entry.
struct PutResult {
    std::string etag;
    bool created = false;
};

/// The address book's business logic: parse, validate, normalise and store entries. It speaks plain
/// data and typed errors (errors.hpp) and knows nothing of the transport that calls it.
class AddressService {
public:
    explicit AddressService(std::shared_ptr<AddressStore> store, ServiceOptions options = {});

    /// Validates a JSON body and stores it under a new id (32 lowercase hex digits), which it returns.
    /// Throws InvalidJsonError or SchemaValidationError.
    Task<std::string> create(std::string body);
    /// The entry with this id. Throws NotFoundError.
    Task<EntryPtr> get(std::string id);
    /// Replaces the entry with this id (with if_none_match_any, creates it there), when the precondition
    /// holds; validation comes before lookup. The check and the write are one atomic step.
    /// Throws InvalidJsonError, SchemaValidationError, NotFoundError or PreconditionFailedError.
    Task<PutResult> update(std::string id, std::string body, Precondition precondition = {});
    /// Applies a patch to the entry with this id when the precondition holds, validates the result as
    /// update does, and stores it unless another write came first (then it patches again, a few times
    /// at most); returns the entry's new ETag. Throws InvalidJsonError (the patch is not JSON),
    /// SchemaValidationError (of the result), NotFoundError, PreconditionFailedError, PatchConflictError
    /// or EntryTooLargeError.
    Task<std::string> patch(std::string id, PatchFormat format, std::string patch, Precondition precondition = {});
    /// Removes the entry with this id when the precondition holds. Throws NotFoundError or
    /// PreconditionFailedError.
    Task<void> remove(std::string id, Precondition precondition = {});
    /// The entries a query asks for as one JSON object {id: entry, ...}. A page, or a list of at most
    /// max_page entries, comes whole with an ETag derived from the entries' own; a longer list comes as
    /// a stream that reads max_page entries at a time from the store as it is sent (and has no ETag).
    Task<ListResult> list(ListQuery query = {});
    /// True when the store can serve requests.
    Task<bool> ready();

    [[nodiscard]] const AddressStore& store() const noexcept { return *store_; }
    [[nodiscard]] const ServiceOptions& options() const noexcept { return options_; }

    /// Parses and validates a body, returning its normalised JSON text.
    [[nodiscard]] std::string normalise(std::string_view body) const;

private:
    Task<void> write_if_matching(std::string id, std::vector<std::string> etags, EntryPtr entry);
    /// The ETag of the entry with this id, for a 412. Throws NotFoundError.
    Task<std::string> current_etag(std::string id);
    /// What a PATCH makes of the entry as it is stored (null: nothing changes), for the store's modify().
    /// It refers to changes and precondition, which must outlive it.
    [[nodiscard]] Change patching(const Patch& changes, const Precondition& precondition) const;

    std::shared_ptr<AddressStore> store_;
    ServiceOptions options_;
    // The last list made, while the store's version says nothing changed since.
    EntryPtr list_cache_;
    std::uint64_t list_cache_version_ = 0;
    SchemaValidator validator_;
    IdGenerator ids_;
};

}  // namespace addrservice
