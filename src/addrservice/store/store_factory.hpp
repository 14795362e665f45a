#pragma once

#include "addrservice/store/store.hpp"
#include "addrservice/store/store_config.hpp"

#include <memory>

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace addrservice {

/// The store that addr-db names; a store that talks to a server (postgres) runs on io. Throws
/// StoreOpenError, naming the cause, when it cannot be opened (a bad location, a schema it does not
/// know), and StoreUnavailableError when the server cannot be reached.
std::shared_ptr<AddressStore> make_store(const StoreConfig& config, boost::asio::io_context& io);

}  // namespace addrservice
