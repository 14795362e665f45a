#pragma once

#include "addrservice/task.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <type_traits>

namespace addrservice {

/// The thread where a store's blocking work (files, a database) runs. A coroutine awaits each piece of
/// work and resumes on its own executor when it is done; its exceptions reach the awaiting coroutine.
/// Work runs one piece at a time, in the order it was started.
class StoreThread {
public:
    StoreThread() = default;
    ~StoreThread() { pool_.join(); }
    StoreThread(const StoreThread&) = delete;
    StoreThread& operator=(const StoreThread&) = delete;
    StoreThread(StoreThread&&) = delete;
    StoreThread& operator=(StoreThread&&) = delete;

    template <typename Work>
    Task<std::invoke_result_t<Work&>> run(Work work)
    {
        co_return co_await boost::asio::co_spawn(pool_, call(std::move(work)), boost::asio::use_awaitable);
    }

private:
    template <typename Work>
    static Task<std::invoke_result_t<Work&>> call(Work work)
    {
        co_return work();
    }

    boost::asio::thread_pool pool_{1};
};

}  // namespace addrservice
