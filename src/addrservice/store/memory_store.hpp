#pragma once

#include "addrservice/store/store.hpp"

#include <boost/container_hash/hash.hpp>
#include <boost/unordered/unordered_flat_map.hpp>

#include <functional>
#include <set>
#include <string>
#include <string_view>

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
    // Ids in order, for pages; each set node holds its id where it stays until erased. Only creates and
    // removes touch it; a replace, the commonest write, does not.
    using Order = std::set<std::string, std::less<>>;
    // Entries by views of the ids the order holds. An open-addressing table: a lookup in a large book
    // touches one group of slots instead of a chain of nodes (with libstdc++'s node map, a POST to a book
    // of 700,000 entries spent a tenth of its time looking for its bucket, perf).
    using Entries = boost::unordered_flat_map<std::string_view, EntryPtr, boost::hash<std::string_view>>;

    void add(std::string id, EntryPtr entry);
    void erase(Entries::iterator it);
    [[nodiscard]] EntryPage collect(Order::const_iterator from, std::size_t limit) const;

    Order order_;
    Entries entries_;
    std::uint64_t version_ = 0;
};

}  // namespace addrservice
