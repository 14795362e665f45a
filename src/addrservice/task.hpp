#pragma once

// The service layer's coroutine type. Only the awaitable header is used here: no sockets, no Beast.
#include <boost/asio/awaitable.hpp>

namespace addrservice {

template <typename T = void>
using Task = boost::asio::awaitable<T>;

}  // namespace addrservice
