#pragma once

#include <cstdint>
#include <string>

namespace addrservice {

/// Which store holds the address book (the config's addr-db), and where.
struct StoreConfig {
    enum class Kind { memory, fs, sqlite, postgres };
    // The default store: embedded and durable, relative to the working directory.
    Kind kind = Kind::sqlite;
    // A directory, a file or a libpq connection string (a URI or key=value pairs; empty: all from the PG*
    // environment variables); empty for memory.
    std::string location = "./var/addressbook.db";
    // postgres only: the connections kept open, and the longest a request waits for the database (for a
    // connection and its answer together).
    std::uint32_t pool_size = 4;
    std::uint32_t timeout_ms = 5000;
};

}  // namespace addrservice
