// Beast is compiled once, here (BOOST_BEAST_SEPARATE_COMPILATION).
#include <boost/beast/src.hpp>
// And Asio's TLS part (OpenSSL), which only the HTTP layer uses.
#include <boost/asio/ssl/impl/src.hpp>
