#include "server/service.hpp"

int main(int argc, char** argv)
{
    return addrservice::http::main_entry(argc, argv);
}
