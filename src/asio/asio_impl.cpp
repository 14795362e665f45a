// Asio is compiled once, here (BOOST_ASIO_SEPARATE_COMPILATION), for both layers.
#include <boost/asio/impl/src.hpp>
