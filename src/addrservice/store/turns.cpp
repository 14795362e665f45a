#include "addrservice/store/turns.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>

#include <algorithm>
#include <deque>
#include <functional>
#include <map>
#include <utility>

namespace addrservice {

namespace {

/// A coroutine waiting for a key's turn: its timer ends the wait, when the turn comes or at the deadline.
struct Waiter {
    Waiter(const boost::asio::any_io_executor& executor, Turns::Clock::time_point until) : timer(executor, until) {}

    boost::asio::steady_timer timer;
    bool granted = false;
};

}  // namespace

/// The keys whose turn someone holds, each with who waits for it next, in order.
struct Turns::Queues {
    std::map<std::string, std::deque<std::shared_ptr<Waiter>>, std::less<>> held;

    /// The key's turn goes to its first waiter, or to nobody.
    void pass(const std::string& key)
    {
        const auto found = held.find(key);
        if (found == held.end()) {
            return;
        }
        auto& waiting = found->second;
        if (waiting.empty()) {
            held.erase(found);
            return;
        }
        const auto next = waiting.front();
        waiting.pop_front();
        next->granted = true;
        next->timer.cancel();
    }

    /// A waiter that gave up (its deadline, a cancellation, its coroutine destroyed) leaves the queue.
    void forget(const std::string& key, const std::shared_ptr<Waiter>& waiter)
    {
        if (const auto found = held.find(key); found != held.end()) {
            auto& waiting = found->second;
            waiting.erase(std::remove(waiting.begin(), waiting.end(), waiter), waiting.end());
        }
    }
};

namespace {

/// Takes a waiter out of its queue when its wait ends without the turn, however it ends.
class Queued {
public:
    Queued(Turns::Queues& queues, const std::string& key, std::shared_ptr<Waiter> waiter)
        : queues_(queues), key_(key), waiter_(std::move(waiter))
    {
        queues_.held[key_].push_back(waiter_);
    }
    ~Queued()
    {
        if (!waiter_->granted) {
            queues_.forget(key_, waiter_);
        }
    }
    Queued(const Queued&) = delete;
    Queued& operator=(const Queued&) = delete;
    Queued(Queued&&) = delete;
    Queued& operator=(Queued&&) = delete;

private:
    Turns::Queues& queues_;
    const std::string& key_;
    std::shared_ptr<Waiter> waiter_;
};

}  // namespace

Turns::Turn::Turn(std::shared_ptr<Queues> queues, std::string key) : queues_(std::move(queues)), key_(std::move(key)) {}

Turns::Turn::~Turn()
{
    if (queues_) {
        queues_->pass(key_);
    }
}

Turns::Turns() : queues_(std::make_shared<Queues>()) {}

Task<std::optional<Turns::Turn>> Turns::take(std::string key, Clock::time_point until)
{
    auto queues = queues_;
    if (!queues->held.contains(key)) {
        queues->held.emplace(key, std::deque<std::shared_ptr<Waiter>>{});
        co_return Turn(std::move(queues), std::move(key));
    }
    const auto waiter = std::make_shared<Waiter>(co_await boost::asio::this_coro::executor, until);
    {
        const Queued queued(*queues, key, waiter);
        const auto [error] = co_await waiter->timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
        if (!waiter->granted && error) {
            throw boost::system::system_error(error);
        }
    }
    if (!waiter->granted) {
        co_return std::nullopt;
    }
    co_return Turn(std::move(queues), std::move(key));
}

}  // namespace addrservice
