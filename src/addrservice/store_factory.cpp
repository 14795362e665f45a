#include "addrservice/store_factory.hpp"

#include "addrservice/errors.hpp"
#include "addrservice/memory_store.hpp"
#include "addrservice/sqlite_store.hpp"

namespace addrservice {

std::shared_ptr<AddressStore> make_store(const StoreConfig& config)
{
    switch (config.kind) {
        case StoreConfig::Kind::memory:
            return std::make_shared<MemoryStore>();
        case StoreConfig::Kind::sqlite:
            try {
                return std::make_shared<SqliteStore>(config.location);
            } catch (const StoreError& e) {
                throw ConfigError(std::string("config: addr-db.sqlite: ") + e.what());
            }
        case StoreConfig::Kind::fs:
        case StoreConfig::Kind::postgres:
            break;
    }
    throw ConfigError("config: addr-db: the " + describe(config).substr(0, describe(config).find(':')) +
                      " store is not available in this version; use memory or sqlite");
}

}  // namespace addrservice
