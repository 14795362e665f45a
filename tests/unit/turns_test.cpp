#include "addrservice/store/turns.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <exception>
#include <memory>
#include <string>
#include <vector>

namespace addrservice {
namespace {

namespace asio = boost::asio;
using Clock = Turns::Clock;
using namespace std::chrono_literals;

/// One coroutine that asks for a key's turn and, once it has it, holds it until released.
struct Holder {
    explicit Holder(std::string called) : name(std::move(called)) {}

    /// Lets the turn go (the holder must have it).
    void release() const { gate->cancel(); }

    std::string name;
    asio::steady_timer* gate = nullptr;  // the coroutine's own, while it holds the turn
    bool got = false;                    // had the turn
    bool refused = false;                // the deadline came first
    bool finished = false;
    std::exception_ptr error;
};

Task<void> hold(Turns& turns, std::string key, Holder& holder, std::vector<std::string>& order, Clock::time_point until)
{
    auto turn = co_await turns.take(std::move(key), until);
    if (!turn) {
        holder.refused = true;
        co_return;
    }
    holder.got = true;
    order.push_back(holder.name);
    asio::steady_timer gate(co_await asio::this_coro::executor, Clock::time_point::max());
    holder.gate = &gate;
    co_await gate.async_wait(asio::as_tuple(asio::use_awaitable));
}

void start(asio::io_context& io, Turns& turns, const std::string& key, Holder& holder, std::vector<std::string>& order,
           Clock::time_point until = Clock::time_point::max())
{
    asio::co_spawn(io, hold(turns, key, holder, order, until), [&holder](const std::exception_ptr& error) {
        holder.finished = true;
        holder.error = error;
    });
}

/// Runs what is ready to run, and nothing that waits for time to pass.
void settle(asio::io_context& io)
{
    io.restart();
    io.poll();
}

TEST(Turns, OneAtATimePerKeyInTheOrderAsked)
{
    asio::io_context io;
    Turns turns;
    std::vector<std::string> order;
    Holder first("first");
    Holder second("second");
    Holder third("third");
    Holder elsewhere("elsewhere");
    start(io, turns, "x", first, order);
    start(io, turns, "x", second, order);
    start(io, turns, "x", third, order);
    start(io, turns, "y", elsewhere, order);
    settle(io);
    EXPECT_EQ(order, (std::vector<std::string>{"first", "elsewhere"}));

    first.release();
    settle(io);
    EXPECT_TRUE(first.finished);
    EXPECT_EQ(order, (std::vector<std::string>{"first", "elsewhere", "second"}));
    EXPECT_FALSE(third.got);

    second.release();
    settle(io);
    EXPECT_EQ(order, (std::vector<std::string>{"first", "elsewhere", "second", "third"}));
    third.release();
    elsewhere.release();
    settle(io);
    EXPECT_TRUE(third.finished && elsewhere.finished);

    // Everyone had their turn: the next one to ask has it at once.
    Holder later("later");
    start(io, turns, "x", later, order);
    settle(io);
    EXPECT_TRUE(later.got);
    later.release();
    settle(io);
    for (const auto* holder : {&first, &second, &third, &elsewhere, &later}) {
        EXPECT_FALSE(holder->error) << holder->name;
    }
}

TEST(Turns, AWaiterWhoseDeadlineComesFirstGivesUpAndTheNextOneStillGetsItsTurn)
{
    asio::io_context io;
    Turns turns;
    std::vector<std::string> order;
    Holder holding("holding");
    Holder hurried("hurried");
    Holder patient("patient");
    start(io, turns, "x", holding, order);
    start(io, turns, "x", hurried, order, Clock::now() + 50ms);
    start(io, turns, "x", patient, order);
    io.restart();
    while (!hurried.finished && io.run_one_for(5s) > 0) {
    }
    EXPECT_TRUE(hurried.refused);
    EXPECT_FALSE(hurried.got);
    EXPECT_FALSE(patient.got);

    holding.release();
    settle(io);
    EXPECT_EQ(order, (std::vector<std::string>{"holding", "patient"}));
    patient.release();
    settle(io);
    EXPECT_TRUE(patient.finished);
    EXPECT_FALSE(patient.error);
}

TEST(Turns, ACancelledWaiterThrowsAndLeavesTheQueue)
{
    asio::io_context io;
    Turns turns;
    std::vector<std::string> order;
    Holder holding("holding");
    Holder cancelled("cancelled");
    Holder next("next");
    start(io, turns, "x", holding, order);
    asio::cancellation_signal cancel;
    asio::co_spawn(io, hold(turns, "x", cancelled, order, Clock::time_point::max()),
                   asio::bind_cancellation_slot(cancel.slot(), [&cancelled](const std::exception_ptr& error) {
                       cancelled.finished = true;
                       cancelled.error = error;
                   }));
    start(io, turns, "x", next, order);
    settle(io);
    cancel.emit(asio::cancellation_type::terminal);
    settle(io);
    ASSERT_TRUE(cancelled.finished);
    EXPECT_THROW(std::rethrow_exception(cancelled.error), boost::system::system_error);
    EXPECT_FALSE(cancelled.got);

    holding.release();
    settle(io);
    EXPECT_EQ(order, (std::vector<std::string>{"holding", "next"}));
    next.release();
    settle(io);
    EXPECT_TRUE(next.finished);
}

TEST(Turns, TurnsHeldAndAwaitedWhenTheLoopIsDestroyedEndWithIt)
{
    Turns turns;
    std::vector<std::string> order;
    auto io = std::make_unique<asio::io_context>();
    {
        Holder holding("holding");
        Holder waiting("waiting");
        start(*io, turns, "x", holding, order);
        start(*io, turns, "x", waiting, order);
        settle(*io);
        EXPECT_EQ(order, std::vector<std::string>{"holding"});
        io.reset();  // destroys both coroutines, one holding the turn and one waiting for it
    }
    EXPECT_EQ(order, std::vector<std::string>{"holding"});

    // Another key is still free on a new loop.
    asio::io_context again;
    Holder other("other");
    start(again, turns, "y", other, order);
    settle(again);
    EXPECT_TRUE(other.got);
    other.release();
    settle(again);
}

}  // namespace
}  // namespace addrservice
