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

TEST(Hex, AppendHexWritesTheLowDigitsMostSignificantFirst)
{
    std::string out = "x";
    append_hex(out, 0x0123'4567'89AB'CDEFU, 16);
    EXPECT_EQ(out, "x0123456789abcdef");
    out.clear();
    append_hex(out, 0xFFFF'0000'00AB'C00DU, 4);
    EXPECT_EQ(out, "c00d");
    append_hex(out, 0x5U, 3);
    EXPECT_EQ(out, "c00d005");
}

}  // namespace
}  // namespace addrservice
