#pragma once

#include "addrservice/store/store.hpp"

namespace addrservice {

class StoreThread;

/// The AddressStore operations of a store whose work blocks (files, a database): each checks the id,
/// hands the matching member function of Store to Store's thread and awaits it there. Store provides
/// create_now, read_now, replace_now, remove_now, list_now, replace_if_now, remove_if_now,
/// create_if_absent_now, range_now and ready_now (run on the thread) and
/// thread_ (a std::unique_ptr<StoreThread>), and makes this class its friend. The definitions are in
/// threaded_store_impl.hpp, instantiated once in Store's .cpp, so that Asio stays out of this header.
template <typename Store>
class ThreadedStore : public AddressStore {
public:
    Task<void> create(std::string id, EntryPtr entry) final;
    Task<EntryPtr> read(std::string id) final;
    Task<bool> replace(std::string id, EntryPtr entry) final;
    Task<bool> remove(std::string id) final;
    Task<std::vector<std::pair<std::string, EntryPtr>>> list() final;
    Task<WriteResult> replace_if(std::string id, std::string expected_etag, EntryPtr entry) final;
    Task<WriteResult> remove_if(std::string id, std::string expected_etag) final;
    Task<WriteResult> create_if_absent(std::string id, EntryPtr entry) final;
    Task<EntryPage> range(std::string after, std::size_t limit) final;
    Task<bool> ready() final;

private:
    Store* store() noexcept { return static_cast<Store*>(this); }
};

}  // namespace addrservice
