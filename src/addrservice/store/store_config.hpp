#pragma once

#include <string>

namespace addrservice {

/// Which store holds the address book (the config's addr-db), and where.
struct StoreConfig {
    enum class Kind { memory, fs, sqlite, postgres };
    // The default store: embedded and durable, relative to the working directory.
    Kind kind = Kind::sqlite;
    std::string location = "./var/addressbook.db";  // a directory, a file or a URL; empty for memory
};

}  // namespace addrservice
