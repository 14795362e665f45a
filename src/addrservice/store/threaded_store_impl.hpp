#pragma once

#include "addrservice/store/store.hpp"
#include "addrservice/store/store_thread.hpp"
#include "addrservice/store/threaded_store.hpp"

#include <functional>

namespace addrservice {

// The callables are named and moved in: g++ 12 mishandles a temporary as a coroutine argument.

template <typename Store>
Task<void> ThreadedStore<Store>::create(std::string id, EntryPtr entry)
{
    require_valid_id(id);
    auto work = std::bind_front(&Store::create_now, store(), std::move(id), std::move(entry));
    co_await store()->thread_->run(std::move(work));
}

template <typename Store>
Task<EntryPtr> ThreadedStore<Store>::read(std::string id)
{
    require_valid_id(id);
    auto work = std::bind_front(&Store::read_now, store(), std::move(id));
    co_return co_await store()->thread_->run(std::move(work), Access::read);
}

template <typename Store>
Task<bool> ThreadedStore<Store>::replace(std::string id, EntryPtr entry)
{
    require_valid_id(id);
    auto work = std::bind_front(&Store::replace_now, store(), std::move(id), std::move(entry));
    const bool replaced = co_await store()->thread_->run(std::move(work));
    co_return replaced;
}

template <typename Store>
Task<bool> ThreadedStore<Store>::remove(std::string id)
{
    require_valid_id(id);
    auto work = std::bind_front(&Store::remove_now, store(), std::move(id));
    const bool removed = co_await store()->thread_->run(std::move(work));
    co_return removed;
}

template <typename Store>
Task<std::vector<std::pair<std::string, EntryPtr>>> ThreadedStore<Store>::list()
{
    auto work = std::bind_front(&Store::list_now, store());
    co_return co_await store()->thread_->run(std::move(work), Access::read);
}

template <typename Store>
Task<WriteResult> ThreadedStore<Store>::replace_if(std::string id, std::string expected_etag, EntryPtr entry)
{
    require_valid_id(id);
    auto work =
        std::bind_front(&Store::replace_if_now, store(), std::move(id), std::move(expected_etag), std::move(entry));
    co_return co_await store()->thread_->run(std::move(work));
}

template <typename Store>
Task<WriteResult> ThreadedStore<Store>::remove_if(std::string id, std::string expected_etag)
{
    require_valid_id(id);
    auto work = std::bind_front(&Store::remove_if_now, store(), std::move(id), std::move(expected_etag));
    co_return co_await store()->thread_->run(std::move(work));
}

template <typename Store>
Task<WriteResult> ThreadedStore<Store>::create_if_absent(std::string id, EntryPtr entry)
{
    require_valid_id(id);
    auto work = std::bind_front(&Store::create_if_absent_now, store(), std::move(id), std::move(entry));
    co_return co_await store()->thread_->run(std::move(work));
}

template <typename Store>
Task<EntryPage> ThreadedStore<Store>::range(std::string after, std::size_t limit)
{
    require_valid_after(after);
    auto work = std::bind_front(&Store::range_now, store(), std::move(after), limit);
    co_return co_await store()->thread_->run(std::move(work), Access::read);
}

template <typename Store>
Task<bool> ThreadedStore<Store>::ready()
{
    try {
        auto work = std::bind_front(&Store::ready_now, store());
        const bool ready = co_await store()->thread_->run(std::move(work), Access::read);
        co_return ready;
    } catch (const StoreError&) {
        co_return false;  // e.g. the batch it ran in could not be committed
    }
}

}  // namespace addrservice
