#include "addrservice/store/store_factory.hpp"

#include "addrservice/store/fs_store.hpp"
#include "addrservice/store/memory_store.hpp"
#include "addrservice/store/postgres_store.hpp"
#include "addrservice/store/sqlite_store.hpp"

namespace addrservice {

std::shared_ptr<AddressStore> make_store(const StoreConfig& config, boost::asio::io_context& io)
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
                return std::make_shared<PostgresStore>(config, io);
        }
    } catch (const StoreOpenError&) {
        throw;
    } catch (const StoreUnavailableError&) {
        throw;  // a runtime failure (the server is down), not a configuration one
    } catch (const StoreError& e) {
        throw StoreOpenError(e.what());
    }
    throw StoreOpenError("unknown store kind");
}

}  // namespace addrservice
