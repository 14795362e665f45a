#pragma once

#include "addrservice/store/store.hpp"
#include "addrservice/store/store_config.hpp"

#include <memory>

namespace addrservice {

/// The store that addr-db names. Throws StoreOpenError, naming the cause, when it
/// cannot be opened or is not available.
std::shared_ptr<AddressStore> make_store(const StoreConfig& config);

}  // namespace addrservice
