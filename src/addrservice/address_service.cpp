#include "addrservice/address_service.hpp"

#include "addrservice/errors.hpp"
#include "addrservice/json_text.hpp"
#include "addrservice/patch.hpp"

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <array>
#include <cstdint>

namespace addrservice {

namespace {

// How often a conditional write follows an entry that another writer changed in between, before it
// gives up: a PATCH then answers 409, a write with If-Match 412.
constexpr int max_write_attempts = 32;

/// Appends "id":entry for each entry to text, comma-separated (first says whether text has none yet).
void append_entries(std::string& text, const EntryPage& entries, bool& first)
{
    std::size_t size = text.size();
    for (const auto& [id, entry] : entries) {
        size += id.size() + entry->json.size() + 4;
    }
    text.reserve(size);
    for (const auto& [id, entry] : entries) {
        if (!first) {
            text += ',';
        }
        first = false;
        text += '"';
        text += id;  // ids are [a-zA-Z0-9-]+: nothing to escape
        text += "\":";
        text += entry->json;
    }
}

/// The JSON object {id: entry, ...} of a list too long to hold whole, read a page at a time as it is
/// sent: "{" and the first page, each following page, then "}". A page starts after the last id of the
/// one before, so an entry that exists throughout is sent exactly once, whatever is written meanwhile.
class ListStream final : public BodyStream {
public:
    ListStream(std::shared_ptr<AddressStore> store, EntryPage first_page, std::size_t page_size)
        : store_(std::move(store)), first_page_(std::move(first_page)), page_size_(page_size)
    {
    }

