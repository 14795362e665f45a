// libFuzzer entry point of the row target; the property it checks is check_row (checks.hpp).
#include "fuzz_entry.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    return addrservice::fuzz::run_check(addrservice::fuzz::check_row, data, size);
}
