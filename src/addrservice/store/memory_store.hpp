#pragma once

#include "addrservice/store/store.hpp"

#include <unordered_map>

namespace addrservice {

/// Entries in process memory, lost at exit. Never blocks, so it works directly on the caller's thread.
class MemoryStore final : public AddressStore {
public:
    Task<void> create(std::string id, EntryPtr entry) override;
    Task<EntryPtr> read(std::string id) override;
    Task<bool> replace(std::string id, EntryPtr entry) override;
    Task<bool> remove(std::string id) override;
    Task<std::vector<std::pair<std::string, EntryPtr>>> list() override;
    Task<bool> ready() override;
    [[nodiscard]] std::size_t size() const noexcept override { return entries_.size(); }
    [[nodiscard]] std::optional<std::uint64_t> version() const noexcept override { return version_; }
    [[nodiscard]] std::string describe() const override { return "memory"; }

private:
    // Hashed: a write to a large book is one bucket, not a walk down a tree of ids.
    std::unordered_map<std::string, EntryPtr> entries_;
    std::uint64_t version_ = 0;
};

}  // namespace addrservice
