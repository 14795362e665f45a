#pragma once

#include <cstdint>
#include <string_view>

// Includes nothing of ours, so every layer may use it, the stores included.
namespace addrservice {

/// The lower-case hex digit of a value's low four bits (the higher bits are ignored).
constexpr char hex_digit(std::uint64_t value) noexcept
{
    constexpr std::string_view digits = "0123456789abcdef";
    return digits[value & 0xFU];
}

}  // namespace addrservice
