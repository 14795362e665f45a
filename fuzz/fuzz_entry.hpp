#pragma once

#include "checks.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string_view>

namespace addrservice::fuzz {

/// Runs a check on libFuzzer's input; a finding, or any exception that escapes the check, is printed
/// and aborts, which libFuzzer reports as a crash and keeps the input.
inline int run_check(void (*check)(std::string_view), const std::uint8_t* data, std::size_t size) noexcept
{
    try {
        // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): libFuzzer's bytes as text
        check(std::string_view(reinterpret_cast<const char*>(data), size));
    } catch (const Finding& finding) {
        std::fprintf(stderr, "FINDING: %s\n", finding.what());  // NOLINT(cppcoreguidelines-pro-type-vararg)
        std::abort();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "FINDING: an exception escaped the check: %s\n", e.what());  // NOLINT
        std::abort();
    } catch (...) {
        std::fprintf(stderr, "FINDING: an exception escaped the check\n");  // NOLINT
        std::abort();
    }
    return 0;
}

}  // namespace addrservice::fuzz
