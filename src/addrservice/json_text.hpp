#pragma once

#include <boost/json/storage_ptr.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace boost::json {
class value;
}  // namespace boost::json

namespace addrservice {

/// The deepest nesting of arrays and objects a request body may have; the outermost counts as one.
inline constexpr std::size_t max_json_depth = 64;

/// Parses a request body as UTF-8 JSON into values that live in storage (the default: the heap).
/// Throws InvalidJsonError when it is not JSON, not UTF-8, or nested deeper than max_depth, so deep
/// input is a client error rather than deep recursion later. Numbers with a fraction or an exponent
/// are read to the nearest double (a number too large for one becomes infinite); a key given twice
/// keeps its last value.
boost::json::value parse_json_body(std::string_view text, boost::json::storage_ptr storage = {},
                                   std::size_t max_depth = max_json_depth);

/// The canonical text of a value: no whitespace, object keys sorted, strings escaped as JSON requires
/// (and nothing else), integers as written, other numbers in their shortest form that reads back to
/// the same double (with ".0" when that form looks like an integer). Throws std::invalid_argument for
/// a number JSON cannot carry (infinite or NaN).
std::string canonical_json(const boost::json::value& value);

}  // namespace addrservice
