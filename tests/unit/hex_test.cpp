#include "addrservice/hex.hpp"

#include <gtest/gtest.h>

#include <string>

namespace addrservice {
namespace {

TEST(Hex, DigitsAreLowerCaseAndOnlyTheLowFourBitsCount)
{
    std::string digits;
    for (std::uint64_t value = 0; value < 16; ++value) {
        digits += hex_digit(value);
    }
    EXPECT_EQ(digits, "0123456789abcdef");
    EXPECT_EQ(hex_digit(0xA0U), '0');
    EXPECT_EQ(hex_digit(0xFFFF'FFFF'FFFF'FFF7U), '7');
    static_assert(hex_digit(0xBU) == 'b');
}

}  // namespace
}  // namespace addrservice
