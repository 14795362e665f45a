#include "addrservice/address_service.hpp"

#include "addrservice/errors.hpp"
#include "addrservice/hex.hpp"
#include "addrservice/json_text.hpp"

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/value.hpp>

#include <boost/uuid/uuid.hpp>

#include <algorithm>
#include <array>
#include <cstdint>

namespace addrservice {

AddressService::AddressService(std::shared_ptr<AddressStore> store) : store_(std::move(store)) {}

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
    return canonical_json(document);
}

std::string AddressService::new_id()
{
    const boost::uuids::uuid uuid = uuid_generator_();
    std::string id;
    id.reserve(32);
    for (const auto byte : uuid) {
        id += hex_digit(byte >> 4U);
        id += hex_digit(byte);
    }
    return id;
}

Task<std::string> AddressService::create(std::string body)
{
    auto entry = make_stored_entry(normalise(body));
    auto id = new_id();
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

Task<void> AddressService::update(std::string id, std::string body)
{
    auto entry = make_stored_entry(normalise(body));
    if (!is_valid_id(id)) {
        throw NotFoundError(id);
    }
    // co_await only as a whole statement: g++ 12 miscompiles it inside || and ! expressions.
    const bool replaced = co_await store_->replace(id, std::move(entry));
    if (!replaced) {
        throw NotFoundError(id);
    }
}

Task<void> AddressService::remove(std::string id)
{
    if (!is_valid_id(id)) {
        throw NotFoundError(id);
    }
    const bool removed = co_await store_->remove(id);
    if (!removed) {
        throw NotFoundError(id);
    }
}

Task<EntryPtr> AddressService::list()
{
    // Read before the entries: a write while they are fetched leaves the cache behind, never ahead.
    const auto version = store_->version();
    if (version && list_cache_ && *version == list_cache_version_) {
        co_return list_cache_;
    }
    const auto entries = co_await store_->list();
    std::size_t size = 2;
    for (const auto& [id, entry] : entries) {
        size += id.size() + entry->json.size() + 4;
    }
    std::string text;
    text.reserve(size);
    text += '{';
    std::uint64_t hash = etag_seed;
    for (const auto& [id, entry] : entries) {
        if (text.size() > 1) {
            text += ',';
        }
        text += '"';
        text += id;  // ids are [a-zA-Z0-9-]+: nothing to escape
        text += "\":";
        text += entry->json;
        hash = etag_hash(entry->etag, etag_hash(id, hash));
    }
    text += '}';
    auto etag = format_etag(hash, text.size());
    auto list = std::make_shared<const StoredEntry>(StoredEntry{std::move(text), std::move(etag)});
    if (version) {
        list_cache_ = list;
        list_cache_version_ = *version;
    }
    co_return list;
}

Task<bool> AddressService::ready()
{
    const bool ready = co_await store_->ready();
    co_return ready;
}

}  // namespace addrservice
