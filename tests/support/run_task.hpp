#pragma once

#include "addrservice/task.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <chrono>
#include <future>
#include <stdexcept>

namespace addrservice::testing {

/// Runs a coroutine to completion on a fresh io_context and returns its result (or rethrows).
template <typename T>
T run_task(Task<T> task)
{
    boost::asio::io_context io;
    auto future = boost::asio::co_spawn(io, std::move(task), boost::asio::use_future);
    io.run();
    return future.get();
}

/// Runs a coroutine on io until it completes, with io's other work (a store's connections, say) running
/// alongside, and returns its result (or rethrows).
template <typename T>
T run_task(boost::asio::io_context& io, Task<T> task)
{
    auto future = boost::asio::co_spawn(io, std::move(task), boost::asio::use_future);
    io.restart();
    while (future.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
        if (io.run_one() == 0) {
            throw std::logic_error("run_task: the loop ran out of work before the task finished");
        }
    }
    return future.get();
}

}  // namespace addrservice::testing
