#pragma once

#include <cstdint>
#include <string>
#include <string_view>

// Includes nothing of ours, so every layer may use it, the stores included.
namespace addrservice {

/// The lower-case hex digit of a value's low four bits (the higher bits are ignored).
constexpr char hex_digit(std::uint64_t value) noexcept
{
    constexpr std::string_view digits = "0123456789abcdef";
    return digits[value & 0xFU];
}

/// The value of a hex digit, either case, or -1 for any other character.
constexpr int hex_value(char c) noexcept
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/// Appends the low `digits` hex digits of value to out, most significant first (16 for all of it).
inline void append_hex(std::string& out, std::uint64_t value, unsigned digits)
{
    // One change of size, then the digits in place from the last: a request id took 32 appends of a
    // character, each checking the capacity, about 2 % of a GET's instructions.
    const auto start = out.size();
    out.resize(start + digits);
    for (auto at = out.size(); at > start; --at) {
        out[at - 1] = hex_digit(value);
        value >>= 4U;
    }
}

}  // namespace addrservice
