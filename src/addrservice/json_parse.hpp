#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <string_view>

namespace addrservice {

/// The deepest nesting of arrays and objects a request body may have; the outermost counts as one.
inline constexpr std::size_t max_json_depth = 64;

/// Parses a request body as UTF-8 JSON. Throws InvalidJsonError when it is not JSON, not UTF-8,
/// or nested deeper than max_depth, so deep input is a client error rather than deep recursion later.
nlohmann::json parse_json_body(std::string_view text, std::size_t max_depth = max_json_depth);

}  // namespace addrservice
