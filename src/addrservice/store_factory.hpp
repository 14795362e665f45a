#pragma once

#include "addrservice/config.hpp"
#include "addrservice/store.hpp"

#include <memory>

namespace addrservice {

/// The store that addr-db names. Throws ConfigError when it cannot be opened or is not available.
std::shared_ptr<AddressStore> make_store(const StoreConfig& config);

}  // namespace addrservice
