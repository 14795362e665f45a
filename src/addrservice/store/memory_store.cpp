#include "addrservice/store/memory_store.hpp"

#include "addrservice/store/store.hpp"

#include <algorithm>

namespace addrservice {

// Everything here runs on the caller's thread without suspending, so each check and the write that
// follows it are one atomic step.

void MemoryStore::add(std::string id, EntryPtr entry)
{
    // The service makes ids in increasing order, so a new id most often goes last: then the hint makes the
    // insert constant time instead of a walk down the tree. The order holds every id the table does, so
    // an id it already held is a duplicate, told without a lookup in the table.
    const auto before = order_.size();
    const auto kept = order_.emplace_hint(order_.end(), std::move(id));
    if (order_.size() == before) {
        throw StoreError("duplicate id");
    }
    try {
        entries_.emplace(std::string_view(*kept), std::move(entry));
    } catch (...) {
        order_.erase(kept);
        throw;
    }
    ++version_;
}

void MemoryStore::erase(Entries::iterator it)
{
    const auto kept = order_.find(it->first);
    entries_.erase(it);  // before the id it views goes
    order_.erase(kept);
    ++version_;
}

Task<void> MemoryStore::create(std::string id, EntryPtr entry)
{
    require_valid_id(id);
    add(std::move(id), std::move(entry));
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
    const auto it = entries_.find(id);
    if (it == entries_.end()) {
        co_return false;
    }
    erase(it);
    co_return true;
}

Task<std::vector<std::pair<std::string, EntryPtr>>> MemoryStore::list()
{
    co_return collect(order_.begin(), order_.size());
}

Task<WriteResult> MemoryStore::replace_if(std::string id, std::string expected_etag, EntryPtr entry)
{
    require_valid_id(id);
    const auto it = entries_.find(id);
    if (it == entries_.end()) {
        co_return WriteResult{WriteStatus::not_found, {}};
    }
    if (it->second->etag != expected_etag) {
        co_return WriteResult{WriteStatus::precondition_failed, it->second->etag};
    }
    it->second = std::move(entry);
    ++version_;
    co_return WriteResult{};
}

Task<WriteResult> MemoryStore::remove_if(std::string id, std::string expected_etag)
{
    require_valid_id(id);
    const auto it = entries_.find(id);
    if (it == entries_.end()) {
        co_return WriteResult{WriteStatus::not_found, {}};
    }
    if (it->second->etag != expected_etag) {
        co_return WriteResult{WriteStatus::precondition_failed, it->second->etag};
    }
    erase(it);
    co_return WriteResult{};
}

Task<WriteResult> MemoryStore::create_if_absent(std::string id, EntryPtr entry)
{
    require_valid_id(id);
    if (const auto it = entries_.find(id); it != entries_.end()) {
        co_return WriteResult{WriteStatus::precondition_failed, it->second->etag};
    }
    add(std::move(id), std::move(entry));
    co_return WriteResult{};
}

Task<EntryPage> MemoryStore::range(std::string after, std::size_t limit)
{
    require_valid_after(after);
    co_return collect(after.empty() ? order_.begin() : order_.upper_bound(after), limit);
}

EntryPage MemoryStore::collect(Order::const_iterator from, std::size_t limit) const
{
    EntryPage page;
    page.reserve(std::min(limit, entries_.size()));
    for (auto it = from; it != order_.end() && page.size() < limit; ++it) {
        page.emplace_back(*it, entries_.find(*it)->second);
    }
    return page;
}

Task<bool> MemoryStore::ready()
{
    co_return true;
}

}  // namespace addrservice
