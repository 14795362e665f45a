#include "addrservice/store_factory.hpp"

#include "addrservice/memory_store.hpp"

namespace addrservice {

std::shared_ptr<AddressStore> make_store(const StoreConfig& config)
{
    switch (config.kind) {
        case StoreConfig::Kind::memory:
            return std::make_shared<MemoryStore>();
        case StoreConfig::Kind::fs:
        case StoreConfig::Kind::sqlite:
        case StoreConfig::Kind::postgres:
            break;
    }
    throw ConfigError("config: addr-db: the " + describe(config).substr(0, describe(config).find(':')) +
                      " store is not available in this version; use memory");
}

}  // namespace addrservice
