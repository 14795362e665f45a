// Boost.JSON is compiled once, here, for the service layer.
#include <boost/json/src.hpp>
