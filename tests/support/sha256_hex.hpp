#pragma once

#include "addrservice/auth.hpp"

#include <string>
#include <string_view>

namespace addrservice::testing {

/// The SHA-256 of text as a tokens file writes it: 64 lower-case hex digits.
inline std::string sha256_hex(std::string_view text)
{
    static constexpr std::string_view digits = "0123456789abcdef";
    std::string hex;
    for (const auto byte : sha256(text)) {
        hex += digits[byte >> 4U];
        hex += digits[byte & 0xfU];
    }
    return hex;
}

}  // namespace addrservice::testing
