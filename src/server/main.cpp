#include "server/service.hpp"

#ifdef ADDRSERVICE_JEMALLOC
// jemalloc reads its options from this symbol (then from MALLOC_CONF, which wins). Transparent huge pages
// for the heap: a POST to the memory store writes about a kilobyte of memory never touched before, and
// the first-touch faults of 4 KiB pages took about 8 % of the server's time under load (perf, on a
// virtual machine); 2 MiB pages fault 512 times less often. Two arenas rather than jemalloc's four per
// core: the event loop's, and one for the log writer and the store thread, so that an idle process keeps
// 23 MB resident rather than 28 MB (15 MB without huge pages). README "Performance" has the figures.
// NOLINTBEGIN(cppcoreguidelines-avoid-non-const-global-variables): jemalloc declares it so
extern "C" const char* malloc_conf;
const char* malloc_conf = "thp:always,narenas:2";
// NOLINTEND(cppcoreguidelines-avoid-non-const-global-variables)
#endif

int main(int argc, char** argv)
{
    return addrservice::http::main_entry(argc, argv);
}