    Task<std::string> next() override
    {
        std::string text;
        if (done_) {
            co_return text;
        }
        if (!started_) {
            started_ = true;
            text += '{';
            append_entries(text, first_page_, first_);
            after_ = first_page_.back().first;
            first_page_ = EntryPage{};
            co_return text;
        }
        const auto page = co_await store_->range(after_, page_size_);
        if (page.empty()) {
            done_ = true;
            text += '}';
            co_return text;
        }
        append_entries(text, page, first_);
        after_ = page.back().first;
        co_return text;
    }

private:
    std::shared_ptr<AddressStore> store_;
    EntryPage first_page_;  // read to decide that the list is long; sent first
    std::size_t page_size_;
    std::string after_;
    bool started_ = false;
    bool first_ = true;
    bool done_ = false;
};

/// The JSON object {id: entry, ...} of entries and its ETag. The ETag is a hash folded over the ids and
/// the entries' own ETags (which the store keeps), not over the text, and the text's length; a page that
/// more entries follow folds in a mark too, so that it differs from the same entries as a whole list.
EntryPtr list_body(const EntryPage& entries, bool more)
{
    std::string text = "{";
    bool first = true;
    append_entries(text, entries, first);
    text += '}';
    std::uint64_t hash = etag_seed;
    for (const auto& [id, entry] : entries) {
        hash = etag_hash(entry->etag, etag_hash(id, hash));
    }
    if (more) {
        hash = etag_hash("next", hash);
    }
    auto etag = format_etag(hash, text.size());
    return std::make_shared<const StoredEntry>(StoredEntry{std::move(text), std::move(etag)});
}

bool contains(const std::vector<std::string>& etags, const std::string& etag)
{
    return std::find(etags.begin(), etags.end(), etag) != etags.end();
}

}  // namespace

AddressService::AddressService(std::shared_ptr<AddressStore> store, ServiceOptions options)
    : store_(std::move(store)), options_(options)
{
}

std::string AddressService::normalise(std::string_view body) const
{
    // The parsed body lives in one arena, on the stack while it fits, freed at once on return.
    std::array<unsigned char, 16384> arena_buffer;  // NOLINT(cppcoreguidelines-pro-type-member-init)
    boost::json::monotonic_resource arena(arena_buffer.data(), arena_buffer.size());
    const auto document = parse_json_body(body, &arena);
    if (auto violations = validator_.validate(document); !violations.empty()) {
        throw SchemaValidationError(std::move(violations));
    }
    // The schema allows no property it does not name, so the valid document is the entry: it is stored
    // as its canonical text, with no typed copy in between.
    return canonical_json(document, body.size());
}

Task<std::string> AddressService::create(std::string body)
{
    auto entry = make_stored_entry(normalise(body));
    auto id = ids_.next();
    co_await store_->create(id, std::move(entry));
    co_return id;
}

Task<EntryPtr> AddressService::get(std::string id)
{
    if (!is_valid_id(id)) {
        throw NotFoundError(id);
    }
    auto entry = co_await store_->read(id);
    if (!entry) {
        throw NotFoundError(id);
    }
    co_return entry;
}

Task<PutResult> AddressService::update(std::string id, std::string body, Precondition precondition)
{
    auto entry = make_stored_entry(normalise(body));
    if (!is_valid_id(id)) {
        throw NotFoundError(id);
    }
    PutResult result{entry->etag, false};
    if (precondition.if_none_match_any) {
        if (precondition.if_match || precondition.if_match_any) {
            // Asks for an entry that both exists with some ETag and does not exist: never written.
            const auto etag = co_await current_etag(std::move(id));
            throw PreconditionFailedError(etag);
        }
        const auto created = co_await store_->create_if_absent(id, std::move(entry));
        if (created.status == WriteStatus::not_found) {
            throw NotFoundError(id);
        }
        if (created.status != WriteStatus::done) {
            throw PreconditionFailedError(created.current_etag);
        }
        result.created = true;
    } else if (precondition.if_match) {
        co_await write_if_matching(std::move(id), std::move(*precondition.if_match), std::move(entry));
    } else {
        // co_await only as a whole statement: g++ 12 miscompiles it inside || and ! expressions.
        const bool replaced = co_await store_->replace(id, std::move(entry));
        if (!replaced) {
            throw NotFoundError(id);
        }
    }
    co_return result;
}

Change AddressService::patching(const Patch& changes, const Precondition& precondition) const
{
    return [this, &changes, &precondition](const EntryPtr& current) -> EntryPtr {
        if (precondition.if_match && !contains(*precondition.if_match, current->etag)) {
            throw PreconditionFailedError(current->etag);
        }
        auto entry = make_stored_entry(normalise(changes.apply(current->json, options_.max_entry_bytes)));
        if (entry->json == current->json) {
            return nullptr;  // nothing changes: nothing to write
        }
        return entry;
    };
}

Task<std::string> AddressService::patch(std::string id, PatchFormat format, std::string patch,
                                        Precondition precondition)
{
    const Patch changes(format, patch);  // a body that is no patch is refused before lookup, as for PUT
    if (!is_valid_id(id)) {
        throw NotFoundError(id);
    }
    if (precondition.if_none_match_any) {
        const auto etag = co_await current_etag(std::move(id));
        throw PreconditionFailedError(etag);
    }
    // Stored only if nobody wrote since it was read; otherwise the store patches the entry as it is then.
    const auto result = co_await store_->modify(id, patching(changes, precondition));
    if (result.status == WriteStatus::not_found) {
        throw NotFoundError(id);
    }
    if (result.status == WriteStatus::precondition_failed) {
        throw PatchConflictError("the entry kept changing while it was patched");
    }
    co_return result.entry->etag;
}

Task<void> AddressService::remove(std::string id, Precondition precondition)
{
    if (!is_valid_id(id)) {
        throw NotFoundError(id);
    }
    if (precondition.if_none_match_any) {
        const auto etag = co_await current_etag(std::move(id));
        throw PreconditionFailedError(etag);
    }
    if (precondition.if_match) {
        co_await write_if_matching(std::move(id), std::move(*precondition.if_match), nullptr);
        co_return;
    }
    const bool removed = co_await store_->remove(id);
    if (!removed) {
        throw NotFoundError(id);
    }
}

Task<void> AddressService::write_if_matching(std::string id, std::vector<std::string> etags, EntryPtr entry)
{
    if (etags.empty()) {
        const auto etag = co_await current_etag(std::move(id));
        throw PreconditionFailedError(etag);
    }
    // Compare-and-set with a listed ETag; when the entry has another one that is listed too (it changed
    // in between, or the list names several), again with that one.
    std::string expected = etags.front();
    for (int attempt = 0; attempt < max_write_attempts; ++attempt) {
        WriteResult result;
        if (entry) {
            result = co_await store_->replace_if(id, expected, entry);
        } else {
            result = co_await store_->remove_if(id, expected);
        }
        if (result.status == WriteStatus::done) {
            co_return;
        }
        if (result.status == WriteStatus::not_found) {
            throw NotFoundError(id);
        }
        if (!contains(etags, result.current_etag)) {
            throw PreconditionFailedError(result.current_etag);
        }
        expected = std::move(result.current_etag);
    }
    throw PreconditionFailedError(expected);
}

Task<std::string> AddressService::current_etag(std::string id)
{
    const auto current = co_await store_->read(id);
    if (!current) {
        throw NotFoundError(id);
    }
    co_return current->etag;
}

Task<ListResult> AddressService::list(ListQuery query)
{
    ListResult result;
    if (query.limit) {
        // One entry more than asked for says whether another page follows.
        auto page = co_await store_->range(std::move(query.after), *query.limit + 1);
        const bool more = page.size() > *query.limit;
        if (more) {
            page.pop_back();
            result.next_after = page.back().first;
        }
        result.body = list_body(page, more);
        co_return result;
    }
    // Read before the entries: a write while they are fetched leaves the cache behind, never ahead.
    const auto version = store_->version();
    const bool whole_book = query.after.empty();
    if (whole_book && version && list_cache_ && *version == list_cache_version_) {
        result.body = list_cache_;
        co_return result;
    }
    // One page more than max_page says whether the list is short enough to hold whole (with an ETag).
    const auto page_size = options_.max_page;
    auto entries = co_await store_->range(std::move(query.after), page_size + 1);
    if (entries.size() > page_size) {
        entries.pop_back();
        result.stream = std::make_shared<ListStream>(store_, std::move(entries), page_size);
        co_return result;
    }
    result.body = list_body(entries, false);
    if (whole_book && version) {
        list_cache_ = result.body;
        list_cache_version_ = *version;
    }
    co_return result;
}

Task<bool> AddressService::ready()
{
    const bool ready = co_await store_->ready();
    co_return ready;
}

}  // namespace addrservice
