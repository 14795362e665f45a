#pragma once

// Stores for tests that need a store to fail, wait or record: each overrides only what it changes.
#include "addrservice/errors.hpp"
#include "addrservice/store/memory_store.hpp"
#include "addrservice/store/store.hpp"

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace addrservice::testing {

/// A store that holds nothing: a write is refused as of an unknown id, a read finds nothing.
class EmptyStore : public AddressStore {
public:
    Task<void> create(std::string /*id*/, EntryPtr /*entry*/) override { co_return; }
    Task<EntryPtr> read(std::string /*id*/) override { co_return nullptr; }
    Task<bool> replace(std::string /*id*/, EntryPtr /*entry*/) override { co_return false; }
    Task<bool> remove(std::string /*id*/) override { co_return false; }
    Task<std::vector<std::pair<std::string, EntryPtr>>> list() override
    {
        co_return std::vector<std::pair<std::string, EntryPtr>>{};
    }
    Task<WriteResult> replace_if(std::string /*id*/, std::string /*expected_etag*/, EntryPtr /*entry*/) override
    {
        co_return WriteResult{WriteStatus::not_found, {}};
    }
    Task<WriteResult> remove_if(std::string /*id*/, std::string /*expected_etag*/) override
    {
        co_return WriteResult{WriteStatus::not_found, {}};
    }
    Task<WriteResult> create_if_absent(std::string /*id*/, EntryPtr /*entry*/) override { co_return WriteResult{}; }
    Task<EntryPage> range(std::string /*after*/, std::size_t /*limit*/) override { co_return EntryPage{}; }
    Task<bool> ready() override { co_return true; }
    [[nodiscard]] std::size_t size() const noexcept override { return 0; }
    [[nodiscard]] std::string describe() const override { return "empty"; }
};

/// A store over a MemoryStore, to which it hands every operation.
class ForwardingStore : public AddressStore {
public:
    Task<void> create(std::string id, EntryPtr entry) override
    {
        return inner_.create(std::move(id), std::move(entry));
    }
    Task<EntryPtr> read(std::string id) override { return inner_.read(std::move(id)); }
    Task<bool> replace(std::string id, EntryPtr entry) override
    {
        return inner_.replace(std::move(id), std::move(entry));
    }
    Task<bool> remove(std::string id) override { return inner_.remove(std::move(id)); }
    Task<std::vector<std::pair<std::string, EntryPtr>>> list() override { return inner_.list(); }
    Task<WriteResult> replace_if(std::string id, std::string expected_etag, EntryPtr entry) override
    {
        return inner_.replace_if(std::move(id), std::move(expected_etag), std::move(entry));
    }
    Task<WriteResult> remove_if(std::string id, std::string expected_etag) override
    {
        return inner_.remove_if(std::move(id), std::move(expected_etag));
    }
    Task<WriteResult> create_if_absent(std::string id, EntryPtr entry) override
    {
        return inner_.create_if_absent(std::move(id), std::move(entry));
    }
    Task<EntryPage> range(std::string after, std::size_t limit) override
    {
        return inner_.range(std::move(after), limit);
    }
    Task<bool> ready() override { return inner_.ready(); }
    [[nodiscard]] std::size_t size() const noexcept override { return inner_.size(); }
    [[nodiscard]] std::string describe() const override { return "forwarding"; }

protected:
    MemoryStore& inner() noexcept { return inner_; }

private:
    MemoryStore inner_;
};

/// A store whose every operation throws Error(message) and that is never ready: StoreError as a broken
/// disk, StoreUnavailableError as an unreachable database.
template <typename Error>
class ThrowingStore final : public AddressStore {
public:
    ThrowingStore(std::string description, std::string message)
        : description_(std::move(description)), message_(std::move(message))
    {
    }

    Task<void> create(std::string /*id*/, EntryPtr /*entry*/) override { throw Error(message_); }
    Task<EntryPtr> read(std::string /*id*/) override { throw Error(message_); }
    Task<bool> replace(std::string /*id*/, EntryPtr /*entry*/) override { throw Error(message_); }
    Task<bool> remove(std::string /*id*/) override { throw Error(message_); }
    Task<std::vector<std::pair<std::string, EntryPtr>>> list() override { throw Error(message_); }
    Task<WriteResult> replace_if(std::string /*id*/, std::string /*expected_etag*/, EntryPtr /*entry*/) override
    {
        throw Error(message_);
    }
    Task<WriteResult> remove_if(std::string /*id*/, std::string /*expected_etag*/) override { throw Error(message_); }
    Task<WriteResult> create_if_absent(std::string /*id*/, EntryPtr /*entry*/) override { throw Error(message_); }
    Task<EntryPage> range(std::string /*after*/, std::size_t /*limit*/) override { throw Error(message_); }
    Task<bool> ready() override { co_return false; }
    [[nodiscard]] std::size_t size() const noexcept override { return 0; }
    [[nodiscard]] std::string describe() const override { return description_; }

private:
    std::string description_;
    std::string message_;
};

}  // namespace addrservice::testing
