#pragma once

#include "addrservice/schema.hpp"
#include "addrservice/store/store.hpp"
#include "addrservice/task.hpp"

#include <boost/uuid/random_generator.hpp>

#include <memory>
#include <string>
#include <string_view>

namespace addrservice {

/// The address book's business logic: parse, validate, normalise and store entries. It speaks plain
/// data and typed errors (errors.hpp) and knows nothing of the transport that calls it.
class AddressService {
public:
    explicit AddressService(std::shared_ptr<AddressStore> store);

    /// Validates a JSON body and stores it under a new id (32 lowercase hex digits), which it returns.
    /// Throws InvalidJsonError or SchemaValidationError.
    Task<std::string> create(std::string body);
    /// The entry with this id. Throws NotFoundError.
    Task<EntryPtr> get(std::string id);
    /// Replaces the entry with this id; validation comes before lookup.
    /// Throws InvalidJsonError, SchemaValidationError or NotFoundError.
    Task<void> update(std::string id, std::string body);
    /// Removes the entry with this id. Throws NotFoundError.
    Task<void> remove(std::string id);
    /// Every entry as one JSON object {id: entry, ...}, with an ETag derived from the entries' own.
    Task<EntryPtr> list();
    /// True when the store can serve requests.
    Task<bool> ready();

    [[nodiscard]] const AddressStore& store() const noexcept { return *store_; }

    /// Parses and validates a body, returning its normalised JSON text.
    [[nodiscard]] std::string normalise(std::string_view body) const;

private:
    std::string new_id();

    std::shared_ptr<AddressStore> store_;
    // The last list made, while the store's version says nothing changed since.
    EntryPtr list_cache_;
    std::uint64_t list_cache_version_ = 0;
    SchemaValidator validator_;
    boost::uuids::random_generator_mt19937 uuid_generator_;
};

}  // namespace addrservice
