#include "addrservice/store/memory_store.hpp"

#include "addrservice/store/store.hpp"

#include <algorithm>

namespace addrservice {

Task<void> MemoryStore::create(std::string id, EntryPtr entry)
{
    require_valid_id(id);
    if (!entries_.emplace(std::move(id), std::move(entry)).second) {
        throw StoreError("duplicate id");
    }
    ++version_;
    co_return;
}

Task<EntryPtr> MemoryStore::read(std::string id)
{
    require_valid_id(id);
    const auto it = entries_.find(id);
    co_return it == entries_.end() ? nullptr : it->second;
}

Task<bool> MemoryStore::replace(std::string id, EntryPtr entry)
{
    require_valid_id(id);
    const auto it = entries_.find(id);
    if (it == entries_.end()) {
        co_return false;
    }
    it->second = std::move(entry);
    ++version_;
    co_return true;
}

Task<bool> MemoryStore::remove(std::string id)
{
    require_valid_id(id);
    const bool removed = entries_.erase(id) > 0;
    version_ += removed ? 1 : 0;
    co_return removed;
}

Task<std::vector<std::pair<std::string, EntryPtr>>> MemoryStore::list()
{
    std::vector<std::pair<std::string, EntryPtr>> entries(entries_.begin(), entries_.end());
    std::ranges::sort(entries, {}, &std::pair<std::string, EntryPtr>::first);
    co_return entries;
}

Task<bool> MemoryStore::ready()
{
    co_return true;
}

}  // namespace addrservice
