#include "addrservice/store_factory.hpp"

#include "addrservice/errors.hpp"
#include "addrservice/fs_store.hpp"
#include "addrservice/memory_store.hpp"
#include "addrservice/sqlite_store.hpp"

namespace addrservice {

std::shared_ptr<AddressStore> make_store(const StoreConfig& config)
{
    try {
        switch (config.kind) {
            case StoreConfig::Kind::memory:
                return std::make_shared<MemoryStore>();
            case StoreConfig::Kind::sqlite:
                return std::make_shared<SqliteStore>(config.location);
            case StoreConfig::Kind::fs:
                return std::make_shared<FsStore>(config.location);
            case StoreConfig::Kind::postgres:
                break;
        }
    } catch (const StoreError& e) {
        throw ConfigError(std::string("config: addr-db: ") + e.what());
    }
    throw ConfigError("config: addr-db: the postgres store is not available in this version; use sqlite, fs or memory");
}

}  // namespace addrservice
