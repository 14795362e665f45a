#include "server/cli.hpp"

#include <malloc.h>

int main(int argc, char** argv)
{
    // Large response bodies (a list of thousands of entries) come from the heap and are reused there:
    // glibc would otherwise map fresh pages for each one and fault them in as they are written.
    constexpr int large = 64 * 1024 * 1024;
    mallopt(M_MMAP_THRESHOLD, large);
    mallopt(M_TRIM_THRESHOLD, 2 * large);
    return addrservice::http::main_entry(argc, argv);
}
