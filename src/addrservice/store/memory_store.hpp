#pragma once

#include "addrservice/store/store.hpp"

#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <type_traits>
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
    Task<WriteResult> replace_if(std::string id, std::string expected_etag, EntryPtr entry) override;
    Task<WriteResult> remove_if(std::string id, std::string expected_etag) override;
    Task<WriteResult> create_if_absent(std::string id, EntryPtr entry) override;
    Task<EntryPage> range(std::string after, std::size_t limit) override;
    Task<bool> ready() override;
    [[nodiscard]] std::size_t size() const noexcept override { return entries_.size(); }
    [[nodiscard]] std::optional<std::uint64_t> version() const noexcept override { return version_; }
    [[nodiscard]] std::string describe() const override { return "memory"; }

private:
    /// Hashes ids by their characters, so that a view of an id finds its entry without a copy.
    struct IdHash {
        using is_transparent = void;
        // Not noexcept, on purpose: libstdc++ keeps each node's hash in the node only for a hash that may
        // throw (or is slow). Without it, a lookup in a large book rehashed every id it walked past and
        // compared keys it could have told apart by their hashes: a POST to a book of 700,000 entries
        // spent a tenth of its time there (perf).
        std::size_t operator()(std::string_view id) const { return std::hash<std::string_view>{}(id); }
    };
    static_assert(!std::is_nothrow_invocable_v<const IdHash&, const std::string&>,
                  "a noexcept IdHash would make libstdc++ stop keeping each id's hash in its node");
    using Entries = std::unordered_map<std::string, EntryPtr, IdHash, std::equal_to<>>;

    void add(std::string id, EntryPtr entry);
    void erase(Entries::iterator it);
    [[nodiscard]] EntryPage collect(std::set<std::string_view>::const_iterator from, std::size_t limit) const;

    // Hashed: a write to a large book is one bucket, not a walk down a tree of ids.
    Entries entries_;
    // The same ids in order, for pages: views of the map's keys, which stay where they are until erased.
    // Only creates and removes touch it; a replace, the commonest write, does not.
    std::set<std::string_view> order_;
    std::uint64_t version_ = 0;
};

}  // namespace addrservice
