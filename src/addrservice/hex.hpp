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

/// Appends the low `digits` hex digits of value to out, most significant first (16 for all of it).
inline void append_hex(std::string& out, std::uint64_t value, unsigned digits)
{
    for (unsigned i = digits; i > 0; --i) {
        out += hex_digit(value >> ((i - 1) * 4U));
    }
}

}  // namespace addrservice
