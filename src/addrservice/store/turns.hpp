#pragma once

#include "addrservice/task.hpp"

#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace addrservice {

/// Lets the coroutines of one event loop through one at a time per key, in the order they asked. A
/// store's modify() of an entry takes the entry's turn, so that it waits for the modifies of that entry
/// started before it rather than racing them: racing, each round of reads and conditional writes lets
/// one of them through, and the last of N writers needs N tries.
class Turns {
public:
    using Clock = std::chrono::steady_clock;
    struct Queues;  // defined where it is used: turns.cpp

    /// A key's turn, held until it is destroyed; then it is the next waiter's.
    class Turn {
    public:
        ~Turn();
        Turn(Turn&& other) noexcept = default;
        Turn& operator=(Turn&& other) = delete;
        Turn(const Turn&) = delete;
        Turn& operator=(const Turn&) = delete;

    private:
        friend class Turns;
        Turn(std::shared_ptr<Queues> queues, std::string key);

        std::shared_ptr<Queues> queues_;  // null once moved from
        std::string key_;
    };

    Turns();

    /// The key's turn, once everyone who asked for it before has had theirs; nullopt when that is not
    /// before `until`. Throws when the wait is cancelled.
    Task<std::optional<Turn>> take(std::string key, Clock::time_point until = Clock::time_point::max());

private:
    std::shared_ptr<Queues> queues_;  // shared with every turn, which may outlive this
};

}  // namespace addrservice
