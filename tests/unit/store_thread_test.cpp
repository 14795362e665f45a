#include "addrservice/store/store_thread.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <gtest/gtest.h>

#include <future>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace addrservice {
namespace {

namespace asio = boost::asio;

/// Records what the store thread does around each batch; can be told to fail.
class RecordingScope final : public BatchScope {
public:
    void begin(bool writes) override { events.push_back(writes ? "begin write" : "begin read"); }
    void commit() override
    {
        events.emplace_back("commit");
        if (fail_commit) {
            throw std::runtime_error("commit failed");
        }
    }
    [[nodiscard]] bool intact() override { return !broken; }
    void rollback() noexcept override { events.emplace_back("rollback"); }

    std::vector<std::string> events;  // written on the store thread, read after it is idle
    bool fail_commit = false;
    bool broken = false;
};

/// Holds the store thread inside a piece of work until opened, so that what is started meanwhile
/// queues up as one batch.
class Gate {
public:
    /// Starts the waiting piece on io and returns once the store thread is inside it.
    void hold(StoreThread& thread, asio::io_context& io)
    {
        auto work = [entered = std::make_shared<std::promise<void>>(std::move(entered_)), open = open_] {
            entered->set_value();
            open.wait();
            return 0;
        };
        result_ = asio::co_spawn(io, thread.run(work, Access::read), asio::use_future);
        io.poll();
        entered_future_.wait();
    }
    void open() { opened_.set_value(); }
    int result() { return result_.get(); }

private:
    std::promise<void> entered_;
    std::future<void> entered_future_ = entered_.get_future();
    std::promise<void> opened_;
    std::shared_future<void> open_ = opened_.get_future().share();
    std::future<int> result_;
};

Task<int> twice(StoreThread& thread, int value, Access access)
{
    auto work = [value] { return value * 2; };
    co_return co_await thread.run(work, access);
}

Task<int> failing(StoreThread& thread)
{
    auto work = []() -> int { throw std::invalid_argument("bad piece"); };
    co_return co_await thread.run(work);
}

TEST(StoreThread, ResultsAndExceptionsReachTheCallerFromAnotherThread)
{
    StoreThread thread;
    asio::io_context io;
    const auto caller = std::this_thread::get_id();
    auto where = [] { return std::this_thread::get_id(); };
    auto id = asio::co_spawn(io, thread.run(where), asio::use_future);
    auto doubled = asio::co_spawn(io, twice(thread, 21, Access::read), asio::use_future);
    auto failed = asio::co_spawn(io, failing(thread), asio::use_future);
    io.run();
    EXPECT_NE(id.get(), caller);
    EXPECT_EQ(doubled.get(), 42);
    EXPECT_THROW(failed.get(), std::invalid_argument);
}

/// Holds the store thread at a gate, starts count pieces (the last one a write when any_write), then
/// opens the gate and runs them all; results[i - 1] is piece i's.
struct Batch {
    asio::io_context io;
    Gate gate;
    std::vector<std::future<int>> results;

    void start(StoreThread& thread, int count, bool any_write)
    {
        gate.hold(thread, io);
        for (int i = 1; i <= count; ++i) {
            const auto access = any_write && i == count ? Access::write : Access::read;
            results.push_back(asio::co_spawn(io, twice(thread, i, access), asio::use_future));
        }
        io.poll();  // every coroutine runs up to its await: all queued behind the gate
        gate.open();
        io.run();
        EXPECT_EQ(gate.result(), 0);  // the gate ran alone, outside any batch
    }
};

TEST(StoreThread, WorkStartedWhileBusyRunsAsOneCommittedBatchInOrder)
{
    RecordingScope scope;
    {
        StoreThread thread(&scope);
        Batch batch;
        batch.start(thread, 5, true);
        for (int i = 1; i <= 5; ++i) {
            EXPECT_EQ(batch.results[static_cast<std::size_t>(i - 1)].get(), i * 2);
        }
    }
    // The gate ran alone (no scope for a single piece); the five others shared one write transaction.
    EXPECT_EQ(scope.events, (std::vector<std::string>{"begin write", "commit"}));
}

TEST(StoreThread, AReadOnlyBatchBeginsAReadTransaction)
{
    RecordingScope scope;
    {
        StoreThread thread(&scope);
        Batch batch;
        batch.start(thread, 3, false);
        EXPECT_EQ(batch.results[2].get(), 6);
    }
    EXPECT_EQ(scope.events, (std::vector<std::string>{"begin read", "commit"}));
}

TEST(StoreThread, AFailedCommitFailsEveryPieceOfTheBatch)
{
    RecordingScope scope;
    scope.fail_commit = true;
    StoreThread thread(&scope);
    Batch batch;
    batch.start(thread, 3, true);
    for (auto& result : batch.results) {
        EXPECT_THROW(result.get(), std::runtime_error);
    }
}

TEST(StoreThread, APieceThatBreaksTheBatchStopsItAndFailsTheRest)
{
    RecordingScope scope;
    scope.broken = true;
    {
        StoreThread thread(&scope);
        asio::io_context io;
        Gate gate;
        gate.hold(thread, io);
        auto ok_before = asio::co_spawn(io, twice(thread, 1, Access::write), asio::use_future);
        auto bad = asio::co_spawn(io, failing(thread), asio::use_future);
        auto after = asio::co_spawn(io, twice(thread, 3, Access::write), asio::use_future);
        io.poll();
        gate.open();
        io.run();
        EXPECT_EQ(gate.result(), 0);
        // The piece before the failure ran, but its transaction is gone: it must not report success.
        EXPECT_THROW(ok_before.get(), std::invalid_argument);
        EXPECT_THROW(bad.get(), std::invalid_argument);
        EXPECT_THROW(after.get(), std::invalid_argument);
    }
    EXPECT_EQ(scope.events, (std::vector<std::string>{"begin write", "rollback"}));
}

}  // namespace
}  // namespace addrservice
