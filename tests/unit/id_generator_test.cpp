#include "addrservice/id_generator.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <regex>
#include <set>
#include <string>

namespace addrservice {
namespace {

std::uint64_t millisecond_of(const std::string& id)
{
    return std::stoull(id.substr(0, 12), nullptr, 16);
}

unsigned counter_of(const std::string& id)
{
    return static_cast<unsigned>(std::stoul(id.substr(12, 4), nullptr, 16));
}

std::uint64_t unix_ms_now()
{
    const auto now = std::chrono::system_clock::now().time_since_epoch();
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(now).count());
}

TEST(IdGenerator, IdsAre32LowerCaseHexDigitsThatBeginWithTheMillisecondTheyWereMadeIn)
{
    IdGenerator ids;
    const auto before = unix_ms_now();
    const auto id = ids.next();
    const auto after = unix_ms_now();
    EXPECT_TRUE(std::regex_match(id, std::regex("[0-9a-f]{32}"))) << id;
    EXPECT_GE(millisecond_of(id), before);
    EXPECT_LE(millisecond_of(id), after);
    EXPECT_EQ(millisecond_of(IdGenerator().next(0x0123'4567'89ABU)), 0x0123'4567'89ABU);
}

TEST(IdGenerator, IdsStrictlyIncreaseWithinAMillisecondAndAcrossMilliseconds)
{
    IdGenerator ids;
    std::string last;
    for (std::uint64_t ms = 1'700'000'000'000; ms < 1'700'000'000'010; ++ms) {
        for (int i = 0; i < 1000; ++i) {
            const auto id = ids.next(ms);
            EXPECT_GT(id, last);
            EXPECT_EQ(millisecond_of(id), ms);
            last = id;
        }
    }
}

TEST(IdGenerator, NoTwoIdsShareTheirRandomPart)
{
    IdGenerator ids;
    std::set<std::string> random_parts;
    for (int i = 0; i < 5000; ++i) {  // many times the random bytes drawn at once
        random_parts.insert(ids.next(1'700'000'000'000).substr(16));
    }
    EXPECT_EQ(random_parts.size(), 5000U);
}

TEST(IdGenerator, ACounterStartsBelowHalfItsRangeAtARandomValueInEachMillisecond)
{
    IdGenerator ids;
    std::set<unsigned> firsts;
    for (std::uint64_t ms = 1; ms <= 64; ++ms) {
        const auto first = counter_of(ids.next(ms));
        EXPECT_LT(first, 0x8000U);
        firsts.insert(first);
        EXPECT_EQ(counter_of(ids.next(ms)), first + 1);
    }
    EXPECT_GT(firsts.size(), 32U);
}

TEST(IdGenerator, IdsStillIncreaseWhenTheClockStepsBack)
{
    IdGenerator ids;
    const auto late = ids.next(1'700'000'005'000);
    const auto early = ids.next(1'700'000'000'000);
    EXPECT_GT(early, late);
    EXPECT_EQ(millisecond_of(early), 1'700'000'005'000U);
}

TEST(IdGenerator, AFullMillisecondBorrowsTheNext)
{
    IdGenerator ids;
    std::string last = ids.next(5000);
    unsigned made = 1;
    while (millisecond_of(last) == 5000) {
        const auto id = ids.next(5000);
        ASSERT_GT(id, last);
        last = id;
        ++made;
    }
    EXPECT_EQ(millisecond_of(last), 5001U);
    EXPECT_GE(made, 0x8000U);  // at least half the counter's range fits in one millisecond
    EXPECT_LE(made, 0x10001U);
    EXPECT_GT(ids.next(5001), last);
}

TEST(IdGenerator, TwoGeneratorsInOneMillisecondMakeDifferentIds)
{
    IdGenerator first;
    IdGenerator second;
    std::set<std::string> made;
    for (int i = 0; i < 1000; ++i) {
        made.insert(first.next(42));
        made.insert(second.next(42));
    }
    EXPECT_EQ(made.size(), 2000U);
}

}  // namespace
}  // namespace addrservice
