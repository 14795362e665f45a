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
/// input is a client error rather than deep recursion later. Integers that fit std::int64_t or
/// std::uint64_t are those; any other integer (and "-0") is an exact integer (below); numbers with a
/// fraction or an exponent are read to the nearest double (one too large for a double becomes
/// infinite); a key given twice keeps its last value.
boost::json::value parse_json_body(std::string_view text, boost::json::storage_ptr storage = {},
                                   std::size_t max_depth = max_json_depth);

/// An integer Boost.JSON cannot hold as written (beyond 64 bits, or "-0") is carried as a string: this
/// byte, then the integer's text. UTF-8 never contains the byte, so no string of a parsed document can
/// be taken for one.
inline constexpr char exact_integer_marker = '\xFF';

/// True when a parsed string is an exact integer's text, marker first.
inline bool is_exact_integer(std::string_view text) noexcept
{
    return !text.empty() && text.front() == exact_integer_marker;
}

/// The text of the exact integer value carries ("-12345678901234567890123"), or "" when it carries none.
std::string_view exact_integer_text(const boost::json::value& value) noexcept;

/// The canonical text of a value: no whitespace, object keys sorted, strings escaped as JSON requires
/// (and nothing else), integers as written (exact integers too), other numbers in their shortest form
/// that reads back to the same double (with ".0" when that form looks like an integer). Throws
/// std::invalid_argument for a number JSON cannot carry (infinite or NaN). size_hint: the length the
/// text is likely to have (say, that of the text the value was parsed from), reserved at once.
std::string canonical_json(const boost::json::value& value, std::size_t size_hint = 0);

/// Appends '/' and a JSON pointer token naming key (RFC 6901: '~' is "~0", '/' is "~1").
void append_pointer_token(std::string& pointer, std::string_view key);

}  // namespace addrservice
